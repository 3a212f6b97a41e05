import { randomUUID } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { GatewayContext } from '../context.js';
import { consoleRouter } from '../console/router.js';
import { SoapFault } from '../soap/fault.js';
import { TRANSACTIONS, transactionByAction } from '../transactions/index.js';
import { apiRouter } from './api.js';
import { healthRouter, type ReadinessCheck } from './health.js';
import { metricsHandler } from './metrics-route.js';
import { recordsRouter } from './records.js';
import { soapEndpoint, sendFault } from './soap-route.js';
import { wsdlHandler } from './wsdl.js';

/** The HTTP face of the gateway: SOAP endpoints, WSDLs, health and the JSON API. */
export function createApp(ctx: GatewayContext, readiness: ReadinessCheck[]): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(requestLogging(ctx));

  const rawBody = express.raw({ type: () => true, limit: ctx.config.maxRequestBytes });
  const only = (...names: string[]) => new Map(TRANSACTIONS.filter((t) => names.includes(t.name)).map((t) => [t.action, t]));
  const endpoints: [string, Map<string, (typeof TRANSACTIONS)[number]>][] = [
    ['/xds/iti41', only('ITI-41')],
    ['/xds/iti43', only('ITI-43')],
    ['/xds/iti42', only('ITI-42')],
    ['/xds/iti57', only('ITI-57')],
    ['/xds/iti62', only('ITI-62')],
    ['/xds/iti18', only('ITI-18')],
    ['/xds', transactionByAction],
  ];
  for (const [path, transactions] of endpoints) {
    app.get(path, wsdlHandler(path));
    app.post(path, rawBody, soapEndpoint(transactions, ctx));
  }

  app.use(healthRouter(readiness));
  app.get('/metrics', metricsHandler(ctx));
  app.use('/api', apiRouter(ctx));
  app.use('/api', recordsRouter(ctx));
  app.use('/console', consoleRouter(ctx));

  app.use((req: Request, res: Response) => {
    res.status(404).json({ error: 'not_found', message: `no route for ${req.method} ${req.path}` });
  });
  app.use((err: Error & { status?: number; type?: string }, req: Request, res: Response, _next: NextFunction) => {
    if (req.path.startsWith('/xds')) {
      sendFault(res, bodyFault(err, ctx.config.maxRequestBytes) ?? err, ctx);
      return;
    }
    const status = err.status && err.status >= 400 && err.status < 500 ? err.status : 500;
    if (status === 500) ctx.logger.error({ err: { message: err.message, stack: err.stack } }, 'unexpected error');
    res.status(status).json({ error: status === 500 ? 'internal_error' : (err.type ?? 'bad_request'), message: status === 500 ? 'internal error' : err.message });
  });
  return app;
}

/** Errors raised while reading the body, as SOAP faults (413 for the size limit, read before the whole body arrives). */
function bodyFault(err: Error & { status?: number; type?: string }, limit: number): SoapFault | undefined {
  if (err.type === 'entity.too.large') {
    return new SoapFault('Sender', `request body exceeds the limit of ${limit} bytes (MAX_REQUEST_BYTES)`, { httpStatus: 413 });
  }
  if (err.type === 'request.aborted') return new SoapFault('Sender', 'request body was aborted by the client');
  if (err.type === 'encoding.unsupported' || err.status === 415) return new SoapFault('Sender', `unsupported content encoding: ${err.message}`);
  if (err.status && err.status >= 400 && err.status < 500) return new SoapFault('Sender', `request body could not be read: ${err.message}`);
  return undefined;
}

function requestLogging(ctx: GatewayContext) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const headerId = req.headers['x-request-id'];
    const requestId = typeof headerId === 'string' && /^[\w.:-]{1,128}$/.test(headerId) ? headerId : randomUUID();
    res.setHeader('X-Request-Id', requestId);
    res.locals.requestId = requestId;
    const start = process.hrtime.bigint();
    res.locals.startedAt = start;
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      ctx.logger.info(
        { requestId, method: req.method, path: req.path, status: res.statusCode, ms: Math.round(ms * 10) / 10, transaction: res.locals.transaction, fault: res.locals.fault },
        'request',
      );
    });
    next();
  };
}
