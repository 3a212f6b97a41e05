import express, { Router } from 'express';
import type { GatewayContext } from '../context.js';
import { parseCx } from '../ebrim/cx.js';
import { TRANSACTIONS } from '../transactions/index.js';
import { signatureRouter } from './signature-route.js';

/** The JSON API: gateway facts and the patients of the affinity domain. */
export function apiRouter(ctx: GatewayContext): Router {
  const router = Router();
  router.use(signatureRouter(ctx));
  router.get('/info', (_req, res) => {
    res.json({
      name: 'dmp-xds-gateway',
      version: ctx.config.version,
      repositoryUniqueId: ctx.config.repositoryUniqueId,
      homeCommunityId: ctx.config.homeCommunityId,
      patientAuthority: ctx.config.patientAuthority,
      registry: ctx.registry.db.mode,
      transactions: TRANSACTIONS.map((t) => ({ name: t.name, action: t.action })),
    });
  });

  router.post('/patients', express.json({ limit: '16kb' }), async (req, res) => {
    const patientId: unknown = req.body?.patientId;
    if (typeof patientId !== 'string') {
      res.status(400).json({ error: 'invalid_request', message: 'body must be JSON {"patientId": "<id>^^^&<oid>&ISO"}' });
      return;
    }
    const cx = parseCx(patientId);
    if (!cx) {
      res.status(400).json({ error: 'invalid_patient_id', message: `patientId '${patientId}' is not of the form <id>^^^&<oid>&ISO` });
      return;
    }
    if (cx.authority !== ctx.config.patientAuthority) {
      res.status(400).json({
        error: 'unknown_assigning_authority',
        message: `patientId authority ${cx.authority} is not the affinity domain's (${ctx.config.patientAuthority})`,
      });
      return;
    }
    try {
      const outcome = await ctx.registry.registerPatient(patientId);
      res.status(outcome === 'created' ? 201 : 409).json({ patientId, status: outcome });
    } catch (err) {
      ctx.logger.error({ err: (err as Error).message }, 'patient registration failed');
      res.status(503).json({ error: 'registry_unavailable', message: 'the registry database is not available' });
    }
  });
  return router;
}
