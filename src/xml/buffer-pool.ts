/**
 * Buffers lent for the bytes of large answers and given back once the answer has been handed to the
 * operating system. A FindDocuments answer is about 150 KB: a new buffer for each one is memory outside
 * V8's heap, and V8 runs a minor GC for every 64 MB or so of it (at 1,700 answers/s that was 6–7 minor
 * GCs a second per process, each pausing every answer in flight; docs/registry.md).
 *
 * Sizes are rounded up to a power of two; at most `perSize` free buffers are kept for each, so the pool
 * holds at most about 2 × perSize × `largest` bytes. A buffer smaller than `smallest` or larger than
 * `largest` is allocated and left to the GC as usual.
 *
 * Whoever acquires a buffer must fill all of it (it holds the bytes of an earlier answer) and give it
 * back only when nothing reads it any more: a buffer given back too early would send one answer's
 * bytes in another's.
 */
export class BufferPool {
  private readonly free = new Map<number, Buffer[]>();
  /** The memory of the buffers lent and not given back yet. */
  private readonly lent = new WeakSet<ArrayBufferLike>();

  constructor(private readonly opts: { smallest: number; largest: number; perSize: number }) {}

  /** The size of the memory lent for `size` bytes; undefined for a size the pool does not lend. */
  capacityOf(size: number): number | undefined {
    if (size < this.opts.smallest || size > this.opts.largest) return undefined;
    return Math.max(this.opts.smallest, 2 ** Math.ceil(Math.log2(size)));
  }

  /** A buffer of exactly `size` bytes, with whatever they held before. */
  acquire(size: number): Buffer {
    const capacity = this.capacityOf(size);
    if (capacity === undefined) return Buffer.allocUnsafe(size);
    const whole = this.free.get(capacity)?.pop() ?? Buffer.allocUnsafeSlow(capacity);
    this.lent.add(whole.buffer);
    return whole.subarray(0, size);
  }

  /** Gives back a buffer that acquire() lent; any other buffer, or one given back already, is left alone. */
  release(buffer: Buffer): void {
    const memory = buffer.buffer;
    if (!this.lent.delete(memory)) return;
    let free = this.free.get(memory.byteLength);
    if (!free) this.free.set(memory.byteLength, (free = []));
    if (free.length < this.opts.perSize) free.push(Buffer.from(memory));
  }

  /** Free buffers kept, by capacity (for tests). */
  kept(): Map<number, number> {
    return new Map([...this.free].map(([capacity, free]) => [capacity, free.length]));
  }
}

/**
 * The pool of LeafClass answers (src/ebrim/serialize.ts), given back by the SOAP endpoint once an answer
 * has been sent (src/http/soap-route.ts). From 16 KB (two or three objects) to 1 MB (about 140 objects),
 * 16 of each size (as many answers in flight as 16 clients of one process): at most 32 MB kept, 4 MB for
 * FindDocuments answers of about 20 objects.
 */
export const answerBuffers = new BufferPool({ smallest: 16 * 1024, largest: 1024 * 1024, perSize: 16 });
