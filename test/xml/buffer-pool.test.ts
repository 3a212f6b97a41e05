import { expect } from 'chai';
import { BufferPool } from '../../src/xml/buffer-pool.js';

describe('answer buffer pool', () => {
  const pool = () => new BufferPool({ smallest: 16 * 1024, largest: 64 * 1024, perSize: 2 });

  it('lends a buffer of the size asked, in memory rounded up to a power of two, and lends the same memory again once given back', () => {
    const p = pool();
    const a = p.acquire(20_000);
    expect(a.length).to.equal(20_000);
    expect(a.buffer.byteLength).to.equal(32 * 1024);
    expect(p.capacityOf(20_000)).to.equal(32 * 1024);
    expect(a.byteOffset).to.equal(0);
    p.release(a);
    expect(p.kept()).to.deep.equal(new Map([[32 * 1024, 1]]));
    const b = p.acquire(17_000);
    expect(b.buffer, 'the same memory').to.equal(a.buffer);
    expect(b.length).to.equal(17_000);
    expect(p.kept()).to.deep.equal(new Map([[32 * 1024, 0]]));
  });

  it('never lends a buffer that has not been given back, nor the same memory twice at once', () => {
    const p = pool();
    const held = [p.acquire(20_000), p.acquire(20_000), p.acquire(30_000)];
    expect(new Set(held.map((b) => b.buffer)).size).to.equal(3);
    p.release(held[0]!);
    const again = p.acquire(20_000);
    expect(again.buffer).to.equal(held[0]!.buffer);
    expect(again.buffer).not.to.equal(held[1]!.buffer);
  });

  it('keeps a buffer given back twice only once, and leaves alone buffers it did not lend', () => {
    const p = pool();
    const a = p.acquire(20_000);
    p.release(a);
    p.release(a);
    p.release(Buffer.alloc(20_000));
    p.release(Buffer.allocUnsafeSlow(32 * 1024));
    expect(p.kept()).to.deep.equal(new Map([[32 * 1024, 1]]));
    expect(p.acquire(20_000).buffer).to.equal(a.buffer);
    expect(p.acquire(20_000).buffer, 'a second one is new memory').not.to.equal(a.buffer);
  });

  it('keeps at most perSize free buffers of each size', () => {
    const p = pool();
    const lent = [p.acquire(40_000), p.acquire(40_000), p.acquire(40_000), p.acquire(20_000)];
    for (const b of lent) p.release(b);
    expect(p.kept()).to.deep.equal(new Map([[64 * 1024, 2], [32 * 1024, 1]]));
  });

  it('allocates sizes below the smallest or above the largest without lending them', () => {
    const p = pool();
    for (const size of [0, 100, 16 * 1024 - 1, 64 * 1024 + 1, 1_000_000]) {
      expect(p.capacityOf(size)).to.equal(undefined);
      const b = p.acquire(size);
      expect(b.length).to.equal(size);
      p.release(b);
    }
    expect(p.kept()).to.deep.equal(new Map());
  });
});
