import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { hasPgbench, pgbench, transactionLatencies } from '../../bench/support/floors.js';
import { PG_URL } from '../support/gateway.js';

describe('bench pgbench floor', function () {
  this.timeout(60_000);

  describe('transactionLatencies', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(path.join(os.tmpdir(), 'xdsgw-pgbench-test-'));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it("reads the latencies of every thread's log (µs, third field) as milliseconds", () => {
      // client transaction latency script epoch-seconds epoch-µs
      const lines = (from: number, to: number): string =>
        Array.from({ length: to - from + 1 }, (_, i) => `${i % 16} ${i} ${(from + i) * 1000} 0 1765148400 ${i}`).join('\n') + '\n';
      writeFileSync(path.join(dir, 'pgbench_log.4242'), lines(1, 50));
      writeFileSync(path.join(dir, 'pgbench_log.4242.1'), lines(51, 100));
      writeFileSync(path.join(dir, 'query.sql'), 'select 1;\n');
      expect(transactionLatencies(dir)).to.deep.equal({ p50: 51, p90: 91, p99: 100, max: 100 });
    });

    it('fails on a directory without a log, or a log it cannot read', () => {
      expect(() => transactionLatencies(dir)).to.throw(/no readable transaction log/);
      writeFileSync(path.join(dir, 'pgbench_log.1'), '0 0 abc 0 1765148400 0\n');
      expect(() => transactionLatencies(dir)).to.throw(/no readable transaction log/);
    });
  });

  it('runs a statement with its varying key from pgbench and gives the percentiles of its transactions', function () {
    if (!hasPgbench()) this.skip();
    // A schema that need not exist: the statement only checks that its connection has it as search_path (PGOPTIONS).
    const schema = 't_pgbench_floor';
    const f = pgbench({
      databaseUrl: PG_URL,
      schema,
      sql: `select $1::int + 1 / (case when current_setting('search_path') = $2 then 1 else 0 end)`,
      params: [0, schema],
      varyIndex: 0,
      vary: ':k',
      iMax: 9,
      key: '(:i * 7) % 10',
      clients: 2,
      seconds: 1,
    });
    expect(f.clients).to.equal(2);
    expect(f.throughput).to.be.greaterThan(0);
    expect(f.latencyMs.p50).to.be.greaterThan(0);
    expect(f.latencyMs.p50).to.be.at.most(f.latencyMs.p90);
    expect(f.latencyMs.p90).to.be.at.most(f.latencyMs.p99);
    expect(f.latencyMs.p99).to.be.at.most(f.latencyMs.max);
  });
});
