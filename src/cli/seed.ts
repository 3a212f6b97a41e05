/**
 * `npm run seed -- --documents N [--patients N] [--schema NAME] [--database-url URL] [--jobs N]`: fills an
 * empty registry with N realistic document entries for benchmarks (src/registry/seed.ts). The database and
 * schema default to the gateway's (DATABASE_URL, else the embedded registry under DATA_DIR; DATABASE_SCHEMA).
 * Progress on stderr, a summary on stdout. Exit 0 done, 1 the registry is not empty, 2 usage,
 * 3 database unreachable.
 */
import os from 'node:os';
import path from 'node:path';
import { SCHEMA_NAME } from '../config.js';
import { openDb, RegistryUnavailableError, type Db } from '../registry/db.js';
import { migrate } from '../registry/migrate.js';
import { defaultPatients, MAX_DOCUMENTS, MAX_PATIENTS, RegistryNotEmptyError, seedRegistry, type SeedSummary } from '../registry/seed.js';
import { configOrUsageError, parseCommandArgs, positiveInteger } from './args.js';
import { CliError, EXIT, exitWhenFlushed, usageError, type ExitCode } from './exit.js';
import { duration } from './progress.js';

const USAGE = `usage: npm run seed -- --documents N [--patients N] [--schema NAME] [--database-url URL] [--jobs N]
Fills an empty registry with N document entries of realistic, varied metadata (the same N, the same data).
  --documents N        entries to write (1 to ${MAX_DOCUMENTS.toLocaleString('en')})
  --patients N         patients they belong to (default: N / 50)
  --schema NAME        PostgreSQL schema (default DATABASE_SCHEMA, else xds); created and migrated if needed
  --database-url URL   postgres://... (default DATABASE_URL, else the embedded registry under DATA_DIR)
  --jobs N             batches of 100,000 entries written at once, each on its own connection (default: 2; 1 on one CPU)`;

const OPTIONS = {
  documents: { type: 'string' },
  patients: { type: 'string' },
  schema: { type: 'string' },
  'database-url': { type: 'string' },
  jobs: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

interface SeedCommand {
  documents: number;
  patients: number;
  schema: string;
  databaseUrl?: string;
  pgliteDir: string;
  repositoryUniqueId: string;
  jobs: number;
}

function command(argv: string[]): SeedCommand | undefined {
  const { values, positionals } = parseCommandArgs('seed', argv, OPTIONS);
  if (values.help) return undefined;
  if (positionals.length) throw usageError(`unexpected argument '${positionals[0]}'\n${USAGE}`);
  if (values.documents === undefined) throw usageError(`--documents is required\n${USAGE}`);
  const documents = positiveInteger('documents', values.documents, 0, MAX_DOCUMENTS);
  const patients = positiveInteger('patients', values.patients, defaultPatients(documents), MAX_PATIENTS);
  if (patients > documents) throw usageError(`--patients (${patients}) must not exceed --documents (${documents}): every patient has a document`);
  const config = configOrUsageError(process.env);
  const schema = values.schema ?? config.databaseSchema;
  if (!SCHEMA_NAME.test(schema)) throw usageError(`--schema must be a lower-case SQL identifier (letters, digits, _), not '${schema}'`);
  const databaseUrl = values['database-url'] ?? config.databaseUrl;
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\/\S+$/.test(databaseUrl)) throw usageError(`--database-url must be a postgres:// URL, not '${databaseUrl}'`);
  const jobs = positiveInteger('jobs', values.jobs, Math.min(2, os.availableParallelism()), 16);
  return {
    documents,
    patients,
    schema,
    databaseUrl,
    pgliteDir: path.join(config.dataDir, 'registry'),
    repositoryUniqueId: config.repositoryUniqueId,
    // The embedded registry has one connection.
    jobs: databaseUrl ? jobs : 1,
  };
}

/** Progress on stderr: redrawn in place on a terminal, one line per batch otherwise. */
function progress(started: number): (done: number, total: number) => void {
  const tty = process.stderr.isTTY;
  return (done, total) => {
    const seconds = (performance.now() - started) / 1000;
    const line = `seeded ${done.toLocaleString('en')} / ${total.toLocaleString('en')} document entries (${duration(seconds)}, ${Math.round(done / seconds).toLocaleString('en')}/s)`;
    process.stderr.write(tty ? `\r\x1b[2K${line}${done === total ? '\n' : ''}` : `${line}\n`);
  };
}

function summary(schema: string, s: SeedSummary): string {
  const rate = Math.round(s.documents / s.seconds).toLocaleString('en');
  const seconds = (n: number): string => n.toFixed(n < 10 ? 1 : 0);
  return (
    `seeded schema ${schema}: ${s.documents.toLocaleString('en')} document entries, ${s.patients.toLocaleString('en')} patients, ` +
    `${s.submissionSets.toLocaleString('en')} submission sets (${s.variants} document variants, ${s.professionals.toLocaleString('en')} authors) ` +
    `in ${seconds(s.seconds)} s, VACUUM ANALYZE ${seconds(s.vacuumSeconds)} s included: ${rate} entries/s`
  );
}

async function main(argv: string[]): Promise<ExitCode> {
  const cmd = command(argv);
  if (!cmd) {
    console.log(USAGE);
    return EXIT.ok;
  }
  let db: Db;
  try {
    db = await openDb({ databaseUrl: cmd.databaseUrl, pgliteDir: cmd.pgliteDir, schema: cmd.schema, poolSize: cmd.jobs, statementTimeoutMs: 3_600_000 });
  } catch (err) {
    if (err instanceof RegistryUnavailableError) throw new CliError(err.message, EXIT.unreachable);
    throw err;
  }
  try {
    await migrate(db);
    const where = cmd.databaseUrl ? `schema ${cmd.schema}` : `the embedded registry in ${cmd.pgliteDir}`;
    console.error(`seeding ${where}: ${cmd.documents.toLocaleString('en')} document entries of ${cmd.patients.toLocaleString('en')} patients, ${cmd.jobs === 1 ? 'one batch at a time' : `${cmd.jobs} batches at once`}`);
    const result = await seedRegistry(db, {
      documents: cmd.documents,
      patients: cmd.patients,
      repositoryUniqueId: cmd.repositoryUniqueId,
      jobs: cmd.jobs,
      onProgress: progress(performance.now()),
    });
    console.log(summary(cmd.schema, result));
    return EXIT.ok;
  } catch (err) {
    if (err instanceof RegistryNotEmptyError) throw new CliError(`schema ${cmd.schema}: ${err.message}`, EXIT.refused);
    if (err instanceof RegistryUnavailableError) throw new CliError(err.message, EXIT.unreachable);
    throw err;
  } finally {
    await db.close();
  }
}

main(process.argv.slice(2)).then(exitWhenFlushed, (err: unknown) => {
  if (err instanceof CliError) {
    console.error(err.message.startsWith('seed: ') ? err.message : `seed: ${err.message}`);
    exitWhenFlushed(err.exitCode);
  } else {
    console.error(`seed: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    exitWhenFlushed(EXIT.internal);
  }
});
