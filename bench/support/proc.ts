/**
 * What the processes of a benchmark cost, read from Linux /proc: CPU seconds (utime + stime of
 * /proc/<pid>/stat) and resident memory (VmRSS, VmHWM of /proc/<pid>/status). Process groups are
 * sampled together so that a run reports "gateway 85 % of a core, PostgreSQL 40 %, ...".
 *
 * Every read is asynchronous and nothing is spawned: the sampler runs in the load generator's process,
 * and a synchronous sample (it read every process of the machine and ran `ss`, 4 ms every 250 ms and
 * 11 ms more every second) stalled the answers in flight, which showed in the latency measured.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { readdir, readFile, readlink } from 'node:fs/promises';
import pg from 'pg';

const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** A /proc file, or undefined when its process is gone. */
async function procFile(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** The fields of /proc/<pid>/stat after the command name (field 3 onwards), which may hold spaces and parentheses. */
const statFields = (stat: string): string[] => stat.slice(stat.lastIndexOf(')') + 2).split(' ');

/** CPU seconds a process has used so far (user + system), or undefined once it is gone. */
export async function cpuSeconds(pid: number): Promise<number | undefined> {
  const stat = await procFile(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  const fields = statFields(stat);
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/**
 * `read`, run at most once every `ms`: finding processes reads every process of the machine, which
 * would cost the load generator more than the readings themselves if done at every sample.
 */
export function refreshedEvery<T>(ms: number, read: () => Promise<T>): () => Promise<T> {
  let at = -Infinity;
  let last: Promise<T> | undefined;
  return () => {
    if (!last || performance.now() - at >= ms) {
      at = performance.now();
      const reading = read();
      // A failed reading is not kept (a later one, already started, is).
      reading.catch(() => {
        if (last === reading) last = undefined;
      });
      last = reading;
    }
    return last;
  };
}

/** How long a list of processes (descendants, PostgreSQL backends) is used before it is looked for again. */
export const PROCESS_LIST_MS = 5_000;

/** The pids of the machine's processes. */
async function allPids(): Promise<number[]> {
  return (await readdir('/proc')).filter((e) => /^\d+$/.test(e)).map(Number);
}

export interface Memory {
  rssKb: number;
  /** Peak RSS since start or since resetPeakRss(). */
  hwmKb: number;
}

export async function memoryOf(pid: number): Promise<Memory | undefined> {
  const status = await procFile(`/proc/${pid}/status`);
  if (status === undefined) return undefined;
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
export async function withDescendants(roots: number[]): Promise<number[]> {
  const parentOf = new Map<number, number>();
  await Promise.all(
    (await allPids()).map(async (pid) => {
      const stat = await procFile(`/proc/${pid}/stat`);
      if (stat !== undefined) parentOf.set(pid, Number(statFields(stat)[1]));
    }),
  );
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
export async function pidsNamed(...names: string[]): Promise<number[]> {
  const named = await Promise.all((await allPids()).map(async (pid) => (names.includes((await procFile(`/proc/${pid}/comm`))?.trim() ?? '') ? pid : undefined)));
  return named.filter((pid) => pid !== undefined);
}

/** The socket inodes of a process's open files. */
async function socketInodes(pid: number): Promise<Set<string>> {
  const inodes = new Set<string>();
  let fds: string[];
  try {
    fds = await readdir(`/proc/${pid}/fd`);
  } catch {
    return inodes;
  }
  await Promise.all(
    fds.map(async (fd) => {
      const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode) inodes.add(inode);
    }),
  );
  return inodes;
}

/**
 * Local TCP ports of the established connections of `pids` to `remotePort`: the connections of
 * /proc/net/tcp and tcp6 whose socket one of the processes holds (what `ss -tnp` tells, without spawning it).
 */
export async function clientPorts(pids: number[], remotePort: number): Promise<number[]> {
  const [tables, held] = await Promise.all([
    Promise.all(['/proc/net/tcp', '/proc/net/tcp6'].map(procFile)),
    Promise.all(pids.map(socketInodes)),
  ]);
  const inodes = new Set(held.flatMap((s) => [...s]));
  const ports: number[] = [];
  for (const line of tables.flatMap((t) => (t ?? '').split('\n').slice(1))) {
    // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || f[3] !== '01') continue;
    const local = Number.parseInt(f[1]!.split(':')[1]!, 16);
    const remote = Number.parseInt(f[2]!.split(':')[1]!, 16);
    if (remote === remotePort && inodes.has(f[9]!)) ports.push(local);
  }
  return ports;
}

/** PostgreSQL's background processes whose work follows ours (WAL writer, background writer, checkpointer). */
const POSTGRES_AUXILIARY = /postgres: .*(walwriter|background writer|checkpointer)/;

/**
 * The PostgreSQL processes that serve `clientPids`: their backends (found through pg_stat_activity by the
 * clients' TCP ports, since every gateway connects with the same application_name) and the auxiliary
 * processes. Other sessions of the machine's shared server are left out. One connection is kept open
 * and the list is looked for again every PROCESS_LIST_MS at most.
 */
export class PostgresProcesses {
  private client?: pg.Client;
  /** The list, looked for again every PROCESS_LIST_MS at most; callers meanwhile share the last one. */
  readonly list: () => Promise<number[]> = refreshedEvery(PROCESS_LIST_MS, () => this.find());

  constructor(
    private readonly databaseUrl: string,
    private readonly clientPids: () => Promise<number[]> | number[],
  ) {}

  private async find(): Promise<number[]> {
    if (!this.client) {
      this.client = new pg.Client({ connectionString: this.databaseUrl, application_name: 'xdsgw-bench-monitor' });
      await this.client.connect();
    }
    const ports = await clientPorts(await this.clientPids(), Number(new URL(this.databaseUrl).port || 5432));
    const rows = await this.client.query<{ pid: number }>('select pid from pg_stat_activity where client_port = any($1::int[])', [ports]);
    const postgres = await pidsNamed('postgres');
    const cmdlines = await Promise.all(postgres.map((pid) => procFile(`/proc/${pid}/cmdline`)));
    const auxiliary = postgres.filter((_, i) => POSTGRES_AUXILIARY.test((cmdlines[i] ?? '').replaceAll('\0', ' ')));
    return [...rows.rows.map((r) => r.pid), ...auxiliary];
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
      const m = await memoryOf(pid);
      this.startRss[name] = m?.rssKb ?? 0;
      this.peak[name] = m?.rssKb ?? 0;
    }
    this.started = performance.now();
    await this.sample(true);
    this.timer = setInterval(() => {
      this.sampling = this.sampling.then(() => this.sample()).catch(() => undefined);
    }, this.opts.everyMs ?? 1000);
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
      const m = await memoryOf(pid);
      if (m) this.peak[name] = Math.max(this.peak[name] ?? 0, m.hwmKb, m.rssKb);
    }
    return { seconds: round(seconds, 2), groups, peakRssKb: { ...this.peak }, startRssKb: { ...this.startRss }, rssSamples: this.samples };
  }

  private async sample(initial = false): Promise<void> {
    const found = await Promise.all(this.groups.map(async (g) => ({ name: g.name, pids: await g.pids() })));
    const readings = await Promise.all(found.map((g) => Promise.all(g.pids.map(cpuSeconds))));
    for (const [i, g] of found.entries()) {
      for (const [j, pid] of g.pids.entries()) {
        const cpu = readings[i]![j];
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
      const m = await memoryOf(pid);
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
