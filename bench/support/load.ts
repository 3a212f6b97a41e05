/**
 * The load generator runs in its own process (bench/support/load-process.ts), so that building
 * requests and reading answers never shares a core's time slice with the gateway's event loop
 * unnoticed: its CPU is measured apart. This module is the parent's side.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { DocumentKind } from './documents.js';
import type { LoadFigures } from './drive.js';

/** The baseline's echo operation: a SOAP 1.2 request with the same WS-Addressing headers our transactions carry. */
export const ECHO_ACTION = 'urn:xdsgw:bench:Echo';
export const ECHO_NS = 'urn:xdsgw:bench:echo';
/** Where the baseline echo service (bench/support/soap-echo.ts) answers. */
export const ECHO_PATH = '/echo';
export const echoBody = (text: string): string => `<echo:EchoRequest xmlns:echo="${ECHO_NS}"><echo:text>${text}</echo:text></echo:EchoRequest>`;

export type Workload =
  /** ITI-41 of `documents` fresh documents per submission (MTOM), patients taken in turn. */
  | { kind: 'iti41'; patients: string[]; documents: number; document: DocumentKind }
  /** ITI-43 of `perRequest` documents, taken in turn from `uniqueIds`. */
  | { kind: 'iti43'; repositoryUniqueId: string; uniqueIds: string[]; perRequest: number }
  /** ITI-18 with a stored query id no registry knows: answered XDSUnknownStoredQuery. */
  | { kind: 'iti18-unknown-query' }
  /** The echo request of the baseline, sent to a gateway endpoint: answered with a wsa:ActionNotSupported fault. */
  | { kind: 'echo-unsupported-action'; path: string }
  /** The echo request of the baseline to the `soap` package echo service. */
  | { kind: 'echo'; path: string };

export interface LoadSpec {
  scenario: string;
  base: string;
  workload: Workload;
  seconds: number;
  /** Closed loop: this many clients, each sending its next request when the previous one is answered. */
  concurrency?: number;
  /** Open loop: requests per second, whatever the answers. */
  rate?: number;
}

export interface LoadResult {
  figures: LoadFigures;
  /** Per successful ITI-41: the uniqueIds of its documents (the first 5,000 submissions). */
  registered: string[][];
  /** A sample of the failed answers (first 300 characters of up to 5). */
  failures: string[];
  /** CPU seconds the load generator used for this run. */
  cpuSeconds: number;
}

export interface LoadProcess {
  pid: number;
  run(spec: LoadSpec): Promise<LoadResult>;
  close(): Promise<void>;
}

/** Starts the load generator process; it serves runs one after the other until close(). */
export async function startLoadProcess(): Promise<LoadProcess> {
  const child = fork(fileURLToPath(new URL('./load-process.ts', import.meta.url)), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`load generator exited with ${code} before it was ready`)));
  });
  let busy: Promise<unknown> = Promise.resolve();
  return {
    pid: child.pid!,
    run(spec) {
      const result = busy.then(
        () =>
          new Promise<LoadResult>((resolve, reject) => {
            const onExit = (code: number | null): void => reject(new Error(`load generator exited with ${code} during ${spec.scenario}`));
            child.once('exit', onExit);
            child.once('message', (msg: { result?: LoadResult; error?: string }) => {
              child.off('exit', onExit);
              if (msg.error) reject(new Error(`load generator: ${msg.error}`));
              else resolve(msg.result!);
            });
            child.send(spec);
          }),
      );
      busy = result.catch(() => undefined);
      return result;
    },
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.disconnect();
      await new Promise((r) => child.once('exit', r));
    },
  };
}
