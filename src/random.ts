/**
 * mulberry32: a tiny seeded generator, so that the same seed always gives the same sequence: the same
 * seeded registry (src/registry/seed.ts), the same broken documents and fuzz cases in the tests (a
 * failing case is replayed from its seed).
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
