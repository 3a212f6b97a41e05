/**
 * CDA validation benchmark (`npm run bench -- cda`): median time to validate one document
 * (schema + document type rules + metadata/header consistency, as ITI-41 does) for lab results
 * generated at 10 KB, 50 KB, 200 KB and 1 MB, then for every reference and own sample; then
 * memory over 10,000 validations of the 50 KB document. Goals: 50 KB ≤ 2 ms, 1 MB ≤ 30 ms,
 * memory flat. Figures go to bench/results/<date>-cda.json.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import v8 from 'node:v8';
import vm from 'node:vm';
import path from 'node:path';
import { CdaSchemaValidator, defaultCdaSchemaDir } from '../src/cda/schema.js';
import { CdaValidator } from '../src/cda/validate-document.js';
import type { DocumentEntry } from '../src/ebrim/model.js';
import { entryFor } from '../test/cda/helpers.js';
import { cdaPatientId, makeLabResult, newPatientId } from '../test/support/requests.js';

const SIZES_KB = [10, 50, 200, 1024];
const MEMORY_RUNS = Number(process.env.BENCH_CDA_MEMORY_RUNS ?? 10_000);
const TIME_PER_CASE_MS = Number(process.env.BENCH_CDA_MS ?? 3000);

interface Case {
  name: string;
  bytes: Buffer;
  entry: DocumentEntry;
}

interface Figures {
  name: string;
  kb: number;
  runs: number;
  medianMs: number;
  p95Ms: number;
  schemaOnlyMedianMs: number;
  valid: boolean;
}

function caseOf(name: string, bytes: Buffer): Case {
  return { name, bytes, entry: entryFor({ bytes }, cdaPatientId(bytes)) };
}

/** Times fn repeatedly for about `budgetMs` (at least 20 runs) after a warm-up; durations in ms. */
function time(fn: () => void, budgetMs: number): number[] {
  for (let i = 0; i < 20; i++) fn();
  const out: number[] = [];
  const end = performance.now() + budgetMs;
  while (out.length < 20 || (performance.now() < end && out.length < 5000)) {
    const t = performance.now();
    fn();
    out.push(performance.now() - t);
  }
  return out.sort((a, b) => a - b);
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

function measure(c: Case, validator: CdaValidator, schema: CdaSchemaValidator): Figures {
  const valid = validator.validate(c.bytes, c.entry).valid;
  const full = time(() => validator.validate(c.bytes, c.entry), TIME_PER_CASE_MS);
  const schemaOnly = time(() => schema.validate(c.bytes), TIME_PER_CASE_MS / 3);
  return {
    name: c.name,
    kb: Math.round(c.bytes.length / 1024),
    runs: full.length,
    medianMs: quantile(full, 0.5),
    p95Ms: quantile(full, 0.95),
    schemaOnlyMedianMs: quantile(schemaOnly, 0.5),
    valid,
  };
}

function memoryOver(c: Case, validator: CdaValidator): { runs: number; samples: { after: number; rssMb: number; heapMb: number }[] } {
  // A full collection before each sample, so that what is measured is what stays alive.
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  const samples: { after: number; rssMb: number; heapMb: number }[] = [];
  const step = Math.max(1, Math.floor(MEMORY_RUNS / 10));
  for (let i = 1; i <= MEMORY_RUNS; i++) {
    validator.validate(c.bytes, c.entry);
    if (i % step === 0) {
      gc();
      const m = process.memoryUsage();
      samples.push({ after: i, rssMb: m.rss / 2 ** 20, heapMb: m.heapUsed / 2 ** 20 });
    }
  }
  return { runs: MEMORY_RUNS, samples };
}

const xmlIn = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.xml')).sort().map((f) => path.join(dir, f)) : []);

async function main(): Promise<void> {
  const validator = await CdaValidator.load();
  const schema = await CdaSchemaValidator.load(defaultCdaSchemaDir());
  try {
    const patientId = newPatientId();
    const generated = SIZES_KB.map((kb) => caseOf(`CR-BIO generated ${kb} KB`, makeLabResult(patientId, { sizeKb: kb })));
    const samples = [...xmlIn(path.resolve('../shared/samples/cda')), ...xmlIn(path.resolve('samples/cda'))].map((f) => caseOf(path.relative(process.cwd(), f), readFileSync(f)));

    console.log(`CDA validation, median per document (schema + type rules + consistency); ${os.cpus().length} CPUs, load average ${os.loadavg()[0]!.toFixed(1)} (machine shared)`);
    const figures: Figures[] = [];
    for (const c of [...generated, ...samples]) {
      const f = measure(c, validator, schema);
      figures.push(f);
      console.log(
        `${f.name.padEnd(62)} ${String(f.kb).padStart(5)} KB  median ${f.medianMs.toFixed(2).padStart(6)} ms  p95 ${f.p95Ms.toFixed(2).padStart(6)} ms  (schema alone ${f.schemaOnlyMedianMs.toFixed(2)} ms)  ${f.valid ? 'valid' : 'INVALID'}  ${f.runs} runs`,
      );
    }
    const fifty = generated[1]!;
    const memory = memoryOver(fifty, validator);
    const first = memory.samples[0]!;
    const last = memory.samples[memory.samples.length - 1]!;
    console.log(`memory over ${memory.runs} validations of ${fifty.name}: rss ${first.rssMb.toFixed(1)} → ${last.rssMb.toFixed(1)} MB, heap ${first.heapMb.toFixed(1)} → ${last.heapMb.toFixed(1)} MB (after ${first.after} and ${last.after})`);
    const goal = (name: string, limit: number) => {
      const f = figures.find((x) => x.name === name)!;
      return { document: name, medianMs: f.medianMs, goalMs: limit, met: f.medianMs <= limit };
    };
    const goals = [goal('CR-BIO generated 50 KB', 2), goal('CR-BIO generated 1024 KB', 30)];
    for (const g of goals) console.log(`goal ${g.document}: ${g.medianMs.toFixed(2)} ms median, goal ≤ ${g.goalMs} ms: ${g.met ? 'met' : 'NOT met'}`);

    mkdirSync('bench/results', { recursive: true });
    const file = `bench/results/${new Date().toISOString().slice(0, 10)}-cda.json`;
    writeFileSync(
      file,
      JSON.stringify({ date: new Date().toISOString(), cpus: os.cpus().length, loadAverage: os.loadavg(), node: process.version, machine: 'shared with other processes', figures, goals, memory }, null, 2) + '\n',
    );
    console.log(`figures written to ${file}`);
  } finally {
    schema.dispose();
    validator.dispose();
  }
}

await main();
