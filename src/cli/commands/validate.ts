import { readFile } from 'node:fs/promises';
import { CdaValidator, formatIssue, type CdaReport } from '../../cda/validate-document.js';
import { configOrUsageError, parseCommandArgs, printJson, resolveUserPath } from '../args.js';
import { EXIT, usageError, type ExitCode } from '../exit.js';

export const VALIDATE_USAGE = `usage: xdsgw validate FILE... [--json]
Validates CDA documents offline as ITI-41 would (CDA R2 schema and the rules of the document type in
cda-templates/; CDA_SCHEMA_DIR, CDA_SCHEMA_ROOT and CDA_UNKNOWN_TYPE apply). Exit 1 when any is invalid.`;

export interface ValidationInput {
  /** As typed, for the output. */
  shown: string;
  path: string;
}

/** Validates each file and prints `VALID file (type)` or `INVALID file` and its problems (or a JSON report); 1 when any is invalid. */
export async function validateFiles(files: ValidationInput[], json: boolean): Promise<ExitCode> {
  const config = configOrUsageError(process.env);
  const validator = await CdaValidator.load({ schemaDir: config.cdaSchemaDir, schemaRoot: config.cdaSchemaRoot, unknownType: config.cdaUnknownType });
  let invalid = 0;
  const reports: { file: string; valid: boolean; type?: string; issues: CdaReport['issues'] }[] = [];
  try {
    for (const file of files) {
      const report = await validateFile(validator, file.path);
      if (!report.valid) invalid++;
      if (json) reports.push({ file: file.shown, valid: report.valid, ...(report.type ? { type: report.type } : {}), issues: report.issues });
      else {
        console.log(`${report.valid ? 'VALID' : 'INVALID'} ${file.shown}${report.type ? ` (${report.type})` : ''}`);
        for (const issue of report.issues) console.log(`  ${issue.severity === 'Error' ? 'error' : 'warning'}: ${formatIssue(issue)}`);
      }
    }
  } finally {
    validator.dispose();
  }
  if (json) printJson({ valid: invalid === 0, files: reports });
  return invalid > 0 ? EXIT.refused : EXIT.ok;
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

export async function validateCommand(argv: string[]): Promise<ExitCode> {
  const { values, positionals } = parseCommandArgs('validate', argv, { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } });
  if (values.help) {
    console.log(VALIDATE_USAGE);
    return EXIT.ok;
  }
  if (positionals.length === 0) throw usageError(`validate: no FILE given\n${VALIDATE_USAGE}`);
  return validateFiles(
    positionals.map((p) => ({ shown: p, path: resolveUserPath(p) })),
    values.json === true,
  );
}


