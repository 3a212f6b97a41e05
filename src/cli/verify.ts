/**
 * `npm run verify -- SIGNATURE.xml DOCUMENT...`: verifies an IHE DSG detached signature offline.
 * A DOCUMENT is `path` (matched to the Manifest reference with its digest) or `uniqueId=path`.
 * Options: `--trust DIR` (PEM CA certificates; default SIGNATURE_TRUST_DIR), `--at now|signing-time`
 * (when certificates must be valid; default signing-time), `--json`. Exit 0 valid, 1 not valid, 2 usage.
 * The same as `xdsgw verify`.
 */
import { CliError, exitWhenFlushed } from './exit.js';
import { verifyCommand } from './commands/verify.js';

const USAGE = 'usage: npm run verify -- SIGNATURE.xml [uniqueId=]DOCUMENT... [--trust DIR] [--at now|signing-time] [--json]';

verifyCommand(process.argv.slice(2), USAGE).then(exitWhenFlushed, (err: Error) => {
  console.error(err instanceof CliError && err.exitCode === 2 ? err.message : `verify: ${err.message}`);
  exitWhenFlushed(err instanceof CliError ? err.exitCode : 2);
});
