import path from 'node:path';
import { CliError, exitWhenFlushed } from './exit.js';
import { validateFiles } from './commands/validate.js';

/**
 * `npm run validate -- FILE...`: validates CDA documents offline as ITI-41 would (schema and
 * document type rules; no metadata to compare with). One line per file, VALID or INVALID, then
 * its problems indented; exit status 1 when any file is invalid, 2 on a usage or setup error.
 * The same as `xdsgw validate`.
 */
async function main(args: string[]): Promise<number> {
  if (args.length === 0 || args.includes('--help')) {
    console.error('usage: npm run validate -- FILE.xml [FILE.xml ...]');
    return 2;
  }
  // npm runs scripts from the package root; names on the command line are relative to where it was typed.
  const base = process.env.INIT_CWD ?? process.cwd();
  return validateFiles(
    args.map((file) => ({ shown: file, path: path.resolve(base, file) })),
    false,
  );
}

main(process.argv.slice(2)).then(exitWhenFlushed, (err: unknown) => {
  console.error(`validate: ${err instanceof Error ? err.message : String(err)}`);
  exitWhenFlushed(err instanceof CliError ? err.exitCode : 2);
});
