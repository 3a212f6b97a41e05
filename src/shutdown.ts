import type { Logger } from './log.js';

/** On SIGTERM or SIGINT, runs the closers in order once (in-flight work finishes first), then exits. */
export function closeOnSignals(logger: Logger, what: string, closers: (() => Promise<unknown>)[]): void {
  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, `${what} shutting down: finishing in-flight work`);
    for (const close of closers) {
      await close().catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'error while shutting down'));
    }
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

/** Hides the password of a connection URL in logs. */
export const redactUrl = (url: string): string => url.replace(/\/\/[^@/]*@/, '//***@');
