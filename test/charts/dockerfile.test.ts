import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

// The Dockerfile and the chart describe one container: they must agree on where it runs, as whom
// and what it starts. No Docker daemon runs here, so the agreement is checked on the text.

const ROOT = join(import.meta.dirname, '..', '..');
const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const values = parse(readFileSync(join(ROOT, 'charts/phoebe/values.yaml'), 'utf8')) as {
  image: { workingDir: string };
  podSecurityContext?: { runAsUser: number; runAsGroup: number };
  securityContext?: { runAsUser: number; runAsGroup: number };
};
const deployment = readFileSync(join(ROOT, 'charts/phoebe/templates/deployment.yaml'), 'utf8');

/** The instructions of the last stage (the image that ships), as [keyword, argument] pairs. */
function finalStage(): Array<[string, string]> {
  const lines = dockerfile.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  const from = lines.map((l, i) => (/^FROM\s/i.test(l) ? i : -1)).filter((i) => i >= 0).pop() ?? 0;
  return lines.slice(from).map((l) => {
    const [keyword = '', ...rest] = l.split(/\s+/);
    return [keyword.toUpperCase(), rest.join(' ')];
  });
}

describe('Dockerfile', () => {
  const stage = finalStage();
  const last = (keyword: string): string | undefined => stage.filter(([k]) => k === keyword).pop()?.[1];

  it('runs in the working directory the chart expects', () => {
    expect(last('WORKDIR')).toBe(values.image.workingDir);
  });

  it('runs as the non-root user the chart\'s security context names', () => {
    const context = values.podSecurityContext ?? values.securityContext;
    expect(context, 'runAsUser in values.yaml').toBeDefined();
    expect(last('USER')).toBe(`${context?.runAsUser}:${context?.runAsGroup}`);
  });

  it('has the entry point the chart\'s command starts', () => {
    const entry = JSON.parse(last('ENTRYPOINT') ?? '[]') as string[];
    const command = /command:\s*(\[.*\])/.exec(deployment)?.[1];
    expect(command, 'command in deployment.yaml').toBeDefined();
    expect((JSON.parse(command as string) as string[]).slice(0, entry.length)).toEqual(entry);
    // `npm run build` (before the tests) produced the file the entry point runs.
    expect(existsSync(join(ROOT, entry[1] as string))).toBe(true);
  });

  it('copies only paths that exist in the repository', () => {
    const sources = dockerfile.split('\n')
      .filter((l) => /^COPY\s/i.test(l.trim()) && !/--from=/.test(l))
      .flatMap((l) => l.trim().split(/\s+/).slice(1, -1));
    expect(sources.length).toBeGreaterThan(0);
    expect(sources.filter((s) => !existsSync(join(ROOT, s)))).toEqual([]);
  });
});
