import { EVENT_ID } from '../audit/message.js';
import type { GatewayContext } from '../context.js';
import { purgeRecord, recordsDueForPurge } from './records.js';

/** Destroys every closed record whose retention has passed, each audited; returns the patients purged. */
export async function purgeDueRecords(ctx: Pick<GatewayContext, 'registry' | 'audit' | 'clock' | 'logger'>): Promise<string[]> {
  const now = ctx.clock?.() ?? new Date();
  const purged: string[] = [];
  for (const patientId of await recordsDueForPurge(ctx.registry.db, now)) {
    if (!(await purgeRecord(ctx.registry.db, patientId, now))) continue;
    purged.push(patientId);
    ctx.logger.info({ patientId }, 'closed record purged after its retention period');
    await ctx.audit?.record({
      at: now,
      eventId: EVENT_ID.patientRecord,
      action: 'D',
      eventType: { code: 'RECORD-PURGE', system: 'urn:dmp-xds-gateway:api', display: 'Purge of a closed record after retention' },
      outcome: 0,
      destination: 'record-purge',
      patientIds: [patientId],
      documentIds: [],
    });
  }
  return purged;
}

/** How long the mark of an abandoned submission is kept: far past any job's deadline (SUBMISSION_TIMEOUT_MS). */
const ABANDONED_KEPT_MS = 24 * 60 * 60 * 1000;

/**
 * Runs the purges at start-up and then every interval (closed records past retention, old marks of
 * abandoned submissions); errors are logged and retried at the next run.
 */
export function schedulePurge(ctx: Pick<GatewayContext, 'registry' | 'audit' | 'clock' | 'logger'>, intervalMs = 60 * 60 * 1000): { stop(): void } {
  const run = (): void => {
    purgeDueRecords(ctx).catch((err: unknown) => ctx.logger.error({ err: (err as Error).message }, 'record purge failed'));
    ctx.registry.purgeAbandonedSubmissions(ABANDONED_KEPT_MS).catch((err: unknown) => ctx.logger.error({ err: (err as Error).message }, 'purge of abandoned submissions failed'));
  };
  const timer = setInterval(run, intervalMs);
  timer.unref();
  setImmediate(run);
  return { stop: () => clearInterval(timer) };
}
