import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GatewayContext } from '../context.js';

/** What a request's handlers note about it, for its log line and metrics (Express's res.locals, or the same object on the SOAP path). */
export interface RequestLocals extends Record<string, unknown> {
  requestId: string;
  /** process.hrtime.bigint() when the request arrived. */
  startedAt: bigint;
  transaction?: string;
  fault?: string;
}

export type LoggedResponse = ServerResponse & { locals?: Record<string, unknown> };

/** The path of a request URL, without its query string. */
export const pathOf = (url: string | undefined): string => {
  const u = url ?? '/';
  const q = u.indexOf('?');
  return q === -1 ? u : u.slice(0, q);
};

/**
 * Starts a request: its id (the client's X-Request-Id when well formed, echoed back), its start time,
 * and one log line when the answer is finished. Keeps what res.locals already holds (the TLS client identity).
 */
export function beginRequest(req: IncomingMessage, res: LoggedResponse, ctx: GatewayContext): RequestLocals {
  const headerId = req.headers['x-request-id'];
  const requestId = typeof headerId === 'string' && /^[\w.:-]{1,128}$/.test(headerId) ? headerId : randomUUID();
  res.setHeader('X-Request-Id', requestId);
  const startedAt = process.hrtime.bigint();
  const locals = Object.assign(res.locals ?? {}, { requestId, startedAt }) as RequestLocals;
  res.locals = locals;
  res.on('finish', () => {
    if (!ctx.logger.isLevelEnabled('info')) return;
    const ms = Number(process.hrtime.bigint() - startedAt) / 1e6;
    ctx.logger.info(
      { requestId, method: req.method, path: pathOf(req.url), status: res.statusCode, ms: Math.round(ms * 10) / 10, transaction: locals.transaction, fault: locals.fault },
      'request',
    );
  });
  return locals;
}
