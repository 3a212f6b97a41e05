/**
 * The query benchmark's load clients against each other (`npm run bench -- load-client`): the CPU each spends
 * per query, with no gateway and no database in the way. A server in its own process answers every request with
 * the same Success answer with a Content-Length, as the gateway answers: 21 ExtrinsicObjects of about 2 KB, 45 KB
 * in all (the query suite's FindDocuments answers have 7 KB an entry, about 150 KB). The light client
 * (bench/support/http-client.ts) and undici each drive it from 16 clients, in alternating rounds (the first pair is a warm-up), and this process's CPU per query is taken with
 * process.cpuUsage(). The server's CPU per query is reported too: it should not depend on the client.
 * Written to bench/results/<date>-load-client.json.
 */
import { fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { drive, median } from './support/drive.js';
import { cpuSeconds, round } from './support/proc.js';
import { queryClient, type HttpClientName } from './support/query-client.js';

const CONCURRENCY = 16;
const ROUNDS = Number(process.env.BENCH_LOAD_CLIENT_ROUNDS ?? 5);
const ROUND_SECONDS = Number(process.env.BENCH_LOAD_CLIENT_SECONDS ?? 4);
const ENTRIES = 21;

/** A Success answer with ENTRIES ExtrinsicObjects of about 2 KB each: as many entries as a FindDocuments answer of the query benchmark. */
function cannedAnswer(): Buffer {
  const entry = `<rim:ExtrinsicObject id="urn:uuid:x" objectType="urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1">${'<rim:Slot name="s"><rim:ValueList><rim:Value>v</rim:Value></rim:ValueList></rim:Slot>'.repeat(24)}</rim:ExtrinsicObject>`;
  const head =
    '<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Body><query:AdhocQueryResponse status="urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success"><rim:RegistryObjectList>';
  return Buffer.from(`${head}${entry.repeat(ENTRIES)}</rim:RegistryObjectList></query:AdhocQueryResponse></soap:Body></soap:Envelope>`);
}

/** The server process: answers every POST with the canned answer; tells its parent its port. */
function serve(): void {
  const answer = cannedAnswer();
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/soap+xml; charset=utf-8', 'content-length': answer.length });
      res.end(answer);
    });
  });
  server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as { port: number }).port }));
}

interface Round {
  client: HttpClientName;
  throughput: number;
  errors: number;
  cpuMsPerQuery: { client: number; server: number };
}

async function main(): Promise<void> {
  const server = fork(fileURLToPath(import.meta.url), ['--serve'], { execArgv: ['--import', 'tsx'] });
  try {
    const { port } = await new Promise<{ port: number }>((resolve, reject) => {
      server.once('message', (m) => resolve(m as { port: number }));
      server.once('exit', (code) => reject(new Error(`the answer server exited (${code})`)));
    });
    const url = new URL(`http://127.0.0.1:${port}/xds/iti18`);
    // What the query benchmark sends: an ITI-18 request of about 2 KB.
    const queries = [{ contentType: 'application/soap+xml; charset=UTF-8', body: Buffer.alloc(2048, 'q') }];
    const rounds: Round[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      for (const name of ['light', 'undici'] as const) {
        const client = queryClient(name, url, CONCURRENCY);
        const run = client.prepare(queries);
        const serverBefore = (await cpuSeconds(server.pid!)) ?? 0;
        const before = process.cpuUsage();
        const { figures, total } = await drive(`${name}-${r}`, CONCURRENCY, ROUND_SECONDS * 1000, run);
        const used = process.cpuUsage(before);
        const serverUsed = ((await cpuSeconds(server.pid!)) ?? 0) - serverBefore;
        await client.close();
        if (figures.errors || total !== ENTRIES * figures.requests) throw new Error(`${name}: ${figures.errors} errors, ${total} entries counted for ${figures.requests} answers`);
        const round3 = (ms: number): number => round(ms / figures.requests, 4);
        const result = { client: name, throughput: figures.throughput, errors: figures.errors, cpuMsPerQuery: { client: round3((used.user + used.system) / 1000), server: round3(serverUsed * 1000) } };
        console.log(`round ${r}${r === 0 ? ' (warm-up)' : ''} ${name}: ${figures.throughput.toFixed(0)} q/s; CPU ms/query: client ${result.cpuMsPerQuery.client}, server ${result.cpuMsPerQuery.server}`);
        if (r > 0) rounds.push(result);
      }
    }
    const summary = Object.fromEntries(
      (['light', 'undici'] as const).map((name) => {
        const mine = rounds.filter((x) => x.client === name);
        return [name, { throughput: round(median(mine.map((x) => x.throughput)), 0), cpuMsPerQuery: { client: median(mine.map((x) => x.cpuMsPerQuery.client)), server: median(mine.map((x) => x.cpuMsPerQuery.server)) } }];
      }),
    ) as Record<HttpClientName, { throughput: number; cpuMsPerQuery: { client: number; server: number } }>;
    const ratio = round(summary.undici.cpuMsPerQuery.client / summary.light.cpuMsPerQuery.client, 2);
    console.log(
      `medians of ${ROUNDS - 1} rounds: light ${summary.light.cpuMsPerQuery.client} CPU ms/query (${summary.light.throughput} q/s), undici ${summary.undici.cpuMsPerQuery.client} (${summary.undici.throughput} q/s): ` +
        `undici spends ${ratio}× the light client's CPU per query`,
    );
    mkdirSync('bench/results', { recursive: true });
    const file = `bench/results/${new Date().toISOString().slice(0, 10)}-load-client.json`;
    writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), node: process.version, cpus: os.cpus().length, answerBytes: cannedAnswer().length, summary, undiciOverLight: ratio, rounds }, null, 2));
    console.log(`figures written to ${file}`);
  } finally {
    server.kill();
  }
}

if (process.argv.includes('--serve')) serve();
else
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
