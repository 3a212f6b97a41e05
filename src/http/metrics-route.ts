import type { NextFunction, Request, Response } from 'express';
import type { GatewayContext } from '../context.js';
import { answerScrape } from '../metrics/scrape.js';

/** GET /metrics: Prometheus text format; bearer-protected when METRICS_TOKEN is set. */
export function metricsHandler(ctx: GatewayContext) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    if (!ctx.metrics) {
      res.status(404).json({ error: 'not_found', message: 'metrics are not enabled in this process' });
      return;
    }
    try {
      const answer = await answerScrape(ctx.metrics, req.headers.authorization, ctx.config.metricsToken);
      res.status(answer.status).set(answer.headers).send(answer.body);
    } catch (err) {
      next(err);
    }
  };
}
