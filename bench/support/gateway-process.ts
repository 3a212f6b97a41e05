import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'undici';

export interface GatewayProcess {
  base: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** The gateway as `npm start` runs it, in its own process, so that its CPU is apart from the load generator's. */
export async function startGatewayProcess(env: NodeJS.ProcessEnv, port: number, readyTimeoutMs = 60_000): Promise<GatewayProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { env: { ...env, PORT: String(port) }, stdio: ['ignore', 'ignore', 'inherit'] });
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
