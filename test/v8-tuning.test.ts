import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { expect } from 'chai';

/** Where a pretenuring-prone allocation site's objects go, in a process of its own (test/support/pretenuring-probe.ts). */
function probe(tuned: boolean): { newSpaceBytes: number } {
  const out = execFileSync(process.execPath, ['--expose-gc', '--max-semi-space-size=1', '--import', 'tsx', 'test/support/pretenuring-probe.ts', tuned ? 'tuned' : 'plain'], {
    encoding: 'utf8',
  });
  return JSON.parse(out.trim().split('\n').pop()!) as { newSpaceBytes: number };
}

/** The factors by which V8 let the old generation grow after each full GC, in a process of its own (test/support/heap-growing-probe.ts). */
function growingFactors(tuned: boolean): number[] {
  const out = execFileSync(process.execPath, ['--expose-gc', '--trace-gc-verbose', '--max-semi-space-size=64', '--import', 'tsx', 'test/support/heap-growing-probe.ts', tuned ? 'tuned' : 'plain'], {
    encoding: 'utf8',
  });
  return [...out.matchAll(/\[HeapController\] Limit: .*\(([\d.]+)\)$/gm)].map((m) => Number(m[1]));
}

describe('V8 tuning of the gateway and worker processes', function () {
  this.timeout(30_000);

  it('without it, V8 pretenures an allocation site whose objects survive scavenges (the probe sees it)', () => {
    expect(probe(false).newSpaceBytes).to.be.below(50_000);
  });

  it('with it, the same objects are allocated young: no pretenuring', () => {
    expect(probe(true).newSpaceBytes).to.be.above(200_000);
  });

  it('without it, V8 lets the old generation grow by little after a full GC when little is promoted', () => {
    const factors = growingFactors(false);
    expect(factors.length).to.be.above(5);
    expect(Math.min(...factors)).to.be.below(2);
  });

  it('with it, the old generation may grow four times what a full GC left, whatever is promoted', () => {
    const factors = growingFactors(true);
    expect(factors.length).to.be.above(5);
    expect(new Set(factors)).to.deep.equal(new Set([4]));
  });

  it('is the first import of both entry points, before any module has allocated', () => {
    for (const entry of ['src/main.ts', 'src/worker-main.ts']) {
      expect(readFileSync(entry, 'utf8').split('\n')[0], entry).to.equal("import './v8-tuning.js';");
    }
  });
});
