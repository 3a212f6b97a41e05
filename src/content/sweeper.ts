import type { ContentStore } from './store.js';

/** Asks the registry which of these content keys are referenced by a stored document. */
export type ReferencedKeys = (keys: string[]) => Promise<Set<string>>;

export interface SweepResult {
  /** Old blobs no document refers to, removed. */
  removed: number;
  /** Old blobs kept: referenced, or stored again while the sweep ran. */
  kept: number;
  /** Temp files of interrupted writes, removed. */
  tmpRemoved: number;
}

const BATCH = 500;

/**
 * Removes the blobs left by a crash between the content write and the registry commit: older than `graceMs` (so that a
 * submission still in flight keeps its bytes) and not referenced by the registry. Stale temp files go too.
 */
export async function sweepOrphans(store: ContentStore, isReferenced: ReferencedKeys, graceMs: number): Promise<SweepResult> {
  const cutoffMs = Date.now() - graceMs;
  const result: SweepResult = { removed: 0, kept: 0, tmpRemoved: 0 };
  let batch: string[] = [];
  for await (const blob of store.listOlderThan(graceMs)) {
    batch.push(blob.key);
    if (batch.length === BATCH) {
      await sweepBatch(store, isReferenced, batch, cutoffMs, result);
      batch = [];
    }
  }
  if (batch.length > 0) await sweepBatch(store, isReferenced, batch, cutoffMs, result);
  result.tmpRemoved = await store.cleanTmp(graceMs);
  return result;
}

async function sweepBatch(
  store: ContentStore,
  isReferenced: ReferencedKeys,
  keys: string[],
  cutoffMs: number,
  result: SweepResult,
): Promise<void> {
  const referenced = await isReferenced(keys);
  for (const key of keys) {
    if (!referenced.has(key) && (await store.removeIfOlderThan(key, cutoffMs))) result.removed++;
    else result.kept++;
  }
}
