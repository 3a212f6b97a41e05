/**
 * The floor of the ITI-18 benchmark: what this machine does for the same query without the gateway.
 * A bare node:http server over a `pg` pool that takes the one varying value (patient id or uniqueId)
 * out of the SOAP request with a regular expression, runs the gateway's own SQL with the gateway's
 * parameters, and answers the stored LeafClass templates as they are, in the least envelope the load
 * client accepts. No SOAP parsing, no stored-query code, no template filling, no audit, no Express:
 * the gap between it and the gateway is what the gateway's own work costs. With `processes` above 1 it runs
 * as the gateway does with GATEWAY_PROCESSES (src/cluster.ts): a primary that serves nothing forks that many
 * servers, among which node:cluster hands out the connections.
 *
 * `node --import tsx bench/support/query-floor.ts PORT` with FLOOR_SPEC (JSON of FloorSpec), DATABASE_URL
 * and DATABASE_SCHEMA in the environment; prints "listening" when ready. It runs with the gateway's V8
 * settings (its node options and src/v8-tuning.ts), which a bare server over `pg` needs as much.
 */
import '../../src/v8-tuning.js';
import cluster from 'node:cluster';
import http from 'node:http';
import pg from 'pg';

export interface FloorSpec {
  /** The statement the gateway runs, with its parameters: `vary` is the index of the one taken from each request. */
  sql: string;
  params: unknown[];
  vary: number;
  /** Matches the varying value in the SOAP request (first group), to which `suffix` is added. */
  pattern: string;
  suffix: string;
  /** Pool size of each server process, as the gateway's. */
  connections: number;
  /** Server processes, as the gateway's (GATEWAY_PROCESSES). */
  processes: number;
}

const OPEN = Buffer.from('<query:AdhocQueryResponse status="urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success"><rim:RegistryObjectList>');
const CLOSE = Buffer.from('</rim:RegistryObjectList></query:AdhocQueryResponse>');

/** Forks the servers, says "listening" once they all listen, and stops them on SIGTERM. */
function primary(processes: number): void {
  let stopping = false;
  let listening = 0;
  const workers = Array.from({ length: processes }, () => cluster.fork());
  for (const worker of workers) {
    worker.once('listening', () => {
      if (++listening === processes) console.log('listening');
    });
    worker.once('exit', (code) => {
      if (stopping) return;
      console.error(`a query floor server exited with ${code}`);
      process.exit(1);
    });
  }
  process.on('SIGTERM', () => {
    stopping = true;
    let left = workers.length;
    for (const worker of workers) {
      worker.once('exit', () => {
        if (--left === 0) process.exit(0);
      });
      worker.kill('SIGTERM');
    }
  });
}

function main(): void {
  const port = Number(process.argv[2]);
  if (!Number.isInteger(port) || port <= 0) throw new Error(`usage: query-floor.ts PORT (got '${process.argv[2]}')`);
  const spec = JSON.parse(process.env.FLOOR_SPEC ?? '') as FloorSpec;
  if (spec.processes > 1 && cluster.isPrimary) {
    primary(spec.processes);
    return;
  }
  const pattern = new RegExp(spec.pattern);
  const pool = new pg.Pool({
    connectionString: process.env.DATABASE_URL,
    max: spec.connections,
    options: `-c search_path=${process.env.DATABASE_SCHEMA}`,
  });
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const value = pattern.exec(Buffer.concat(chunks).toString('utf8'))?.[1];
      if (value === undefined) {
        res.writeHead(400).end();
        return;
      }
      const params = spec.params.map((p, i) => (i === spec.vary ? value + spec.suffix : p));
      pool.query<{ leaf_xml: string }>({ name: 'floor', text: spec.sql, values: params }).then(
        (r) => {
          const answer = Buffer.concat([OPEN, ...r.rows.map((row) => Buffer.from(row.leaf_xml, 'utf8')), CLOSE]);
          // With its length, as the gateway sends its answers (src/http/soap-route.ts): not in chunks.
          res.writeHead(200, { 'content-type': 'application/soap+xml; charset=utf-8', 'content-length': answer.length });
          res.end(answer);
        },
        (err: Error) => res.writeHead(500).end(err.message),
      );
    });
  });
  server.listen(port, '127.0.0.1', () => {
    if (cluster.isPrimary) console.log('listening');
  });
  process.on('SIGTERM', () => {
    server.close();
    void pool.end().then(() => process.exit(0));
  });
}

main();
