/**
 * `npm run bench [-- NAME ...]`: runs benchmark suites, each in its own process so that one's
 * memory and JIT state do not colour another's figures, then the summary (bench/report.ts).
 * With no NAME, everything runs end to end, the 30-minute soak included (BENCH_SOAK_SECONDS).
 * A NAME is a suite (a file bench/<suite>.ts), a scenario of the gateway suite, or `report`.
 * A suite that fails does not stop the others; the exit code says that one did.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Suites in the order they run; each writes its figures to bench/results/. */
const SUITES = ['limits', 'gateway', 'soap-baseline', 'load-client', 'query', 'sign', 'cda', 'policy', 'soak', 'report'];
const GATEWAY_SCENARIOS = ['iti41-cda50k', 'iti41-cda50k-rate', 'iti41-5docs', 'iti41-pdf20m', 'iti41-cda-pdf20m', 'iti43-1', 'iti43-10', 'soak'];
/** Not suites: modules the suites import. */
const NOT_SUITES = new Set(['run', 'chart']);

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const runs: { suite: string; args: string[] }[] = [];
const plan = (name: string): { suite: string; args: string[] } | undefined => {
  if (GATEWAY_SCENARIOS.includes(name)) return { suite: 'gateway', args: [name] };
  if (existsSync(`bench/${name}.ts`) && !NOT_SUITES.has(name)) return { suite: name, args: [] };
  return undefined;
};
for (const name of wanted.length ? wanted : SUITES) {
  const run = plan(name);
  if (!run) {
    console.error(`unknown benchmark '${name}'; suites: ${SUITES.join(', ')}; gateway scenarios: ${GATEWAY_SCENARIOS.join(', ')}`);
    process.exit(2);
  }
  runs.push(run);
}
// A lone scenario or suite also refreshes the summary, so that it always shows the newest figures.
if (runs.at(-1)?.suite !== 'report') runs.push({ suite: 'report', args: [] });

const failed: string[] = [];
for (const { suite, args } of runs) {
  console.log(`\n== bench ${suite} ${args.join(' ')}`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', `bench/${suite}.ts`, ...args], { stdio: 'inherit' });
  if (r.status !== 0) failed.push(`${suite} ${args.join(' ')}`.trim());
}
if (failed.length) {
  console.error(`\nfailed: ${failed.join(', ')}`);
  process.exit(1);
}
