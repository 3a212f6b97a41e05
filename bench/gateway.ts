/**
 * Gateway scenarios (`npm run bench -- iti41-45k-seq` ...): starts the gateway in its own process against the machine's
 * PostgreSQL and Redis (own schema and key prefix), drives it over keep-alive connections and
 * writes the figures to bench/results/<date>-<scenario>.json.
 *
 * Scenarios: iti41-45k-seq (one 45 KB CR-BIO per request, one client), iti41-45k-c16 (16
 * concurrent clients), iti43-1 (retrieve one document, 16 clients).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Agent, request } from 'undici';
import { buildIti41Request, buildIti43Request, makeLabResult, newPatientId } from '../test/support/requests.js';
import { dropTestState, PG_URL, REDIS_URL } from '../test/support/gateway.js';
import { drive } from './support/drive.js';
import { startGatewayProcess, type GatewayProcess } from './support/gateway-process.js';

const REPOSITORY = '1.2.250.1.999.1.1.1';

const SCENARIOS: Record<string, { concurrency: number; seconds: number; kind: 'iti41' | 'iti43' }> = {
  'iti41-45k-seq': { concurrency: 1, seconds: 10, kind: 'iti41' },
  'iti41-45k-c16': { concurrency: 16, seconds: 15, kind: 'iti41' },
  'iti43-1': { concurrency: 16, seconds: 10, kind: 'iti43' },
};

async function main(): Promise<void> {
  const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const names = wanted.length ? wanted : Object.keys(SCENARIOS);
  for (const n of names) if (!SCENARIOS[n]) throw new Error(`unknown scenario ${n}; known: ${Object.keys(SCENARIOS).join(', ')}`);

  const tag = randomBytes(4).toString('hex');
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'xdsgw-bench-'));
  const port = 18000 + Math.floor(Math.random() * 1000);
  const env = {
    ...process.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    DATABASE_URL: process.env.BENCH_DATABASE_URL ?? PG_URL,
    DATABASE_SCHEMA: `bench_${tag}`,
    REDIS_URL,
    QUEUE_PREFIX: `xdsgw-bench-${tag}`,
    LOG_LEVEL: 'warn',
    REPOSITORY_UNIQUE_ID: REPOSITORY,
    // The gateway's own cost is measured here; the policy suite measures authentication.
    AUTHENTICATION: 'off',
  };
  const agent = new Agent({ connections: 64, pipelining: 1, keepAliveTimeout: 30_000 });
  let gateway: GatewayProcess | undefined;
  try {
    gateway = await startGatewayProcess(env, port, 30_000);
    const base = gateway.base;
    const patients = Array.from({ length: 20 }, () => newPatientId());
    for (const patientId of patients) await post(agent, `${base}/api/patients`, 'application/json', JSON.stringify({ patientId }));
    const template = makeLabResult(patients[0]!, { sizeKb: 45 });
    console.log(`document size ${template.length} bytes`);

    // Warm-up, and a few documents for the retrieve scenario.
    const retrievable: string[] = [];
    for (let i = 0; i < 50; i++) {
      const patientId = patients[i % patients.length]!;
      const req = buildIti41Request({ patientId, documents: [{ bytes: makeLabResult(patientId, { sizeKb: 45 }) }] }, 'mtom');
      const reply = await post(agent, `${base}/xds/iti41`, req.contentType, req.body);
      if (!reply.includes('ResponseStatusType:Success')) throw new Error(`warm-up submission failed: ${reply.slice(0, 800)}`);
      retrievable.push(req.uniqueIds.documents[0]!);
    }

    mkdirSync('bench/results', { recursive: true });
    for (const name of names) {
      const s = SCENARIOS[name]!;
      const run = s.kind === 'iti41'
        ? async (i: number): Promise<boolean> => {
            const patientId = patients[i % patients.length]!;
            const req = buildIti41Request({ patientId, documents: [{ bytes: makeLabResult(patientId, { sizeKb: 45 }) }] }, 'mtom');
            return (await post(agent, `${base}/xds/iti41`, req.contentType, req.body)).includes('ResponseStatusType:Success');
          }
        : async (i: number): Promise<boolean> => {
            const req = buildIti43Request([{ repositoryUniqueId: REPOSITORY, documentUniqueId: retrievable[i % retrievable.length]! }]);
            return (await post(agent, `${base}/xds/iti43`, req.contentType, req.body)).includes('ResponseStatusType:Success');
          };
      const { figures } = await drive(name, s.concurrency, s.seconds * 1000, async (i) => ((await run(i)) ? 1 : undefined));
      console.log(
        `${name}: ${figures.throughput.toFixed(1)} req/s, p50 ${figures.latencyMs.p50.toFixed(1)} ms, p95 ${figures.latencyMs.p95.toFixed(1)} ms, p99 ${figures.latencyMs.p99.toFixed(1)} ms, max ${figures.latencyMs.max.toFixed(1)} ms, errors ${figures.errors}/${figures.requests}`,
      );
      const file = `bench/results/${new Date().toISOString().slice(0, 10)}-${name}.json`;
      writeFileSync(file, JSON.stringify({ ...figures, date: new Date().toISOString(), node: process.version, cpus: os.cpus().length, documentBytes: template.length }, null, 2));
    }
  } finally {
    await gateway?.stop();
    await agent.close();
    await dropTestState({ schema: env.DATABASE_SCHEMA, prefix: env.QUEUE_PREFIX });
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function post(agent: Agent, url: string, contentType: string, body: Buffer | string): Promise<string> {
  const res = await request(url, { method: 'POST', headers: { 'content-type': contentType }, body, dispatcher: agent });
  return res.body.text();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
