/**
 * `xdsgw`: the command-line client of the gateway (docs/cli.md). One subcommand per task an
 * integrator has: submit CDA documents (a folder of thousands, resumable), query, retrieve,
 * validate and verify offline, register patients. Human-readable output, --json for scripts,
 * exit statuses in exit.ts.
 */
import { CliError, EXIT, exitWhenFlushed, type ExitCode } from './exit.js';
import { VERSION } from '../version.js';

const USAGE = `usage: xdsgw COMMAND [options]    (xdsgw COMMAND --help for its options)
  submit FILE|DIR...      build ITI-41 metadata from each CDA header and submit (progress, summary, resumable)
  query --patient ID      ITI-18 FindDocuments with readable filters (--type, --class, --from, --to, --status ...)
  retrieve UNIQUEID...    ITI-43: write the documents to files
  validate FILE...        offline CDA validation (schema and document type rules)
  verify SIG DOC...       offline IHE DSG signature check (or --document UNIQUEID, asked of the gateway)
  patients create ID...   register patients of the affinity domain
Common options: --url URL (default XDSGW_URL, else http://localhost:8080), --assertion FILE (VIHF SAML
assertion for wsse:Security, default XDSGW_ASSERTION), --ca FILE, --cert FILE --key FILE (HTTPS, mutual
TLS; XDSGW_CA, XDSGW_CERT, XDSGW_KEY), --timeout SECONDS (120), --json.
Exit status: 0 ok, 1 refused or not valid, 2 usage, 3 gateway unreachable, 4 unexpected answer,
5 local file error, 130/143 interrupted (state kept).`;

// Each command loads only its own modules: a query starts without the CDA schemas or the signature stack.
const COMMANDS: Record<string, (argv: string[]) => Promise<ExitCode>> = {
  submit: async (argv) => (await import('./commands/submit.js')).submitCommand(argv),
  query: async (argv) => (await import('./commands/query.js')).queryCommand(argv),
  retrieve: async (argv) => (await import('./commands/retrieve.js')).retrieveCommand(argv),
  validate: async (argv) => (await import('./commands/validate.js')).validateCommand(argv),
  verify: async (argv) => (await import('./commands/verify.js')).verifyCommand(argv),
  patients: async (argv) => (await import('./commands/patients.js')).patientsCommand(argv),
};

async function main(argv: string[]): Promise<ExitCode> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-V') {
    console.log(VERSION);
    return EXIT.ok;
  }
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? console.error : console.log)(USAGE);
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  const command = COMMANDS[name];
  if (!command) throw new CliError(`unknown command '${name}'\n${USAGE}`, EXIT.usage);
  return command(rest);
}

main(process.argv.slice(2)).then(exitWhenFlushed, (err: unknown) => {
  if (err instanceof CliError) {
    console.error(`xdsgw: ${err.message}`);
    exitWhenFlushed(err.exitCode);
  } else {
    console.error(`xdsgw: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    exitWhenFlushed(EXIT.internal);
  }
});
