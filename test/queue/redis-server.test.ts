import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { RedisUnavailableError, answersPing, ensureRedis, freeLoopbackPort, type RedisHandle } from '../../src/queue/redis-server.js';

const silent = { info: () => undefined, warn: () => undefined };

async function exists(file: string): Promise<boolean> {
  return fs.stat(file).then(
    () => true,
    () => false,
  );
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

describe('embedded redis', function () {
  this.timeout(30_000);
  let dataDir: string;
  let closedUrl: string;
  const handles: RedisHandle[] = [];

  beforeEach(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'redis-server-'));
    closedUrl = `redis://127.0.0.1:${await freeLoopbackPort()}`;
  });

  afterEach(async () => {
    for (const h of handles.splice(0)) await h.stop();
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  it('uses REDIS_URL as given without probing it', async () => {
    const handle = await ensureRedis({ redisUrl: 'redis://redis.invalid:6380/2', dataDir, logger: silent });
    expect(handle).to.include({ url: 'redis://redis.invalid:6380/2', started: false });
    await handle.stop();
    expect(await exists(path.join(dataDir, 'redis'))).to.equal(false);
  });

  it('uses a Redis that already answers at the probe address', async function () {
    if (!(await answersPing('redis://127.0.0.1:6379'))) this.skip();
    const handle = await ensureRedis({ dataDir, logger: silent });
    expect(handle).to.include({ url: 'redis://127.0.0.1:6379', started: false });
  });

  it('reports a closed port as not answering within the connect timeout', async () => {
    const t0 = Date.now();
    expect(await answersPing(closedUrl)).to.equal(false);
    expect(Date.now() - t0).to.be.lessThan(2_000);
  });

  it('starts a private redis-server with an append-only file under <dataDir>/redis, and stop() shuts it down', async () => {
    const handle = await ensureRedis({ dataDir, logger: silent, probeUrl: closedUrl });
    handles.push(handle);
    expect(handle.started).to.equal(true);
    expect(handle.url).to.match(/^redis:\/\/127\.0\.0\.1:\d+$/);
    expect(handle.url).to.not.equal(closedUrl);

    const client = new Redis(handle.url, { maxRetriesPerRequest: 1 });
    try {
      await client.set('durable', 'yes');
      expect(await client.get('durable')).to.equal('yes');
      expect(await client.config('GET', 'appendonly')).to.deep.equal(['appendonly', 'yes']);
      expect(await client.config('GET', 'bind')).to.deep.equal(['bind', '127.0.0.1']);
    } finally {
      client.disconnect();
    }

    const redisDir = path.join(dataDir, 'redis');
    const aofWritten = await waitFor(async () => {
      const files = await fs.readdir(path.join(redisDir, 'appendonlydir')).catch(() => [] as string[]);
      return files.some((f) => f.endsWith('.aof'));
    }, 5_000);
    expect(aofWritten).to.equal(true);
    expect(await exists(path.join(redisDir, 'redis.pid'))).to.equal(true);

    await handle.stop();
    expect(await answersPing(handle.url)).to.equal(false);
    expect(await exists(path.join(redisDir, 'redis.pid'))).to.equal(false);
  });

  it('keeps the data of the private server across a restart on the same data directory', async () => {
    const first = await ensureRedis({ dataDir, logger: silent, probeUrl: closedUrl });
    handles.push(first);
    const writer = new Redis(first.url, { maxRetriesPerRequest: 1 });
    await writer.set('job', '42');
    writer.disconnect();
    await first.stop();

    const second = await ensureRedis({ dataDir, logger: silent, probeUrl: closedUrl });
    handles.push(second);
    const reader = new Redis(second.url, { maxRetriesPerRequest: 1 });
    try {
      expect(await reader.get('job')).to.equal('42');
    } finally {
      reader.disconnect();
    }
  });

  it('stops a redis-server left running on the same data directory before starting its own', async () => {
    const stale = await ensureRedis({ dataDir, logger: silent, probeUrl: closedUrl });
    handles.push(stale);
    const fresh = await ensureRedis({ dataDir, logger: silent, probeUrl: closedUrl });
    handles.push(fresh);
    expect(await answersPing(stale.url)).to.equal(false);
    expect(await answersPing(fresh.url)).to.equal(true);
  });

  it('fails with a one-line RedisUnavailableError when no Redis answers and redis-server is not installed', async () => {
    let error: unknown;
    try {
      await ensureRedis({ dataDir, logger: silent, probeUrl: closedUrl, redisServer: 'redis-server-that-is-not-installed' });
    } catch (err) {
      error = err;
    }
    expect(error).to.be.instanceOf(RedisUnavailableError);
    const message = (error as Error).message;
    expect(message).to.not.include('\n');
    expect(message).to.include('REDIS_URL');
    expect(message).to.include('redis-server');
  });

  it('fails with RedisUnavailableError carrying the server output when redis-server cannot start', async () => {
    const fake = path.join(dataDir, 'broken-redis-server');
    await fs.writeFile(fake, '#!/bin/sh\necho "FATAL CONFIG FILE ERROR" >&2\nexit 1\n', { mode: 0o755 });
    let error: unknown;
    try {
      await ensureRedis({ dataDir, logger: silent, probeUrl: closedUrl, redisServer: fake });
    } catch (err) {
      error = err;
    }
    expect(error).to.be.instanceOf(RedisUnavailableError);
    expect((error as Error).message).to.include('FATAL CONFIG FILE ERROR');
  });
});
