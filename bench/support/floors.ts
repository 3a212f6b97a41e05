/**
 * Floors of the ITI-18 benchmark, measured in the same run as the gateway so that the machine's mood
 * of the moment weighs on both: PostgreSQL alone (pgbench, a C client, running the gateway's statement)
 * and a bare HTTP server over `pg` (bench/support/query-floor.ts). What the gateway reaches against them
 * is a ratio that a noisy shared machine does not blur.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { quantile } from './drive.js';
import type { FloorSpec } from './query-floor.js';
import { GATEWAY_NODE_ARGS, nodeArgs } from './gateway-process.js';

/** A SQL literal of a parameter value. pgbench reads `:name` as a variable even inside quotes, so ':' is written chr(58). */
function literal(v: unknown): string {
  if (Array.isArray(v)) return `array[${v.map(literal).join(', ')}]::text[]`;
  const quoted = `'${String(v).replaceAll("'", "''")}'`;
  return quoted.replaceAll(':', "' || chr(58) || '");
}

export interface PgbenchFigures {
  clients: number;
  throughput: number;
  latencyMsAverage: number;
  /** From pgbench's log of every transaction: PostgreSQL's own tail, with a C client and no HTTP. */
  latencyMs: { p50: number; p90: number; p99: number; max: number };
}

/** Whether pgbench is on this machine (it comes with PostgreSQL's client programs). */
export function hasPgbench(): boolean {
  try {
    execFileSync('pgbench', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs the gateway's statement from `clients` pgbench connections for `seconds`, prepared as the
 * gateway prepares it, on connections whose search_path is the schema (as the gateway's: no statement
 * per query for it). The varying parameter is the SQL expression `vary`, which may use `:k`, the pgbench
 * expression `key` of `:i`, a random integer in [0, iMax] (so that the keys can be those of the gateway's
 * requests); the others are written as literals.
 */
export function pgbench(opts: {
  databaseUrl: string;
  schema: string;
  sql: string;
  params: unknown[];
  varyIndex: number;
  vary: string;
  iMax: number;
  key: string;
  clients: number;
  seconds: number;
}): PgbenchFigures {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'xdsgw-pgbench-'));
  try {
    const sql = opts.sql.replace(/\$(\d+)/g, (_, n: string) => {
      const i = Number(n) - 1;
      return i === opts.varyIndex ? `(${opts.vary})` : `(${literal(opts.params[i])})`;
    });
    const script = path.join(dir, 'query.sql');
    writeFileSync(script, `\\set i random(0, ${opts.iMax})\n\\set k ${opts.key}\n${sql};\n`);
    // -l: one line per transaction in pgbench_log.* of the working directory, its latency in µs third.
    const out = execFileSync('pgbench', ['-n', '-l', '-M', 'prepared', '-c', String(opts.clients), '-j', '2', '-T', String(opts.seconds), '-f', script, opts.databaseUrl], {
      cwd: dir,
      env: { ...process.env, PGOPTIONS: `-c search_path=${opts.schema}` },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const tps = /^tps = ([\d.]+)/m.exec(out)?.[1];
    const latency = /^latency average = ([\d.]+) ms/m.exec(out)?.[1];
    if (tps === undefined || latency === undefined) throw new Error(`pgbench printed no figures:\n${out}`);
    return { clients: opts.clients, throughput: Number(tps), latencyMsAverage: Number(latency), latencyMs: transactionLatencies(dir) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Percentiles of the latencies in the pgbench_log.* files of `dir` (fields: client, transaction, latency in µs, …). */
export function transactionLatencies(dir: string): PgbenchFigures['latencyMs'] {
  const ms: number[] = [];
  for (const file of readdirSync(dir).filter((f) => f.startsWith('pgbench_log.'))) {
    for (const line of readFileSync(path.join(dir, file), 'utf8').split('\n')) {
      const micros = line.split(' ')[2];
      if (micros !== undefined) ms.push(Number(micros) / 1000);
    }
  }
  if (!ms.length || ms.some((v) => !Number.isFinite(v))) throw new Error(`pgbench wrote no readable transaction log in ${dir}`);
  ms.sort((a, b) => a - b);
  return { p50: quantile(ms, 0.5), p90: quantile(ms, 0.9), p99: quantile(ms, 0.99), max: ms[ms.length - 1]! };
}

export interface FloorServer {
  base: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Starts bench/support/query-floor.ts on `port` for this statement, with the gateway's V8 settings. */
export async function startQueryFloor(spec: FloorSpec, env: NodeJS.ProcessEnv, port: number): Promise<FloorServer> {
  const child = spawn(process.execPath, [...GATEWAY_NODE_ARGS, ...nodeArgs(), '--import', 'tsx', 'bench/support/query-floor.ts', String(port)], {
    env: { ...env, FLOOR_SPEC: JSON.stringify(spec) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`query floor server exited with ${code}`)));
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('listening')) resolve();
    });
  });
  child.removeAllListeners('exit');
  return {
    base: `http://127.0.0.1:${port}`,
    child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
