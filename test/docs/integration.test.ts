import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { EXAMPLES_DIR, exampleFiles } from '../../docs/examples/generate.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const GUIDE = path.join(ROOT, 'docs/integration.md');
/** The address the guide's commands use: the gateway of `npm start`. */
const GUIDE_URL = 'http://localhost:8080';
const RUN_TIMEOUT_MS = 240_000;

interface Fence {
  lang: string;
  body: string;
  /** 1-based line of the opening fence. */
  line: number;
}

interface ShellBlock {
  index: number;
  line: number;
  body: string;
  expectations: string[];
}

/** The fenced code blocks of a markdown text. */
function fences(markdown: string): Fence[] {
  const found: Fence[] = [];
  let open: { lang: string; line: number; lines: string[] } | undefined;
  markdown.split('\n').forEach((text, i) => {
    const fence = /^```(\S*)\s*$/.exec(text);
    if (!open && fence) open = { lang: fence[1]!, line: i + 1, lines: [] };
    else if (open && /^```\s*$/.test(text)) {
      found.push({ lang: open.lang, body: open.lines.join('\n'), line: open.line });
      open = undefined;
    } else open?.lines.push(text);
  });
  if (open) throw new Error(`docs/integration.md: the code block opened on line ${open.line} is never closed`);
  return found;
}

const START_LINE = /(^|\s)npm start$/;

/** The guide's sh blocks: the one that starts the gateway (its exports configure the test's gateway), and the others, run in order. */
function guideBlocks(): { all: Fence[]; start: Fence[]; run: ShellBlock[] } {
  const all = fences(readFileSync(GUIDE, 'utf8'));
  const sh = all.filter((f) => f.lang === 'sh');
  const start = sh.filter((f) => f.body.split('\n').some((l) => START_LINE.test(l.trim())));
  const run = sh
    .filter((f) => !start.includes(f))
    .map((f, index) => ({
      index,
      line: f.line,
      body: f.body,
      expectations: [...f.body.matchAll(/^# expect: (.+)$/gm)].map((m) => m[1]!.trim()),
    }));
  return { all, start, run };
}

/** `export NAME=value` lines of the start block. */
function startEnvironment(start: Fence): Record<string, string> {
  const env: Record<string, string> = {};
  for (const m of start.body.matchAll(/^export ([A-Z][A-Z0-9_]*)=(\S+)$/gm)) env[m[1]!] = m[2]!;
  return env;
}

/** One bash script running the blocks in order, as a reader does in one terminal, with a marker before and after each block. */
function scriptOf(blocks: ShellBlock[], url: string): string {
  const parts = blocks.map((b) => `printf '\\n@@docs-block %d begin\\n' ${b.index}\n${b.body.replaceAll(GUIDE_URL, url)}\nprintf '\\n@@docs-block %d end\\n' ${b.index}\n`);
  return `set -euo pipefail\nexec 2>&1\n${parts.join('')}`;
}

function runBash(script: string, env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', script], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stderr.on('data', (c: Buffer) => chunks.push(c));
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output: Buffer.concat(chunks).toString('utf8') });
    });
  });
}

/** What block `index` printed, and whether it ran to its end. */
function blockOutput(output: string, index: number): { started: boolean; finished: boolean; text: string } {
  const begin = `@@docs-block ${index} begin\n`;
  const end = `\n@@docs-block ${index} end\n`;
  const from = output.indexOf(begin);
  if (from === -1) return { started: false, finished: false, text: '' };
  const to = output.indexOf(end, from);
  return { started: true, finished: to !== -1, text: output.slice(from + begin.length, to === -1 ? undefined : to) };
}

describe('docs/integration.md', function () {
  const { all, start, run } = guideBlocks();

  it('has every curl command in an sh block, so that each one is run', function () {
    const hidden = all.filter((f) => f.lang !== 'sh' && /\bcurl\b/.test(f.body)).map((f) => `line ${f.line} (${f.lang || 'no language'})`);
    expect(hidden, 'code blocks with curl that are not sh blocks').to.deep.equal([]);
  });

  it('has one start block holding only comments, exports and npm start', function () {
    expect(start, 'sh blocks with `npm start`').to.have.length(1);
    const other = start[0]!.body.split('\n').filter((l) => l.trim() && !l.startsWith('#') && !/^export [A-Z][A-Z0-9_]*=\S+$/.test(l) && !START_LINE.test(l.trim()));
    expect(other, 'commands in the start block, which the test does not run').to.deep.equal([]);
  });

  it('states what each block must print', function () {
    const silent = run.filter((b) => b.expectations.length === 0).map((b) => `line ${b.line}`);
    expect(silent, 'sh blocks without an `# expect:` line').to.deep.equal([]);
  });

  it('sends the MTOM example with the Content-Type its package was built for', function () {
    expect(readFileSync(GUIDE, 'utf8')).to.include(`-H 'Content-Type: ${exampleFiles().mtomContentType}'`);
  });

  it('ships the example files docs/examples/generate.ts writes', function () {
    for (const [name, bytes] of Object.entries(exampleFiles().files)) {
      expect(readFileSync(path.join(EXAMPLES_DIR, name)).equals(bytes), `docs/examples/${name} differs from generate.ts (npx tsx docs/examples/generate.ts)`).to.equal(true);
    }
  });

  it('ships an MTOM package whose MIME lines end with CRLF', function () {
    const mime = readFileSync(path.join(EXAMPLES_DIR, 'iti41-mtom.mime'), 'latin1');
    expect(mime.startsWith('--MIMEBoundary_integration_example_0001\r\nContent-Type: application/xop+xml')).to.equal(true);
    expect(mime.endsWith('\r\n--MIMEBoundary_integration_example_0001--\r\n')).to.equal(true);
  });

  describe('run in order against a fresh gateway started with the guide’s environment', function () {
    let gw: TestGateway | undefined;
    let result: { code: number | null; output: string } = { code: null, output: '' };

    before(async function () {
      this.timeout(RUN_TIMEOUT_MS + 60_000);
      const env = start.length === 1 ? startEnvironment(start[0]!) : {};
      gw = await startTestGateway('postgres', env);
      result = await runBash(scriptOf(run, gw.url), env);
    });

    after(async function () {
      this.timeout(30_000);
      await gw?.close();
    });

    for (const block of run) {
      const title = block.body.split('\n').find((l) => l.trim() && !l.startsWith('#'))?.trim() ?? '';
      it(`block at line ${block.line} exits 0 and prints what it expects: ${title.slice(0, 90)}`, function () {
        const { started, finished, text } = blockOutput(result.output, block.index);
        const context = `\n--- output of the block ---\n${text.slice(-4000)}\n--- end ---`;
        expect(started, `the block was not run: an earlier block failed (bash exit ${String(result.code)})`).to.equal(true);
        expect(finished, `a command of the block failed (bash exit ${String(result.code)})${context}`).to.equal(true);
        for (const expected of block.expectations) expect(text.includes(expected), `expected the output to contain: ${expected}${context}`).to.equal(true);
      });
    }

    it('runs the whole guide with bash exit 0', function () {
      expect(result.code, result.output.slice(-4000)).to.equal(0);
    });
  });
});
