/**
 * `npm run bench [-- NAME ...]`: runs benchmark suites, each in its own process so that one's
 * memory and JIT state do not colour another's figures. With no NAME, every suite runs.
 * A NAME is a suite (a file bench/<suite>.ts) or a scenario of the gateway suite.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Suites in the order they run; each writes its figures to bench/results/. */
const SUITES = ['gateway', 'query', 'sign', 'cda', 'policy'];
const GATEWAY_SCENARIOS = ['iti41-45k-seq', 'iti41-45k-c16', 'iti43-1'];

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const runs: { suite: string; args: string[] }[] = [];
if (!wanted.length) for (const suite of SUITES) runs.push({ suite, args: [] });
for (const name of wanted) {
  if (GATEWAY_SCENARIOS.includes(name)) runs.push({ suite: 'gateway', args: [name] });
  else if (existsSync(`bench/${name}.ts`) && name !== 'run') runs.push({ suite: name, args: [] });
  else {
    console.error(`unknown benchmark '${name}'; suites: ${SUITES.join(', ')}; gateway scenarios: ${GATEWAY_SCENARIOS.join(', ')}`);
    process.exit(2);
  }
}
for (const { suite, args } of runs) {
  console.log(`\n== bench ${suite} ${args.join(' ')}`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', `bench/${suite}.ts`, ...args], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
