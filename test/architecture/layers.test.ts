import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { cruise, type ICruiseResult, type IForbiddenRuleType } from 'dependency-cruiser';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');

/**
 * The stages of src/, lowest first (ARCHITECTURE.md): a folder may import its own rank's folder
 * and any lower rank, never a higher one nor another folder of the same rank.
 */
const LAYERS: readonly (readonly string[])[] = [
  ['util'],
  ['observe', 'forecast'],
  ['models'],
  ['planner'],
  ['act'],
  ['export'],
  ['config'],
  ['loop'],
  ['sim'],
  ['cli'],
];

/** The rules over the folders under `root` (src, or the fixture that proves they bite). */
function layerRules(root = 'src'): IForbiddenRuleType[] {
  const rules: IForbiddenRuleType[] = [];
  LAYERS.forEach((layer, rank) => {
    const above = LAYERS.slice(rank + 1).flat();
    for (const folder of layer) {
      const forbidden = [...above, ...layer.filter((f) => f !== folder)];
      if (forbidden.length === 0) continue;
      rules.push({
        name: `${folder}-imports-only-downward`,
        severity: 'error',
        from: { path: `^${root}/${folder}/` },
        to: { path: `^${root}/(${forbidden.join('|')})/` },
      });
    }
  });
  // observe/ and act/ touch the outside world; they read no model.
  rules.push({ name: 'edges-import-no-model', severity: 'error', from: { path: `^${root}/(observe|act)/` }, to: { path: `^${root}/models/` } });
  rules.push({ name: 'no-circular', severity: 'error', from: { path: `^${root}/` }, to: { circular: true } });
  return rules;
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    return statSync(path).isDirectory() ? tsFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

describe('the layering of src/', () => {
  let result: ICruiseResult;
  beforeAll(async () => {
    process.chdir(ROOT);
    const reporting = await cruise(['src'], {
      validate: true,
      ruleSet: { forbidden: layerRules() },
      // Type-only imports count: a type from a higher stage is a dependency on it too.
      tsPreCompilationDeps: true,
      doNotFollow: { path: 'node_modules' },
    }, undefined, { tsConfig: { fileName: 'tsconfig.json' } });
    result = reporting.output as ICruiseResult;
  }, 60_000);

  it('knows every folder of src/', () => {
    const folders = readdirSync(join(ROOT, 'src')).filter((f) => statSync(join(ROOT, 'src', f)).isDirectory());
    expect(folders.sort()).toEqual(LAYERS.flat().sort());
    // The cruise saw every file, so an empty violation list means something.
    expect(result.summary.totalCruised).toBeGreaterThanOrEqual(tsFiles(join(ROOT, 'src')).length);
  });

  it('has no import that runs up a stage, and no cycle', () => {
    const violations = result.summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}${v.cycle ? ` (cycle ${v.cycle.map((c) => c.name).join(' → ')})` : ''}`);
    expect(violations).toEqual([]);
  });

  it('catches an import that runs up (the rules are live)', async () => {
    const reporting = await cruise(['test/architecture/fixture'], {
      validate: true, ruleSet: { forbidden: layerRules('test/architecture/fixture') },
      tsPreCompilationDeps: true,
    }, undefined, { tsConfig: { fileName: 'tsconfig.json' } });
    const names = new Set((reporting.output as ICruiseResult).summary.violations.map((v) => v.rule.name));
    expect([...names].sort()).toEqual(['no-circular', 'util-imports-only-downward']);
  });
});

describe('what a module loads at run time', () => {
  /** The node_modules packages `from` loads at run time: value imports only, followed through src/. */
  function packagesLoadedBy(result: ICruiseResult, from: string): Set<string> {
    const modules = new Map(result.modules.map((m) => [m.source, m]));
    const seen = new Set<string>([from]);
    const packages = new Set<string>();
    const queue = [from];
    while (queue.length > 0) {
      for (const dep of modules.get(queue.shift() as string)?.dependencies ?? []) {
        // A type-only import is erased: Node never loads it.
        if (dep.dependencyTypes.some((t) => t === 'type-only' || t === 'type-import')) continue;
        const pkg = /node_modules\/((@[^/]+\/)?[^/]+)/.exec(dep.resolved)?.[1];
        if (pkg) packages.add(pkg);
        else if (dep.resolved.startsWith('src/') && !seen.has(dep.resolved)) {
          seen.add(dep.resolved);
          queue.push(dep.resolved);
        }
      }
    }
    return packages;
  }

  it('reading a configuration, or running the twin\'s phoebe, loads no actuator client and no HTTP framework', async () => {
    const reporting = await cruise(['src'], { tsPreCompilationDeps: true, doNotFollow: { path: 'node_modules' } }, undefined, { tsConfig: { fileName: 'tsconfig.json' } });
    const result = reporting.output as ICruiseResult;
    // When config/ loaded client-node (through the actuator registry), the twin's memory doubled.
    for (const from of ['src/config/phoebe-config.ts', 'src/sim/policies/phoebe.ts']) {
      const loaded = packagesLoadedBy(result, from);
      expect(loaded.has('zod'), `${from} loads zod: the walk sees packages`).toBe(true);
      expect([...loaded].filter((p) => p === '@kubernetes/client-node' || p === 'express'), from).toEqual([]);
    }
  }, 60_000);
});

describe('files in src/', () => {
  it('are at most 450 lines each', () => {
    const long = tsFiles(join(ROOT, 'src'))
      .map((f) => ({ file: relative(ROOT, f), lines: readFileSync(f, 'utf8').split('\n').length }))
      .filter((f) => f.lines > 450);
    expect(long).toEqual([]);
  });
});
