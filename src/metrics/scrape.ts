import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GatewayMetrics } from './gateway-metrics.js';

export interface ScrapeAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * The answer to GET /metrics: the exposition text, or 401 when METRICS_TOKEN is set and the
 * request does not carry it as `Authorization: Bearer <token>`. Shared by the gateway's route and
 * the worker's own endpoint.
 */
export async function answerScrape(metrics: GatewayMetrics, authorization: string | undefined, token: string | undefined): Promise<ScrapeAnswer> {
  if (token !== undefined && !bearerMatches(authorization, token)) {
    return {
      status: 401,
      headers: { 'content-type': 'application/json; charset=utf-8', 'www-authenticate': 'Bearer realm="metrics"' },
      body: JSON.stringify({ error: 'unauthorized', message: '/metrics needs Authorization: Bearer <METRICS_TOKEN>' }),
    };
  }
  return { status: 200, headers: { 'content-type': metrics.contentType, 'cache-control': 'no-store' }, body: await metrics.text() };
}

/** Constant-time comparison of the presented bearer token with the configured one (digests: equal lengths). */
function bearerMatches(authorization: string | undefined, token: string): boolean {
  const m = /^Bearer +(\S+) *$/i.exec(authorization ?? '');
  if (!m) return false;
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(m[1]!), digest(token));
}

export interface MetricsServer {
  url: string;
  close(): Promise<void>;
}

/** GET /metrics on a port of its own: the endpoint of a worker process (METRICS_PORT), which has no HTTP server otherwise. */
export async function startMetricsServer(metrics: GatewayMetrics, opts: { port: number; host: string; token?: string }): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify({ error: 'not_found', message: `no route for ${req.method} ${path}` }));
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify({ error: 'method_not_allowed', message: `${req.method} /metrics is not allowed` }));
      return;
    }
    answerScrape(metrics, req.headers.authorization, opts.token).then(
      (answer) => res.writeHead(answer.status, answer.headers).end(req.method === 'HEAD' ? undefined : answer.body),
      () => res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify({ error: 'internal_error', message: 'metrics could not be collected' })),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = opts.host === '0.0.0.0' || opts.host === '::' ? '127.0.0.1' : opts.host;
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
