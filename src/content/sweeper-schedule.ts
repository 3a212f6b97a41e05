import type { Logger } from '../log.js';
import type { Registry } from '../registry/registry.js';
import type { ContentStore } from './store.js';
import { sweepOrphans } from './sweeper.js';

const SWEEP_EVERY_MS = 10 * 60 * 1000;

/** Removes, now and then, blobs that a crash between the content write and the registry commit left without a registry entry. */
export function startSweeper(content: ContentStore, registry: Registry, graceMs: number, logger: Logger): { stop(): void } {
  let running = false;
  const sweep = async (): Promise<void> => {
    if (running) return;
    running = true;
    try {
      const result = await sweepOrphans(content, (keys) => registry.referencedContentKeys(keys), graceMs);
      if (result.removed) logger.info(result, 'orphan content swept');
    } catch (err) {
      logger.warn({ err: (err as Error).message }, 'orphan sweep failed');
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void sweep(), SWEEP_EVERY_MS);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
