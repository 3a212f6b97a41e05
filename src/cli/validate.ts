import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { CdaValidator, formatIssue, type CdaReport } from '../cda/validate-document.js';
import { ConfigError, loadConfig } from '../config.js';

/**
 * `npm run validate -- FILE...`: validates CDA documents offline as ITI-41 would (schema and
 * document type rules; no metadata to compare with). One line per file, VALID or INVALID, then
 * its problems indented; exit status 1 when any file is invalid, 2 on a usage or setup error.
 */
async function main(args: string[]): Promise<number> {
  if (args.length === 0 || args.includes('--help')) {
    console.error('usage: npm run validate -- FILE.xml [FILE.xml ...]');
    return 2;
  }
  const config = loadConfig(process.env);
  const validator = await CdaValidator.load({ schemaDir: config.cdaSchemaDir, schemaRoot: config.cdaSchemaRoot, unknownType: config.cdaUnknownType });
  // npm runs scripts from the package root; names on the command line are relative to where it was typed.
  const base = process.env.INIT_CWD ?? process.cwd();
  let invalid = 0;
  try {
    for (const file of args) {
      const report = await validateFile(validator, path.resolve(base, file));
      if (!report.valid) invalid++;
      console.log(`${report.valid ? 'VALID' : 'INVALID'} ${file}${report.type ? ` (${report.type})` : ''}`);
      for (const issue of report.issues) console.log(`  ${issue.severity === 'Error' ? 'error' : 'warning'}: ${formatIssue(issue)}`);
    }
  } finally {
    validator.dispose();
  }
  return invalid > 0 ? 1 : 0;
}

async function validateFile(validator: CdaValidator, file: string): Promise<CdaReport> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    return { issues: [{ kind: 'schema', severity: 'Error', message: `cannot read the file: ${(err as Error).message}` }], valid: false };
  }
  return validator.validate(bytes);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`validate: ${err instanceof ConfigError ? err.message : err instanceof Error ? err.message : String(err)}`);
    process.exit(2);
  },
);
