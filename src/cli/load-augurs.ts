import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { initSync } from '@bsull/augurs/mstl';

let loaded = false;

/**
 * Instantiates augurs' MSTL WebAssembly from the installed package. Its own loader fetches a
 * URL, which Node cannot do for files; src/forecast stays free of file I/O, so the edge that
 * starts phoebe (a CLI command, a test) calls this once before using the MSTL model.
 */
export function loadAugursMstl(): void {
  if (loaded) return;
  const entry = createRequire(import.meta.url).resolve('@bsull/augurs/mstl');
  initSync({ module: readFileSync(join(dirname(entry), 'mstl_bg.wasm')) });
  loaded = true;
}
