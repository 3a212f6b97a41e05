import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { GatewayContext } from '../context.js';
import { consoleRouter } from '../console/router.js';
import { TRANSACTIONS, transactionByAction } from '../transactions/index.js';
import { apiRouter } from './api.js';
import { healthRouter, type ReadinessCheck } from './health.js';
import { metricsHandler } from './metrics-route.js';
import { recordsRouter } from './records.js';
import { beginRequest, pathOf } from './request-log.js';
import { sendFault, soapEndpoint } from './soap-route.js';
import { wsdlHandler } from './wsdl.js';

/** The SOAP endpoints: one per transaction, and /xds for all of them (the Action decides). */
const SOAP_ENDPOINTS: [string, string[] | 'all'][] = [
  ['/xds/iti41', ['ITI-41']],
  ['/xds/iti43', ['ITI-43']],
  ['/xds/iti42', ['ITI-42']],
  ['/xds/iti57', ['ITI-57']],
  ['/xds/iti62', ['ITI-62']],
  ['/xds/iti18', ['ITI-18']],
  ['/xds', 'all'],
];

/**
 * The HTTP face of the gateway. SOAP POSTs go straight to their endpoint on node:http (they are the
 * traffic; routing them through Express cost a tenth of an ITI-18 query); everything else (WSDLs, health,
 * metrics, the JSON API, the console) is an Express app.
 */
export function createApp(ctx: GatewayContext, readiness: ReadinessCheck[]): RequestListener {
  const soap = new Map<string, (req: IncomingMessage, res: ServerResponse) => Promise<void>>();
  for (const [path, names] of SOAP_ENDPOINTS) {
    const transactions = names === 'all' ? transactionByAction : new Map(TRANSACTIONS.filter((t) => names.includes(t.name)).map((t) => [t.action, t]));
    soap.set(path, soapEndpoint(transactions, ctx));
  }
  const app = expressApp(ctx, readiness);
  return (req, res) => {
    const endpoint = req.method === 'POST' ? soap.get(routeOf(req.url)) : undefined;
    if (!endpoint) {
      app(req, res);
      return;
    }
    // An endpoint answers its own failures; this is for a bug in that answering, which must not take the process down.
    endpoint(req, res).catch((err: unknown) => {
      try {
        if (res.headersSent) throw err;
        sendFault(req, res, err, ctx);
      } catch (failed) {
        ctx.logger.error({ err: failed instanceof Error ? { message: failed.message, stack: failed.stack } : String(failed) }, 'SOAP answer failed; connection closed');
        res.destroy();
      }
    });
  };
}

/** A URL's path as Express routes it: without query string, case-insensitive, one trailing slash ignored. */
function routeOf(url: string | undefined): string {
  const path = pathOf(url).toLowerCase();
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

function expressApp(ctx: GatewayContext, readiness: ReadinessCheck[]): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use((req: Request, res: Response, next: NextFunction) => {
    beginRequest(req, res, ctx);
    next();
  });
  for (const [path] of SOAP_ENDPOINTS) app.get(path, wsdlHandler(path));

  app.use(healthRouter(readiness));
  app.get('/metrics', metricsHandler(ctx));
  app.use('/api', apiRouter(ctx));
  app.use('/api', recordsRouter(ctx));
  app.use('/console', consoleRouter(ctx));

  app.use((req: Request, res: Response) => {
    res.status(404).json({ error: 'not_found', message: `no route for ${req.method} ${req.path}` });
  });
  app.use((err: Error & { status?: number; type?: string }, req: Request, res: Response, _next: NextFunction) => {
    const status = err.status && err.status >= 400 && err.status < 500 ? err.status : 500;
    if (status === 500) ctx.logger.error({ err: { message: err.message, stack: err.stack } }, 'unexpected error');
    res.status(status).json({ error: status === 500 ? 'internal_error' : (err.type ?? 'bad_request'), message: status === 500 ? 'internal error' : err.message });
  });
  return app;
}
