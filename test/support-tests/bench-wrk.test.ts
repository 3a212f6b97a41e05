import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { hasWrk, parseWrkOutput, runWrk, wrkScript } from '../../bench/support/wrk.js';

/** What `wrk -t2 -c16 -d30s --latency` printed against the gateway (2026-12-07). */
const OUTPUT = `Running 30s test @ http://127.0.0.1:8099
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     9.62ms    4.24ms 102.88ms   83.78%
    Req/Sec   847.41    108.54     1.16k    67.61%
  Latency Distribution
     50%    8.99ms
     75%   11.18ms
     90%   13.74ms
     99%   22.26ms
  50715 requests in 30.09s, 7.08GB read
Requests/sec:   1685.32
Transfer/sec:    240.99MB
`;

const RUN = { connections: 16, threads: 2 };

describe('bench wrk load client', () => {
  it('reads the throughput, the percentiles and the longest latency of its output', () => {
    expect(parseWrkOutput(OUTPUT, RUN)).to.deep.equal({
      connections: 16,
      threads: 2,
      seconds: 30.09,
      requests: 50715,
      errors: 0,
      throughput: 1685.32,
      latencyMs: { p50: 8.99, p75: 11.18, p90: 13.74, p99: 22.26, max: 102.88 },
    });
  });

  it('converts microseconds and seconds, and counts non-2xx answers and socket errors as errors', () => {
    const out = OUTPUT.replace('     50%    8.99ms', '     50%  812.00us')
      .replace('     99%   22.26ms', '     99%    1.50s')
      .replace(' 102.88ms ', '    2.00s ')
      .replace('Requests/sec:', 'Socket errors: connect 0, read 2, write 1, timeout 3\n  Non-2xx or 3xx responses: 4\nRequests/sec:');
    const figures = parseWrkOutput(out, RUN);
    expect(figures.latencyMs).to.deep.equal({ p50: 0.812, p75: 11.18, p90: 13.74, p99: 1500, max: 2000 });
    expect(figures.errors).to.equal(10);
  });

  it('refuses output without the figures the suite needs', () => {
    expect(() => parseWrkOutput(OUTPUT.replace(/ {5}99%.*\n/, ''), RUN)).to.throw(/no 99th percentile/);
    expect(() => parseWrkOutput('unable to connect to 127.0.0.1:1 Connection refused\n', RUN)).to.throw(/no/);
  });

  it('writes each body in a Lua string that none of them closes', () => {
    const script = wrkScript([{ contentType: 'text/xml', body: Buffer.from('<a>]=]</a>') }], '/xds/iti18');
    expect(script).to.contain('[==[<a>]=]</a>]==]');
    expect(script).to.contain('wrk.format("POST", [==[/xds/iti18]==]');
  });

  it('sends the prebuilt requests in rotation, and counts the answers that are not 2xx', async function () {
    if (!hasWrk()) this.skip();
    this.timeout(20_000);
    const seen = new Map<string, number>();
    let fail = false;
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const key = `${req.method} ${req.url} ${req.headers['content-type']} ${Buffer.concat(chunks).toString()}`;
        seen.set(key, (seen.get(key) ?? 0) + 1);
        res.statusCode = fail ? 500 : 200;
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/xds/iti18`);
    const requests = ['<q patient="1"/>', '<q patient="2"/>', '<q patient="3"/>'].map((b) => ({ contentType: 'application/soap+xml; charset=UTF-8', body: Buffer.from(b) }));
    try {
      const ok = await runWrk({ url, requests, connections: 2, threads: 1, seconds: 1 });
      expect(ok.requests).to.be.above(10);
      expect(ok.errors).to.equal(0);
      expect([...seen.keys()].sort()).to.deep.equal(requests.map((r) => `POST /xds/iti18 ${r.contentType} ${r.body.toString()}`).sort());
      fail = true;
      const failing = await runWrk({ url, requests, connections: 2, threads: 1, seconds: 1 });
      expect(failing.errors).to.equal(failing.requests);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
