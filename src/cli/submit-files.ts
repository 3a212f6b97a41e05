import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { localFileError } from './exit.js';

export interface InputFile {
  path: string;
  /** Named on the command line (not found by walking a directory): a file that is not CDA is then an error, not skipped. */
  explicit: boolean;
}

const byName = new Intl.Collator('en', { numeric: true }).compare;

/** The files to submit: each FILE as given, each DIR walked for `*.xml` files (hidden entries left out), in name order. */
export async function collectFiles(paths: string[]): Promise<InputFile[]> {
  const out: InputFile[] = [];
  for (const p of paths) {
    let info;
    try {
      info = await stat(p);
    } catch (err) {
      throw localFileError(`cannot read ${p}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`);
    }
    if (info.isDirectory()) await walk(p, out);
    else out.push({ path: p, explicit: true });
  }
  return out;
}

async function walk(dir: string, out: InputFile[]): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    throw localFileError(`cannot read the directory ${dir}: ${(err as Error).message}`);
  }
  entries.sort((a, b) => byName(a.name, b.name));
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) await walk(p, out);
    else if (e.isFile() && /\.xml$/i.test(e.name)) out.push({ path: p, explicit: false });
  }
}
