/**
 * The system under test: the gateway in its own process with its store/index workers inside, as the
 * default configuration runs it, or with `BENCH_WORKERS=separate` the workers in a process of their own
 * (`npm run worker`, IN_PROCESS_WORKERS=false), which splits their CPU from the gateway's. On the
 * machine's PostgreSQL and Redis with their own schema and key prefix, which close() removes.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { request } from 'undici';
import { dropTestState, PG_URL, REDIS_URL } from '../../test/support/gateway.js';
import { newPatientId } from '../../test/support/requests.js';
import { startGatewayProcess, startWorkerProcess, type GatewayProcess, type WorkerProcess } from './gateway-process.js';
import { pidsNamed, PostgresProcesses, PROCESS_LIST_MS, refreshedEvery, UsageSampler, withDescendants, type ProcessGroup } from './proc.js';

export const REPOSITORY = '1.2.250.1.999.1.1.1';

export interface Stack {
  base: string;
  gatewayPid: number;
  workerPid?: number;
  workers: 'separate' | 'in-process';
  databaseUrl: string;
  /** Patients registered through the API at start. */
  patients: string[];
  /** A sampler of gateway, worker, PostgreSQL (our backends), Redis and the given extra processes. */
  sampler(extra: Record<string, number>, opts?: { rssEveryMs?: number }): UsageSampler;
  close(): Promise<void>;
}

export async function startStack(opts: { patients?: number; env?: Record<string, string> } = {}): Promise<Stack> {
  const workers = process.env.BENCH_WORKERS === 'separate' ? 'separate' : 'in-process';
  const tag = randomBytes(4).toString('hex');
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'xdsgw-bench-'));
  const port = 18000 + Math.floor(Math.random() * 1000);
  const databaseUrl = process.env.BENCH_DATABASE_URL ?? PG_URL;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    DATABASE_URL: databaseUrl,
    DATABASE_SCHEMA: `bench_${tag}`,
    REDIS_URL,
    QUEUE_PREFIX: `xdsgw-bench-${tag}`,
    LOG_LEVEL: 'warn',
    REPOSITORY_UNIQUE_ID: REPOSITORY,
    // The gateway's own cost is measured here; the policy suite measures authentication.
    AUTHENTICATION: 'off',
    IN_PROCESS_WORKERS: workers === 'in-process' ? 'true' : 'false',
    ...opts.env,
  };
  let gateway: GatewayProcess | undefined;
  let worker: WorkerProcess | undefined;
  let postgres: PostgresProcesses | undefined;
  const close = async (): Promise<void> => {
    await gateway?.stop();
    await worker?.stop();
    await postgres?.close();
    await dropTestState({ schema: env.DATABASE_SCHEMA!, prefix: env.QUEUE_PREFIX! });
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    gateway = await startGatewayProcess(env, port, 60_000);
    // The gateway migrated the schema: the worker finds it ready.
    if (workers === 'separate') worker = await startWorkerProcess(env);
    const patients = Array.from({ length: opts.patients ?? 50 }, () => newPatientId());
    for (const patientId of patients) {
      const res = await request(`${gateway.base}/api/patients`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ patientId }) });
      if (res.statusCode !== 201) throw new Error(`registering patient ${patientId}: HTTP ${res.statusCode} ${await res.body.text()}`);
      await res.body.dump();
    }
    const gatewayPid = gateway.child.pid!;
    const workerPid = worker?.child.pid;
    // With GATEWAY_PROCESSES > 1 the gateway is a primary and its forked children: all of them count.
    const serving = new PostgresProcesses(databaseUrl, () => withDescendants([gatewayPid, ...(workerPid ? [workerPid] : [])]));
    const gatewayTree = refreshedEvery(PROCESS_LIST_MS, () => withDescendants([gatewayPid]));
    const redis = refreshedEvery(PROCESS_LIST_MS, () => pidsNamed('redis-server'));
    postgres = serving;
    return {
      base: gateway.base,
      gatewayPid,
      workerPid,
      workers,
      databaseUrl,
      patients,
      sampler(extra, samplerOpts) {
        const groups: ProcessGroup[] = [
          { name: 'gateway', pids: gatewayTree },
          { name: 'worker', pids: () => (workerPid ? [workerPid] : []) },
          { name: 'postgres', pids: () => serving.list() },
          { name: 'redis', pids: redis },
          ...Object.entries(extra).map(([name, pid]) => ({ name, pids: () => [pid] })),
        ];
        const memory: Record<string, number> = { gateway: gatewayPid, ...(workerPid ? { worker: workerPid } : {}) };
        return new UsageSampler(groups, memory, samplerOpts);
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
