/**
 * The query benchmark's load clients: send prepared ITI-18 requests to one URL over `connections` keep-alive
 * connections and count the entries of each answer. `light` (bench/support/http-client.ts) is the default;
 * `undici` is what the other benchmarks send with, kept for comparison (BENCH_HTTP_CLIENT=undici).
 */
import { Agent, request } from 'undici';
import { HttpPool, prepareRequest, type HttpAnswer } from './http-client.js';

export type HttpClientName = 'light' | 'undici';

export interface QueryBody {
  contentType: string;
  body: Buffer;
}

/**
 * `prepare` turns a set of queries into a run that sends the i-th of them (modulo their number): the requests are
 * built before the clock starts, so that the load client spends its CPU on sending and reading only. The run
 * resolves to the number of entries of a Success answer, undefined for any other answer.
 */
export interface QueryClient {
  prepare(queries: QueryBody[]): (i: number) => Promise<number | undefined>;
  close(): Promise<void>;
}

const SUCCESS = Buffer.from('ResponseStatusType:Success"');
const EXTRINSIC_OBJECT = Buffer.from('<rim:ExtrinsicObject ');

/** How many times `needle` occurs in `haystack` (a native search: the client must not eat the CPU the gateway needs). */
function occurrences(haystack: Buffer, needle: Buffer): number {
  let n = 0;
  for (let at = haystack.indexOf(needle); at !== -1; at = haystack.indexOf(needle, at + needle.length)) n++;
  return n;
}

/** The number of ExtrinsicObjects of a Success answer; undefined for anything else. The answer is read as bytes, never decoded. */
export function entriesOf(answer: HttpAnswer): number | undefined {
  // The response status comes first: within the first kilobyte of the envelope.
  if (answer.status !== 200 || answer.body.subarray(0, 2048).indexOf(SUCCESS) === -1) return undefined;
  return occurrences(answer.body, EXTRINSIC_OBJECT);
}

/** The light client: each query's request bytes are built once, then written as they are; answers are read in place. */
function lightClient(url: URL, connections: number): QueryClient {
  const pool = new HttpPool(url.hostname, Number(url.port), connections);
  return {
    prepare(queries) {
      const requests = queries.map((q) => prepareRequest(url, q.contentType, q.body));
      return (i) => pool.send(requests[i % requests.length]!, entriesOf);
    },
    close: async () => pool.close(),
  };
}

function undiciClient(url: URL, connections: number): QueryClient {
  const agent = new Agent({ connections, pipelining: 1, keepAliveTimeout: 30_000 });
  return {
    prepare: (queries) => async (i) => {
      const q = queries[i % queries.length]!;
      const res = await request(url, { method: 'POST', headers: { 'content-type': q.contentType }, body: q.body, dispatcher: agent });
      const chunks: Buffer[] = [];
      for await (const chunk of res.body) chunks.push(chunk as Buffer);
      return entriesOf({ status: res.statusCode, body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks) });
    },
    close: () => agent.close(),
  };
}

/** A client of `name` for `url`, with `connections` connections. */
export function queryClient(name: HttpClientName, url: URL, connections: number): QueryClient {
  return name === 'undici' ? undiciClient(url, connections) : lightClient(url, connections);
}

/** BENCH_HTTP_CLIENT, checked: `light` unless it says `undici`. */
export function httpClientFromEnv(): HttpClientName {
  const name = process.env.BENCH_HTTP_CLIENT ?? 'light';
  if (name !== 'light' && name !== 'undici') throw new Error(`BENCH_HTTP_CLIENT must be 'light' or 'undici', got '${name}'`);
  return name;
}
