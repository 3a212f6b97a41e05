import cluster, { type Worker } from 'node:cluster';
import { randomBytes } from 'node:crypto';
import type { Config } from './config.js';
import type { Logger } from './log.js';

/** A child that dies sooner than this after its start counts as a failed start. */
const FAST_EXIT_MS = 10_000;
/** Failed starts in a row after which the primary gives up instead of forking forever. */
const MAX_FAILED_STARTS = 5;

export interface GatewayCluster {
  /** Resolves once every child listens (or rejects if one cannot start). */
  ready: Promise<void>;
  /** SIGTERM to every child, resolved when all have exited. */
  stop(): Promise<void>;
}

/**
 * The primary of GATEWAY_PROCESSES gateway processes sharing one port (node:cluster hands connections out
 * round-robin). The primary serves nothing: it forks the children with the Redis URL it resolved, forks a
 * new child when one dies, and stops them all on shutdown. Each child runs the whole gateway (and its
 * in-process workers when IN_PROCESS_WORKERS is on).
 */
export function startGatewayCluster(config: Config, redisUrl: string, logger: Logger): GatewayCluster {
  const env: NodeJS.ProcessEnv = {
    REDIS_URL: redisUrl,
    // Console sessions must verify in whichever child the next request reaches.
    CONSOLE_SESSION_SECRET: config.consoleSessionSecret ?? randomBytes(32).toString('base64url'),
  };
  let stopping = false;
  let failedStarts = 0;
  let listening = 0;
  let settle: { resolve: () => void; reject: (err: Error) => void } | undefined;
  const ready = new Promise<void>((resolve, reject) => {
    settle = { resolve, reject };
  });

  const fork = (): void => {
    const startedAt = Date.now();
    const child: Worker = cluster.fork(env);
    child.once('listening', () => {
      failedStarts = 0;
      if (++listening === config.gatewayProcesses) settle?.resolve();
    });
    child.once('exit', (code, signal) => {
      if (stopping) return;
      failedStarts = Date.now() - startedAt < FAST_EXIT_MS ? failedStarts + 1 : 0;
      logger.error({ pid: child.process.pid, code, signal, failedStarts }, 'gateway process exited; starting another');
      if (failedStarts >= MAX_FAILED_STARTS) {
        settle?.reject(new Error(`gateway processes failed to start ${failedStarts} times in a row`));
        return;
      }
      fork();
    });
  };
  for (let i = 0; i < config.gatewayProcesses; i++) fork();

  return {
    ready,
    async stop() {
      stopping = true;
      const children = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && !w.isDead());
      await Promise.all(
        children.map(
          (w) =>
            new Promise<void>((resolve) => {
              w.once('exit', () => resolve());
              w.process.kill('SIGTERM');
            }),
        ),
      );
    },
  };
}
