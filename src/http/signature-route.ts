import { Router } from 'express';
import type { GatewayContext } from '../context.js';
import { preloadSigningIdentity } from '../signature/keys.js';
import { documentSignatures } from '../signature/on-demand.js';

/** `GET /documents/:uniqueId/signature`: who signed the document, when, and whether the signature still verifies. */
export function signatureRouter(ctx: GatewayContext): Router {
  const router = Router();
  // The gateway's certificate is a trust anchor of the verification.
  if (ctx.config.signing) preloadSigningIdentity(ctx.config, ctx.logger);
  router.get('/documents/:uniqueId/signature', async (req, res) => {
    const uniqueId = req.params.uniqueId;
    try {
      const result = await documentSignatures(uniqueId, ctx);
      if (!result) {
        res.status(404).json({ error: 'unknown_document', message: `no document with uniqueId ${uniqueId} in the registry` });
        return;
      }
      res.json(result);
    } catch (err) {
      ctx.logger.error({ err: (err as Error).message, uniqueId }, 'signature verification failed');
      res.status(503).json({ error: 'unavailable', message: 'the registry or the content store is not available' });
    }
  });
  return router;
}
