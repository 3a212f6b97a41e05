import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { CdaValidator } from './cda/validate-document.js';
import type { Config } from './config.js';
import type { GatewayContext } from './context.js';
import { ContentStore } from './content/store.js';
import { startSweeper } from './content/sweeper-schedule.js';
import { createApp } from './http/app.js';
import { Backpressure, indexQueueDepth } from './http/backpressure.js';
import { createServer, schemeOf } from './http/tls.js';
import type { Logger } from './log.js';
import type { GatewayMetrics } from './metrics/gateway-metrics.js';
import { gatewayMetrics } from './metrics/setup.js';
import { schedulePurge } from './policy/purge.js';
import { startPolicyServices } from './policy/services.js';
import { consumerConnection, producerConnection, waitReady } from './queue/connection.js';
import { SubmissionQueue } from './queue/submissions.js';
import { startWorkers, type Workers } from './queue/workers.js';
import { openDb, type Db } from './registry/db.js';
import { migrate } from './registry/migrate.js';
import { Registry } from './registry/registry.js';
import { preloadSigningIdentity } from './signature/keys.js';
import { gatewaySignerOf } from './signature/submission.js';

/** Past the longest legitimate request (a submission waiting for its commit). */
const DEADLINE_GRACE_MS = 5000;

export interface Backends {
  db: Db;
  registry: Registry;
  content: ContentStore;
  close(): Promise<void>;
}

/** Database (migrated) and content store: what both the gateway and the workers need. */
export async function openBackends(config: Config): Promise<Backends> {
  const db = await openDb({
    databaseUrl: config.databaseUrl,
    pgliteDir: path.join(config.dataDir, 'registry'),
    schema: config.databaseSchema,
    poolSize: config.databasePoolSize,
  });
  try {
    await migrate(db);
    const content = await ContentStore.open(config.contentDir);
    return { db, registry: new Registry(db), content, close: () => db.close() };
  } catch (err) {
    await db.close();
    throw err;
  }
}

export interface RunningWorkers {
  close(): Promise<void>;
}

/** The submission workers plus the orphan sweeper, on their own Redis connections. */
export function runWorkers(config: Config, redisUrl: string, backends: Backends, logger: Logger, metrics?: GatewayMetrics): RunningWorkers {
  const workers: Workers = startWorkers({
    connection: () => consumerConnection(redisUrl),
    prefix: config.queuePrefix,
    concurrency: config.workerConcurrency,
    stalledIntervalMs: config.stalledIntervalMs,
    content: backends.content,
    registry: backends.registry,
    logger,
    metrics,
    signer: () => gatewaySignerOf(config, logger),
  });
  if (config.signing) preloadSigningIdentity(config, logger);
  const sweeper = startSweeper(backends.content, backends.registry, config.orphanGraceMs, logger);
  return {
    async close() {
      sweeper.stop();
      await workers.close();
    },
  };
}

export interface RunningGateway {
  url: string;
  server: Server;
  context: GatewayContext;
  close(): Promise<void>;
}

/** The HTTP gateway on given backends and Redis; workers in-process when configured (always with PGlite). */
export async function startGateway(config: Config, redisUrl: string, backends: Backends, logger: Logger): Promise<RunningGateway> {
  const cda = await CdaValidator.load({ schemaDir: config.cdaSchemaDir, schemaRoot: config.cdaSchemaRoot, unknownType: config.cdaUnknownType });
  const producer = producerConnection(redisUrl);
  producer.on('error', () => undefined);
  await waitReady(producer, 10_000);
  const queue = new SubmissionQueue(producer, consumerConnection(redisUrl), config.queuePrefix, config.jobAttempts);
  await queue.ready();
  const metrics = gatewayMetrics(producer, config.queuePrefix, backends.db);
  const workers = config.inProcessWorkers || backends.db.mode === 'pglite' ? runWorkers(config, redisUrl, backends, logger, metrics) : undefined;

  const depth = indexQueueDepth(producer, config.queuePrefix);
  const backpressure = new Backpressure(
    { maxInflight: config.maxInflightSubmissions, maxQueueDepth: config.maxQueueDepth, depthCacheMs: 500 },
    depth.read,
  );
  const policy = await startPolicyServices(config, backends.registry, logger);
  const context: GatewayContext = {
    config,
    registry: backends.registry,
    content: backends.content,
    queue,
    logger,
    cda,
    backpressure,
    authenticator: policy.authenticator,
    audit: policy.audit,
    metrics,
  };
  const purge = schedulePurge(context);
  const app = createApp(context, [
    { name: 'redis', check: () => queue.ping() },
    { name: 'database', check: () => backends.db.ping() },
    { name: 'contentStore', check: () => backends.content.ping() },
  ]);
  const server: Server = createServer(app, config, logger);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  server.keepAliveTimeout = 65_000;
  const { port } = server.address() as AddressInfo;
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;

  return {
    url: `${schemeOf(config)}://${host}:${port}`,
    server,
    context,
    async close() {
      // In-flight requests finish (a submission within SUBMISSION_TIMEOUT_MS); a client holding its connection past that is cut.
      const cutOff = setTimeout(() => server.closeAllConnections(), config.submissionTimeoutMs + DEADLINE_GRACE_MS);
      // A keep-alive connection turns idle once its last answer is sent: close it then, not at keepAliveTimeout.
      const idle = setInterval(() => server.closeIdleConnections(), 100);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      clearTimeout(cutOff);
      clearInterval(idle);
      purge.stop();
      policy.close();
      await workers?.close();
      await depth.close();
      await metrics.close();
      await queue.close();
      producer.disconnect();
      cda.dispose();
    },
  };
}
