/**
 * What the processes of a benchmark cost, read from Linux /proc: CPU seconds (utime + stime of
 * /proc/<pid>/stat) and resident memory (VmRSS, VmHWM of /proc/<pid>/status). Process groups are
 * sampled together so that a run reports "gateway 85 % of a core, PostgreSQL 40 %, ...".
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import pg from 'pg';

const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** CPU seconds a process has used so far (user + system), or undefined once it is gone. */
export function cpuSeconds(pid: number): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: fields are counted after its last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

export interface Memory {
  rssKb: number;
  /** Peak RSS since start or since resetPeakRss(). */
  hwmKb: number;
}

export function memoryOf(pid: number): Memory | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const kb = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
  return { rssKb: kb('VmRSS'), hwmKb: kb('VmHWM') };
}

/** Resets VmHWM to the current RSS (Linux ≥ 4.0, writing 5 to clear_refs); false when not permitted. */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** These processes and all their descendants (the gateway processes a GATEWAY_PROCESSES primary forks). */
export function withDescendants(roots: number[]): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parentOf.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // Gone meanwhile.
    }
  }
  const found = new Set(roots);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, ppid] of parentOf) {
      if (!found.has(pid) && found.has(ppid)) {
        found.add(pid);
        grew = true;
      }
    }
  }
  return [...found];
}

/** Processes whose command name (comm) is one of `names`. */
export function pidsNamed(...names: string[]): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const comm = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
      if (names.includes(comm)) out.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

/** Local TCP ports of the established connections of `pids` to `remotePort` (ss -tnp). */
function clientPorts(pids: number[], remotePort: number): number[] {
  const out = execFileSync('ss', ['-tnpH', 'state', 'established', `( dport = :${remotePort} )`], { encoding: 'utf8' });
  const ports: number[] = [];
  for (const line of out.split('\n')) {
    const pid = /pid=(\d+)/.exec(line)?.[1];
    if (!pid || !pids.includes(Number(pid))) continue;
    const local = /^\s*\d+\s+\d+\s+\S+:(\d+)\s/.exec(line)?.[1];
    if (local) ports.push(Number(local));
  }
  return ports;
}

/** PostgreSQL's background processes whose work follows ours (WAL writer, background writer, checkpointer). */
const POSTGRES_AUXILIARY = /postgres: .*(walwriter|background writer|checkpointer)/;

/**
 * The PostgreSQL processes that serve `clientPids`: their backends (found through pg_stat_activity by the
 * clients' TCP ports, since every gateway connects with the same application_name) and the auxiliary
 * processes. Other sessions of the machine's shared server are left out. One connection is kept open
 * and the list is refreshed at most every second.
 */
export class PostgresProcesses {
  private client?: pg.Client;
  private pids: number[] = [];
  private at = -Infinity;

  constructor(
    private readonly databaseUrl: string,
    private readonly clientPids: () => number[],
  ) {}

  async list(): Promise<number[]> {
    if (performance.now() - this.at < 1000) return this.pids;
    this.at = performance.now();
    if (!this.client) {
      this.client = new pg.Client({ connectionString: this.databaseUrl, application_name: 'xdsgw-bench-monitor' });
      await this.client.connect();
    }
    const ports = clientPorts(this.clientPids(), Number(new URL(this.databaseUrl).port || 5432));
    const rows = await this.client.query<{ pid: number }>('select pid from pg_stat_activity where client_port = any($1::int[])', [ports]);
    const auxiliary = pidsNamed('postgres').filter((pid) => {
      try {
        return POSTGRES_AUXILIARY.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' '));
      } catch {
        return false;
      }
    });
    this.pids = [...rows.rows.map((r) => r.pid), ...auxiliary];
    return this.pids;
  }

  async close(): Promise<void> {
    await this.client?.end();
    this.client = undefined;
  }
}

/** A named set of processes, found again at each sample (backends come and go). */
export interface ProcessGroup {
  name: string;
  pids: () => number[] | Promise<number[]>;
}

export interface GroupCost {
  cpuSeconds: number;
  /** CPU seconds over wall seconds, in % of one core (200 % = both cores of this machine). */
  cpuPercent: number;
}

export interface Usage {
  seconds: number;
  groups: Record<string, GroupCost>;
  /** Per process followed for memory: peak RSS during the run (VmHWM, reset at start, and polled VmRSS). */
  peakRssKb: Record<string, number>;
  /** RSS at the start of the run, same keys. */
  startRssKb: Record<string, number>;
  /** RSS samples every `rssEveryMs` (for trends). */
  rssSamples: { t: number; rssKb: Record<string, number> }[];
}

