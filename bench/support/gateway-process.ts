import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'undici';

export interface GatewayProcess {
  base: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Extra node options of the gateway and worker processes, e.g. `--cpu-prof --cpu-prof-dir=prof` (not allowed in NODE_OPTIONS). */
export const nodeArgs = (): string[] => (process.env.BENCH_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);

/** The gateway's own node options, as `npm start` (package.json) and the Docker image (Dockerfile) give them. */
export const GATEWAY_NODE_ARGS = ['--max-semi-space-size=64'];

/** The gateway as `npm start` runs it, in its own process, so that its CPU is apart from the load generator's. */
export async function startGatewayProcess(env: NodeJS.ProcessEnv, port: number, readyTimeoutMs = 60_000): Promise<GatewayProcess> {
  const child = spawn(process.execPath, [...GATEWAY_NODE_ARGS, ...nodeArgs(), '--import', 'tsx', 'src/main.ts'], { env: { ...env, PORT: String(port) }, stdio: ['ignore', 'ignore', 'inherit'] });
  const base = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  };
  try {
    await waitReady(base, child, readyTimeoutMs);
  } catch (err) {
    await stop();
    throw err;
  }
  return { base, child, stop };
}

async function waitReady(base: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (child.exitCode !== null) throw new Error(`gateway exited with ${child.exitCode}`);
    try {
      const res = await request(`${base}/ready`);
      await res.body.text();
      if (res.statusCode === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`gateway not ready within ${timeoutMs / 1000} s`);
}

export interface WorkerProcess {
  child: ChildProcess;
  stop(): Promise<void>;
}

/** The store and index workers as `npm run worker` runs them, apart from the gateway (IN_PROCESS_WORKERS=false there). */
export async function startWorkerProcess(env: NodeJS.ProcessEnv): Promise<WorkerProcess> {
  const child = spawn(process.execPath, [...nodeArgs(), '--import', 'tsx', 'src/worker-main.ts'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  };
  // The worker has no HTTP face: it is up once it has lived through its start-up (migrations, Redis).
  await new Promise((r) => setTimeout(r, 3000));
  if (child.exitCode !== null) throw new Error(`worker exited with ${child.exitCode}`);
  return { child, stop };
}
