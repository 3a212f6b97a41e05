import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { duration, Progress } from '../../src/cli/progress.js';

/** What the display wrote, the escape character shown as <ESC>. */
function fakeStream(tty: boolean): { stream: NodeJS.WriteStream; written: string[] } {
  const written: string[] = [];
  const stream = { isTTY: tty, columns: 120, write: (s: string) => written.push(s.replaceAll('\u001b', '<ESC>')) > 0 } as unknown as NodeJS.WriteStream;
  return { stream, written };
}

const counts = { done: 500, total: 1000, accepted: 480, refused: 2, skipped: 18, invalid: 0 };

describe('submit progress display', () => {
  it('redraws a bar in place on a terminal and keeps logged lines apart from it', () => {
    const { stream, written } = fakeStream(true);
    const p = new Progress(1000, { tty: true, intervalMs: 1000, enabled: true, stream });
    p.update(counts);
    expect(written[0]).to.match(/^\r<ESC>\[2K\[#{12}-{12}\] 500\/1000 50% · accepted 480 · refused 2 · skipped 18 · [\d.]+\/s/);
    p.log('REFUSED lab-0001.xml');
    expect(written.slice(1, 3)).to.deep.equal(['\r<ESC>[2K', 'REFUSED lab-0001.xml\n']);
    expect(written[3]).to.match(/^\r<ESC>\[2K\[/);
    p.finish();
    expect(written.at(-1)).to.equal('\n');
  });

  it('prints plain lines, never control characters, when stderr is not a terminal', () => {
    const { stream, written } = fakeStream(false);
    const p = new Progress(1000, { tty: false, intervalMs: 60_000, enabled: true, stream });
    p.update(counts);
    p.log('NOT SUBMITTED notes.xml');
    p.finish();
    expect(written[0]).to.equal('NOT SUBMITTED notes.xml\n');
    expect(written[1]).to.match(/^progress: 500\/1000 50% · accepted 480 · refused 2 · skipped 18 · [\d.]+\/s/);
    expect(written.join('')).not.to.match(/\r|<ESC>/);
  });

  it('writes nothing with --quiet but the lines logged', () => {
    const { stream, written } = fakeStream(true);
    const p = new Progress(10, { tty: true, intervalMs: 1000, enabled: false, stream });
    p.update({ ...counts, total: 10, done: 10 });
    p.finish();
    expect(written).to.deep.equal([]);
  });

  it('shows durations as people read them', () => {
    expect([duration(42), duration(125), duration(7322)]).to.deep.equal(['42s', '2m05s', '2h02m']);
  });
});

describe('bin/xdsgw.mjs launcher', function () {
  this.timeout(60_000);

  it('runs the client from any directory, from dist/ when built or the sources through tsx', async () => {
    const bin = fileURLToPath(new URL('../../bin/xdsgw.mjs', import.meta.url));
    const cwd = await mkdtemp(path.join(os.tmpdir(), 'xdsgw-bin-'));
    try {
      const r = await new Promise<{ status: number | null; stdout: string }>((resolve, reject) => {
        const child = spawn(process.execPath, [bin, '--help'], { cwd, stdio: ['ignore', 'pipe', 'inherit'] });
        let stdout = '';
        child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
        child.on('error', reject);
        child.on('close', (status) => resolve({ status, stdout }));
      });
      expect(r.status).to.equal(0);
      expect(r.stdout).to.match(/^usage: xdsgw COMMAND/);
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  });
});