/**
 * Samples CPU of process groups and memory of single processes from start() to stop(). Each pid's
 * last reading is kept, so a process that exits during the run still counts what it used until the
 * last sample (at most one interval lost).
 */
export class UsageSampler {
  private readonly first = new Map<number, number>();
  private readonly last = new Map<number, number>();
  private readonly groupOf = new Map<number, string>();
  private readonly peak: Record<string, number> = {};
  private readonly startRss: Record<string, number> = {};
  private readonly samples: Usage['rssSamples'] = [];
  private timer?: NodeJS.Timeout;
  private started = 0;
  private lastRssSample = -Infinity;
  private sampling: Promise<void> = Promise.resolve();

  constructor(
    private readonly groups: ProcessGroup[],
    private readonly memory: Record<string, number>,
    private readonly opts: { everyMs?: number; rssEveryMs?: number } = {},
  ) {}

  async start(): Promise<void> {
    for (const [name, pid] of Object.entries(this.memory)) {
      resetPeakRss(pid);
      const m = memoryOf(pid);
      this.startRss[name] = m?.rssKb ?? 0;
      this.peak[name] = m?.rssKb ?? 0;
    }
    this.started = performance.now();
    await this.sample(true);
    this.timer = setInterval(() => {
      this.sampling = this.sampling.then(() => this.sample()).catch(() => undefined);
    }, this.opts.everyMs ?? 250);
  }

  async stop(): Promise<Usage> {
    clearInterval(this.timer);
    await this.sampling;
    await this.sample();
    const seconds = (performance.now() - this.started) / 1000;
    const groups: Record<string, GroupCost> = {};
    for (const g of this.groups) groups[g.name] = { cpuSeconds: 0, cpuPercent: 0 };
    for (const [pid, name] of this.groupOf) {
      const used = (this.last.get(pid) ?? 0) - (this.first.get(pid) ?? 0);
      groups[name]!.cpuSeconds += used;
    }
    for (const g of Object.values(groups)) {
      g.cpuSeconds = round(g.cpuSeconds, 2);
      g.cpuPercent = round((100 * g.cpuSeconds) / seconds, 1);
    }
    for (const [name, pid] of Object.entries(this.memory)) {
      const m = memoryOf(pid);
      if (m) this.peak[name] = Math.max(this.peak[name] ?? 0, m.hwmKb, m.rssKb);
    }
    return { seconds: round(seconds, 2), groups, peakRssKb: { ...this.peak }, startRssKb: { ...this.startRss }, rssSamples: this.samples };
  }

  private async sample(initial = false): Promise<void> {
    for (const g of this.groups) {
      for (const pid of await g.pids()) {
        const cpu = cpuSeconds(pid);
        if (cpu === undefined) continue;
        // A process first seen after start() counts from zero: it was born during the run.
        if (!this.first.has(pid)) this.first.set(pid, initial ? cpu : 0);
        this.last.set(pid, cpu);
        this.groupOf.set(pid, g.name);
      }
    }
    const now = performance.now();
    const record = now - this.lastRssSample >= (this.opts.rssEveryMs ?? 10_000);
    const rss: Record<string, number> = {};
    for (const [name, pid] of Object.entries(this.memory)) {
      const m = memoryOf(pid);
      if (!m) continue;
      this.peak[name] = Math.max(this.peak[name] ?? 0, m.rssKb, m.hwmKb);
      rss[name] = m.rssKb;
    }
    if (record) {
      this.samples.push({ t: round((now - this.started) / 1000, 1), rssKb: rss });
      this.lastRssSample = now;
    }
  }
}

export const round = (x: number, digits = 3): number => Number(x.toFixed(digits));

/** Least-squares slope and fit of y against x. */
export function linearRegression(points: { x: number; y: number }[]): { slope: number; intercept: number; r2: number } {
  const n = points.length;
  if (n < 2) return { slope: 0, intercept: points[0]?.y ?? 0, r2: 0 };
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (const p of points) {
    sxy += (p.x - mx) * (p.y - my);
    sxx += (p.x - mx) ** 2;
    syy += (p.y - my) ** 2;
  }
  const slope = sxx ? sxy / sxx : 0;
  return { slope, intercept: my - slope * mx, r2: sxx && syy ? (sxy * sxy) / (sxx * syy) : 0 };
}
