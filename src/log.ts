import { pino, type Logger } from 'pino';

export type { Logger };

/** JSON logs on stdout; key material and document bytes are never passed to a logger. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'xds-gateway' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie'], remove: true },
  });
}
