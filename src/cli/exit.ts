/** Exit statuses of xdsgw, documented in docs/cli.md; scripts branch on them. */
export const EXIT = {
  ok: 0,
  /** The gateway refused something (XDS error, SOAP fault), or a document or signature is not valid. */
  refused: 1,
  usage: 2,
  /** No connection to the gateway (refused, name unknown, TLS failure, timeout). */
  unreachable: 3,
  /** The gateway answered something that is not the expected SOAP or JSON message. */
  unexpectedAnswer: 4,
  /** A local file could not be read or written (input, output, state file). */
  localFile: 5,
  /** A fault of xdsgw itself (EX_SOFTWARE), reported with its stack. */
  internal: 70,
  /** Stopped by Ctrl-C (SIGINT) or SIGTERM: 128 + the signal number, as shells report it. */
  interrupted: 130,
  terminated: 143,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A failure that ends the command with a given status and a one-line message on stderr. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export const usageError = (message: string): CliError => new CliError(message, EXIT.usage);
export const localFileError = (message: string): CliError => new CliError(message, EXIT.localFile);

/** Exits once stdout and stderr are flushed: writes to a pipe are asynchronous, and process.exit() would cut them short. */
export function exitWhenFlushed(code: number): void {
  let pending = 2;
  const done = () => {
    if (--pending === 0) process.exit(code);
  };
  process.stdout.write('', done);
  process.stderr.write('', done);
}
