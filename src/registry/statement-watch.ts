import type pg from 'pg';

/**
 * Ends the pool's connections whose statement has waited longer than `limitMs` for the server's answer.
 * PostgreSQL's statement_timeout stops a slow statement, but not a server that stopped answering altogether
 * (no TCP reset): without this, each request would wait forever and keep its connection.
 *
 * It looks, every `everyMs`, at the statement each connection waits on, and costs nothing per query. It replaces
 * node-postgres' query_timeout, which arms a timer and its closures for every query. Measured on the
 * 1,000,000-entry FindDocuments benchmark (docs/registry.md, eighth session): with query_timeout, most runs had
 * bursts of 1-3 s in which every minor GC promoted 15-22 MB (the answers' rows) and paused 15-25 ms;
 * without a per-query timer, none.
 */
export class StatementWatch {
  private readonly connections = new Set<pg.Client>();
  /** When the watch first saw each running statement (performance.now()). */
  private readonly seenAt = new WeakMap<object, number>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    pool: pg.Pool,
    readonly limitMs: number,
    everyMs = Math.min(1_000, Math.max(10, limitMs / 4)),
  ) {
    // A pool's clients are pg.Client instances.
    pool.on('connect', (client) => this.connections.add(client as pg.Client));
    pool.on('remove', (client) => this.connections.delete(client as pg.Client));
    this.timer = setInterval(() => this.check(), everyMs);
    this.timer.unref();
  }

  close(): void {
    clearInterval(this.timer);
  }

  private check(): void {
    const now = performance.now();
    for (const client of this.connections) {
      const statement = runningStatement(client);
      if (!statement) continue;
      const seenAt = this.seenAt.get(statement);
      if (seenAt === undefined) {
        this.seenAt.set(statement, now);
      } else if (now - seenAt > this.limitMs) {
        this.connections.delete(client);
        // The statement fails with this error and the pool drops the connection. ETIMEDOUT is a network code, which
        // src/registry/db.ts reports as RegistryUnavailableError like the socket's own.
        const err = Object.assign(new Error(`the database did not answer within ${this.limitMs} ms; its connection was closed`), { code: 'ETIMEDOUT' });
        client.connection.stream.destroy(err);
      }
    }
  }
}

/** The statement a connection waits on: node-postgres 8 keeps it in a field it gives no accessor for (its getter is deprecated). */
function runningStatement(client: pg.Client): object | null {
  return (client as unknown as { _activeQuery?: object | null })._activeQuery ?? null;
}
