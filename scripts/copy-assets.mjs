// Copies into dist/ what tsc does not emit, mirroring the source layout, so that a path relative to a module
// (`new URL('../../schemas/', import.meta.url)`, `./migrations/`) resolves the same from src/ under tsx and
// from dist/src/ once built: non-TypeScript files under src/ (migration SQL, data files), schemas/, cda-templates/.
import { cp, stat } from 'node:fs/promises';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
const TYPESCRIPT = /\.(ts|tsx|mts|cts)$/;
let copied = 0;

async function isDir(p) {
  return stat(p).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

/** fs.cp filter: directories are walked, files are copied unless they are TypeScript sources. */
function assetsOnly(skipTypeScript) {
  return async (src) => {
    if (await isDir(src)) return true;
    if (skipTypeScript && TYPESCRIPT.test(src)) return false;
    copied++;
    return true;
  };
}

await cp(path.join(root, 'src'), path.join(dist, 'src'), { recursive: true, filter: assetsOnly(true) });
for (const dir of ['schemas', 'cda-templates']) {
  if (await isDir(path.join(root, dir))) {
    await cp(path.join(root, dir), path.join(dist, dir), { recursive: true, filter: assetsOnly(false) });
  }
}
process.stdout.write(`copy-assets: ${copied} file(s) copied into dist/\n`);
