import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { Agent, request } from 'undici';
import { isAlive } from '../src/queue/redis-server.js';
import { dropTestState, PG_URL, REDIS_URL } from './support/gateway.js';
import { buildIti41Request, makeLabResult, newPatientId } from './support/requests.js';
import { submissionResult } from './support/responses.js';

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('GATEWAY_PROCESSES: several gateway processes on one port', function () {
  this.timeout(180_000);
  const tag = randomBytes(6).toString('hex');
  const schema = `t_${tag}`;
  const prefix = `xdsgw-test-${tag}`;
  const port = 20_000 + Math.floor(Math.random() * 10_000);
  const base = `http://127.0.0.1:${port}`;
  let dataDir: string;
  let primary: ChildProcess;

  /**
   * The pids that answer /health over fresh connections (the cluster spreads connections over its processes).
   * A connection handed to a process at the moment it dies is never answered: such probes time out and are skipped.
   */
  async function servingPids(tries = 24): Promise<Set<number>> {
    const pids = new Set<number>();
    for (let i = 0; i < tries; i++) {
      const agent = new Agent({ pipelining: 0, headersTimeout: 3000, bodyTimeout: 3000 });
      try {
        const res = await request(`${base}/health`, { dispatcher: agent, reset: true });
        pids.add(((await res.body.json()) as { pid: number }).pid);
      } catch {
        // That process is gone; the next connection goes to another.
      } finally {
        await agent.destroy();
      }
    }
    return pids;
  }

  before(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'xdsgw-test-'));
    primary = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: {
        ...process.env,
        GATEWAY_PROCESSES: '2',
        PORT: String(port),
        HOST: '127.0.0.1',
        DATA_DIR: dataDir,
        DATABASE_URL: PG_URL,
        DATABASE_SCHEMA: schema,
        REDIS_URL,
        QUEUE_PREFIX: prefix,
        AUTHENTICATION: 'off',
        WORKER_STALLED_INTERVAL_MS: '1000',
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    await until('the cluster to be ready', async () => ((await request(`${base}/ready`)).statusCode === 200 ? true : undefined));
  });

  after(async () => {
    if (primary.exitCode === null && primary.signalCode === null) {
      primary.kill('SIGKILL');
      await new Promise((r) => primary.once('exit', r));
    }
    await dropTestState({ schema, prefix });
    await rm(dataDir, { recursive: true, force: true });
  });

  it('serves from two processes, neither of them the primary', async () => {
    const pids = await until('both processes to answer', async () => {
      const seen = await servingPids();
      return seen.size === 2 ? seen : undefined;
    });
    expect(pids.has(primary.pid!)).to.equal(false);
  });

  it('registers submissions whichever process receives them', async () => {
    const patientId = newPatientId();
    const created = await request(`${base}/api/patients`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ patientId }) });
    expect(created.statusCode).to.equal(201);
    await created.body.dump();
    for (let i = 0; i < 6; i++) {
      const req = buildIti41Request({ patientId, documents: [{ bytes: makeLabResult(patientId, { sizeKb: 4 }) }] }, 'mtom');
      const agent = new Agent({ pipelining: 0 });
      try {
        const res = await request(`${base}/xds/iti41`, { method: 'POST', headers: { 'content-type': req.contentType }, body: req.body, dispatcher: agent, reset: true });
        const body = Buffer.from(await res.body.arrayBuffer());
        expect(submissionResult({ status: res.statusCode, contentType: String(res.headers['content-type']), body, text: body.toString() })).to.deep.equal({
          status: 'Success',
          errors: [],
        });
      } finally {
        await agent.close();
      }
    }
  });

  it('replaces a gateway process that dies', async () => {
    const before = await servingPids();
    const victim = [...before][0]!;
    process.kill(victim, 'SIGKILL');
    const after = await until('a new process to serve', async () => {
      const seen = await servingPids();
      return seen.size === 2 && !seen.has(victim) ? seen : undefined;
    });
    expect([...after].filter((p) => before.has(p))).to.have.length(1);
  });

  it('stops every process on SIGTERM and exits 0', async () => {
    const pids = await servingPids();
    primary.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => primary.once('exit', (c) => r(c)));
    expect(code).to.equal(0);
    for (const pid of pids) expect(isAlive(pid), `process ${pid}`).to.equal(false);
  });
});
