import { spawn, type ChildProcess } from 'node:child_process';
import { constants as fsConstants } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { Redis } from 'ioredis';

export interface RedisLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface EnsureRedisOptions {
  /** REDIS_URL: used as given, without probing. */
  redisUrl?: string;
  /** The gateway data directory; a private server keeps its files in `<dataDir>/redis`. */
  dataDir: string;
  logger: RedisLogger;
  /** Where a local Redis is looked for before starting one. */
  probeUrl?: string;
  /** Name or path of the server binary. */
  redisServer?: string;
  /** How long a started server has to answer PING. */
  startTimeoutMs?: number;
}

export interface RedisHandle {
  url: string;
  /** True when this process started the server (and stop() shuts it down). */
  started: boolean;
  stop(): Promise<void>;
}

export class RedisUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RedisUnavailableError';
  }
}

const DEFAULT_PROBE_URL = 'redis://127.0.0.1:6379';
const HOW_TO_GET_REDIS = 'install Redis (e.g. apt-get install redis-server, brew install redis) or set REDIS_URL=redis://host:port';

/**
 * The Redis the queues use: REDIS_URL when set, else a Redis already answering on 127.0.0.1:6379, else a
 * private redis-server started on a free loopback port with its append-only file in `<dataDir>/redis`.
 */
export async function ensureRedis(opts: EnsureRedisOptions): Promise<RedisHandle> {
  if (opts.redisUrl) return { url: opts.redisUrl, started: false, stop: async () => undefined };

  const probeUrl = opts.probeUrl ?? DEFAULT_PROBE_URL;
  if (await answersPing(probeUrl)) {
    opts.logger.info({ url: redactUrl(probeUrl) }, 'using the local Redis');
    return { url: probeUrl, started: false, stop: async () => undefined };
  }

  const binary = await findExecutable(opts.redisServer ?? 'redis-server');
  if (binary === undefined) {
    throw new RedisUnavailableError(`No Redis answers at ${redactUrl(probeUrl)} and redis-server is not on PATH: ${HOW_TO_GET_REDIS}.`);
  }
  return startPrivateRedis(binary, path.join(opts.dataDir, 'redis'), opts.logger, opts.startTimeoutMs ?? 10_000);
}

/** One PING with a short connect timeout and no reconnection: does a Redis answer at this URL now? */
export async function answersPing(url: string, timeoutMs = 500): Promise<boolean> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

async function startPrivateRedis(binary: string, dir: string, logger: RedisLogger, timeoutMs: number): Promise<RedisHandle> {
  await fs.mkdir(dir, { recursive: true });
  const pidFile = path.join(dir, 'redis.pid');
  await stopStaleServer(pidFile, logger);

  const port = await freeLoopbackPort();
  const url = `redis://127.0.0.1:${port}`;
  const args = [
    '--bind', '127.0.0.1',
    '--port', String(port),
    '--dir', dir,
    '--pidfile', pidFile,
    '--appendonly', 'yes',
    '--appendfsync', 'everysec',
    '--save', '',
    '--daemonize', 'no',
  ];
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const output = tailOf(child);
  const state: ChildState = { stopping: false };
  child.on('error', (err) => {
    state.error = err;
    logger.warn({ err: err.message }, 'redis-server process error');
  });
  child.on('exit', (code, signal) => {
    if (!state.stopping) logger.warn({ code, signal, output: output() }, 'the private redis-server exited');
  });
  const killOnExit = (): void => {
    child.kill('SIGTERM');
  };
  process.once('exit', killOnExit);
  const stop = async (): Promise<void> => {
    state.stopping = true;
    process.removeListener('exit', killOnExit);
    await stopChild(child);
  };

  try {
    await waitForPing(url, child, state, timeoutMs);
  } catch (err) {
    await stop();
    const detail = output().join(' | ');
    throw new RedisUnavailableError(`${(err as Error).message}${detail ? `: ${detail}` : ''}; ${HOW_TO_GET_REDIS}.`);
  }
  logger.info({ url, dir, pid: child.pid }, 'started a private redis-server');
  return { url, started: true, stop };
}

interface ChildState {
  stopping: boolean;
  error?: Error;
}

async function waitForPing(url: string, child: ChildProcess, state: ChildState, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (state.error) throw new Error(`redis-server could not be started (${state.error.message})`);
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`redis-server exited at start (${child.exitCode ?? child.signalCode})`);
    }
    if (await answersPing(url, 250)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`redis-server did not answer PING within ${timeoutMs} ms`);
}

/** SIGTERM makes Redis flush its append-only file and exit; SIGKILL only if it does not within 10 s. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** A server left by a process that died without stopping it would share our append-only file: stop it first. */
async function stopStaleServer(pidFile: string, logger: RedisLogger): Promise<void> {
  const pid = Number.parseInt(await fs.readFile(pidFile, 'utf8').catch(() => ''), 10);
  if (!Number.isInteger(pid) || pid <= 0 || !(await isRedisProcess(pid))) return;
  logger.warn({ pid, pidFile }, 'stopping a redis-server left running on our data directory');
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && isAlive(pid)) await new Promise((r) => setTimeout(r, 50));
  if (isAlive(pid)) process.kill(pid, 'SIGKILL');
}

/** Whether a process of this pid exists (signal 0 checks without sending anything). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Guards against a recycled pid: on Linux the command line must be a redis-server's. */
async function isRedisProcess(pid: number): Promise<boolean> {
  if (!isAlive(pid)) return false;
  const cmdline = await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => undefined);
  return cmdline === undefined ? process.platform !== 'linux' : cmdline.includes('redis-server');
}

/** Asks the OS for a free port on the loopback interface. */
export async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port assigned'));
      });
    });
  });
}

async function findExecutable(name: string): Promise<string | undefined> {
  const candidates = name.includes(path.sep)
    ? [name]
    : (process.env.PATH ?? '').split(path.delimiter).filter(Boolean).map((d) => path.join(d, name));
  for (const file of candidates) {
    try {
      await fs.access(file, fsConstants.X_OK);
      return file;
    } catch {
      continue;
    }
  }
  return undefined;
}

/** Keeps reading the server's output (a full pipe would block it) and remembers the last lines for errors. */
function tailOf(child: ChildProcess, keep = 5): () => string[] {
  const lines: string[] = [];
  const collect = (chunk: Buffer): void => {
    for (const line of chunk.toString('utf8').split('\n')) {
      const trimmed = line.trim();
      if (trimmed === '') continue;
      lines.push(trimmed);
      if (lines.length > keep) lines.shift();
    }
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  return () => [...lines];
}

function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
