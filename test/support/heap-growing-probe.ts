/**
 * Run by test/v8-tuning.test.ts in its own process (node --expose-gc --trace-gc-verbose): holds about 30 MB,
 * then makes garbage that dies young with a trickle promoted, and runs full GCs in between. V8's heap
 * controller prints the factor by which it lets the old generation grow after each full GC
 * ("[HeapController] Limit: ... (factor)"); with this little promoted, V8's own choice is low. With argument
 * `tuned` it first imports src/v8-tuning.ts, as the gateway's entry points do.
 */
if (process.argv[2] === 'tuned') await import('../../src/v8-tuning.js');

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

const held: string[][] = [];
for (let i = 0; i < 150_000; i++) held.push([`held ${i}`, `${i * 7}`]);
const trickle: object[] = [];
let sink = 0;
for (let round = 0; round < 12; round++) {
  for (let i = 0; i < 300_000; i++) {
    const o = { round, i, text: `garbage ${i}` };
    sink += o.text.length;
    if (i % 1_000 === 0) trickle.push(o);
  }
  await new Promise((resolve) => setTimeout(resolve, 20));
  gc();
}
console.log(JSON.stringify({ held: held.length, trickle: trickle.length, sink: sink > 0 }));
