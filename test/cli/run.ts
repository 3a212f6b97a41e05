import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** tsx's loader by its location, so that the CLI also starts from a directory outside the project. */
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

export interface CliRun {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  env?: Record<string, string>;
  cwd?: string;
  /** Called with each chunk of stderr as it arrives, with the child (to signal it). */
  onStderr?: (chunk: string, child: ChildProcess) => void;
  input?: string;
}

/**
 * Runs `node --import tsx src/cli/xdsgw.ts ARGS` (tsx and the script by absolute path) as a child process, asynchronously: the gateway
 * under test runs in this process and must keep answering meanwhile.
 */
export function xdsgw(args: string[], opts: CliOptions = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    // Relative paths are the test's cwd, not an npm INIT_CWD inherited from `npm test`; no XDSGW_* of the caller's shell.
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => name !== 'npm_lifecycle_event' && !name.startsWith('XDSGW_')));
    const env: NodeJS.ProcessEnv = { ...inherited, ...opts.env };
    const child = spawn(process.execPath, ['--import', TSX, `${ROOT}src/cli/xdsgw.ts`, ...args], { cwd: opts.cwd ?? ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      stderr += c;
      opts.onStderr?.(c, child);
    });
    child.stdin.end(opts.input ?? '');
    child.on('error', reject);
    child.on('close', (status, signal) => resolve({ status, signal, stdout, stderr }));
  });
}
