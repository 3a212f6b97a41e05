/**
 * Run by test/v8-tuning.test.ts in its own process (node --expose-gc --max-semi-space-size=1): makes an
 * allocation site's objects survive scavenges until V8 decides to pretenure it, then prints where the
 * site's next objects were allocated, as JSON { newSpaceBytes }: the most new space 5,000 of them took
 * (about 360 KB when allocated young, next to nothing when pretenured). With argument `tuned`
 * it first imports src/v8-tuning.ts, as the gateway's entry points do.
 */
import v8 from 'node:v8';

if (process.argv[2] === 'tuned') await import('../../src/v8-tuning.js');

const gc = (globalThis as { gc?: (opts: { type: 'minor'; execution: 'sync' }) => void }).gc;
if (!gc) throw new Error('run with --expose-gc');
const used = (space: string): number => v8.getHeapSpaceStatistics().find((s) => s.space_name === space)!.space_used_size;

const make = (): number[] => [1.5, 2.5, 3.5];
const kept: number[][] = [];
for (let round = 0; round < 5; round++) {
  for (let i = 0; i < 20_000; i++) kept.push(make());
  gc({ type: 'minor', execution: 'sync' });
}
// The site's next objects, five times over: the most new space they took (a GC in between can only lower one figure).
let newSpaceBytes = 0;
for (let trial = 0; trial < 5; trial++) {
  const more = new Array<number[] | null>(5000).fill(null);
  gc({ type: 'minor', execution: 'sync' });
  const before = used('new_space');
  for (let i = 0; i < more.length; i++) more[i] = make();
  newSpaceBytes = Math.max(newSpaceBytes, used('new_space') - before);
}
console.log(JSON.stringify({ newSpaceBytes, kept: kept.length }));
