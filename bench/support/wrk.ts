/**
 * wrk (a C load generator, Debian's package `wrk`) as a second load client of the ITI-18 suite. The Node
 * load client's own event loop lags by milliseconds under 16 clients, and in a closed loop that lag counts in
 * every request: against the bare HTTP floor it reached about half of what wrk gets (docs/registry.md, seventh
 * session). wrk sends the same prebuilt requests, rotated by a Lua script; it does not read the answers, so
 * the suite checks them with its own client in the same run and counts here only non-2xx answers and socket errors.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

export interface WrkFigures {
  connections: number;
  threads: number;
  seconds: number;
  requests: number;
  /** Non-2xx answers and socket errors (connect, read, write, timeout). */
  errors: number;
  throughput: number;
  latencyMs: { p50: number; p75: number; p90: number; p99: number; max: number };
}

export interface WrkRequest {
  contentType: string;
  body: Buffer;
}

/** Whether wrk is on this machine. */
export function hasWrk(): boolean {
  return spawnSync('wrk', ['-v'], { stdio: 'ignore' }).error === undefined;
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

function durationMs(value: string, unit: string): number {
  const factor = UNIT_MS[unit];
  if (factor === undefined) throw new Error(`wrk printed a duration in an unknown unit: ${value}${unit}`);
  return Number(value) * factor;
}

/** The figures of `wrk --latency` output; throws if a figure the suite needs is missing. */
export function parseWrkOutput(out: string, run: { connections: number; threads: number }): WrkFigures {
  const percentile = (p: number): number => {
    const m = new RegExp(`^\\s*${p}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(out);
    if (!m) throw new Error(`wrk printed no ${p}th percentile:\n${out}`);
    return durationMs(m[1]!, m[2]!);
  };
  const total = /^\s*(\d+) requests in ([\d.]+)(us|ms|s|m),/m.exec(out);
  const rate = /^Requests\/sec:\s+([\d.]+)/m.exec(out);
  const max = /^\s*Latency\s+\S+\s+\S+\s+([\d.]+)(us|ms|s|m)/m.exec(out);
  if (!total || !rate || !max) throw new Error(`wrk printed no totals:\n${out}`);
  const non2xx = Number(/^\s*Non-2xx or 3xx responses: (\d+)/m.exec(out)?.[1] ?? 0);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const socketErrors = socket ? socket.slice(1, 5).reduce((sum, n) => sum + Number(n), 0) : 0;
  return {
    ...run,
    seconds: durationMs(total[2]!, total[3]!) / 1000,
    requests: Number(total[1]),
    errors: non2xx + socketErrors,
    throughput: Number(rate[1]),
    latencyMs: { p50: percentile(50), p75: percentile(75), p90: percentile(90), p99: percentile(99), max: durationMs(max[1]!, max[2]!) },
  };
}

/** A Lua long bracket that none of the bodies contains. */
function longBracket(bodies: string[]): { open: string; close: string } {
  for (let level = 1; ; level++) {
    const close = `]${'='.repeat(level)}]`;
    if (!bodies.some((b) => b.includes(close))) return { open: `[${'='.repeat(level)}[`, close };
  }
}

/** The Lua script that rotates `requests` (POST to `urlPath`), each formatted once per thread. */
export function wrkScript(requests: WrkRequest[], urlPath: string): string {
  const bodies = requests.map((r) => r.body.toString('utf8'));
  const { open, close } = longBracket(bodies);
  const text = (s: string): string => `${open}${s}${close}`;
  return [
    `local bodies = {${bodies.map(text).join(',\n')}}`,
    `local types = {${requests.map((r) => text(r.contentType)).join(',')}}`,
    'local built, n, i = {}, 0, 0',
    // Each thread starts at its own place in the rotation.
    'local threads = 0',
    'setup = function(thread)',
    '  thread:set("start", threads * 997)',
    '  threads = threads + 1',
    'end',
    'init = function(args)',
    `  for k, b in ipairs(bodies) do built[k] = wrk.format("POST", ${text(urlPath)}, { ["Content-Type"] = types[k] }, b) end`,
    '  n = #built',
    '  i = (start or 0) % n',
    'end',
    'request = function()',
    '  i = i % n + 1',
    '  return built[i]',
    'end',
    '',
  ].join('\n');
}

/** Sends `requests` in rotation to `url` from `connections` connections for `seconds`. */
export async function runWrk(opts: { url: URL; requests: WrkRequest[]; connections: number; threads: number; seconds: number }): Promise<WrkFigures> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'xdsgw-wrk-'));
  try {
    const script = path.join(dir, 'requests.lua');
    writeFileSync(script, wrkScript(opts.requests, opts.url.pathname));
    const args = ['-t', String(opts.threads), '-c', String(opts.connections), '-d', `${opts.seconds}s`, '--latency', '-s', script, opts.url.origin];
    const { stdout } = await promisify(execFile)('wrk', args, { encoding: 'utf8', maxBuffer: 1024 * 1024 });
    return parseWrkOutput(stdout, { connections: opts.connections, threads: opts.threads });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
