import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { XdsError, type XdsErrorCode } from '../errors.js';
import { INDEX_QUEUE } from '../queue/jobs.js';

/** Transactions that write, and the busy code each answers when the gateway is saturated. */
const BUSY_CODE: Record<string, XdsErrorCode> = {
  'ITI-41': 'XDSRepositoryBusy',
  'ITI-42': 'XDSRegistryBusy',
  'ITI-57': 'XDSRegistryBusy',
  'ITI-62': 'XDSRegistryBusy',
};

export interface BackpressureLimits {
  /** Submissions this process handles at once; 0 means no limit. */
  maxInflight: number;
  /** Submissions waiting in the queue (all gateways together) above which new ones are refused; 0 means no limit. */
  maxQueueDepth: number;
  /** How long a queue depth reading is reused: the check must cost nothing per request. */
  depthCacheMs: number;
}

export type Admission = { admitted: true; release(): void } | { admitted: false; error: XdsError };

/**
 * Refuses submissions at once, with the transaction's Busy code, when this process already has
 * too many in flight or the queue behind it is too deep, so that overload degrades into quick
 * refusals the client can retry instead of timeouts for everyone.
 */
export class Backpressure {
  private inflight = 0;
  private depth = 0;
  private depthReadAt = 0;
  private reading = false;

  constructor(
    private readonly limits: BackpressureLimits,
    private readonly readDepth: () => Promise<number>,
  ) {}

  get inflightCount(): number {
    return this.inflight;
  }

  admit(transaction: string): Admission {
    const code = BUSY_CODE[transaction];
    if (!code) return { admitted: true, release: () => undefined };
    this.refreshDepth();
    const { maxInflight, maxQueueDepth } = this.limits;
    if (maxInflight > 0 && this.inflight >= maxInflight) {
      return { admitted: false, error: busy(code, `${this.inflight} submissions already in progress (MAX_INFLIGHT_SUBMISSIONS=${maxInflight})`) };
    }
    if (maxQueueDepth > 0 && this.depth >= maxQueueDepth) {
      return { admitted: false, error: busy(code, `${this.depth} submissions waiting in the queue (MAX_QUEUE_DEPTH=${maxQueueDepth})`) };
    }
    this.inflight++;
    let released = false;
    return {
      admitted: true,
      release: () => {
        if (!released) this.inflight--;
        released = true;
      },
    };
  }

  /** Re-reads the queue depth in the background when the cached value is stale; requests never wait for it. */
  private refreshDepth(): void {
    if (this.limits.maxQueueDepth <= 0 || this.reading || Date.now() - this.depthReadAt < this.limits.depthCacheMs) return;
    this.reading = true;
    this.readDepth()
      .then((d) => {
        this.depth = d;
      })
      // Redis down: the submission itself will fail cleanly, so the depth gate stays open.
      .catch(() => undefined)
      .finally(() => {
        this.depthReadAt = Date.now();
        this.reading = false;
      });
  }
}

function busy(code: XdsErrorCode, why: string): XdsError {
  return new XdsError(code, `the gateway is busy: ${why}; nothing was registered, retry later`);
}

/** Submissions not yet registered: index jobs waiting for their store step, waiting, delayed or running. */
export function indexQueueDepth(connection: Redis, prefix: string): { read(): Promise<number>; close(): Promise<void> } {
  const queue = new Queue(INDEX_QUEUE, { connection, prefix });
  queue.on('error', () => undefined);
  return {
    async read() {
      const counts = await queue.getJobCounts('waiting', 'prioritized', 'delayed', 'active');
      return Object.values(counts).reduce((a, b) => a + b, 0);
    },
    close: () => queue.close(),
  };
}
