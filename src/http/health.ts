import { Router } from 'express';

export interface ReadinessCheck {
  name: string;
  check(): Promise<void>;
}

const CHECK_TIMEOUT_MS = 2000;

/** /health: the process answers. /ready: Redis, the database and the content store answer too. */
export function healthRouter(checks: ReadinessCheck[]): Router {
  const router = Router();
  router.get('/health', (_req, res) => {
    res.json({ status: 'ok', pid: process.pid });
  });
  router.get('/ready', async (_req, res) => {
    const results = await Promise.all(checks.map(async (c) => ({ name: c.name, error: await runCheck(c) })));
    const failed = results.filter((r) => r.error);
    res.status(failed.length ? 503 : 200).json({
      status: failed.length ? 'unavailable' : 'ready',
      checks: Object.fromEntries(results.map((r) => [r.name, r.error ? { status: 'down', error: r.error } : { status: 'up' }])),
    });
  });
  return router;
}

async function runCheck(c: ReadinessCheck): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      c.check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
      }),
    ]);
    return undefined;
  } catch (err) {
    return (err as Error).message.split('\n', 1)[0];
  } finally {
    clearTimeout(timer);
  }
}
