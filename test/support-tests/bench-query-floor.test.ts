import { expect } from 'chai';
import { startQueryFloor, type FloorServer } from '../../bench/support/floors.js';
import { pidsNamed, withDescendants } from '../../bench/support/proc.js';
import { isAlive } from '../../src/queue/redis-server.js';
import { httpPost, PG_URL } from '../support/gateway.js';

/** Stands in for the gateway's statement: `count` rows whose leaf_xml carries the value taken from the request. */
const SQL = `select '<rim:ExtrinsicObject id="' || $1 || '"/>' as leaf_xml from generate_series(1, $2::int)`;

describe('bench query floor (bare HTTP server over pg)', function () {
  this.timeout(60_000);
  let floor: FloorServer | undefined;
  afterEach(async () => {
    await floor?.stop();
    floor = undefined;
  });

  for (const processes of [1, 2]) {
    it(`answers the rows of its statement for the value of each request, from ${processes} server process${processes > 1 ? 'es' : ''}, and stops them all`, async () => {
      const port = 20000 + Math.floor(Math.random() * 1000);
      floor = await startQueryFloor(
        { sql: SQL, params: ['', 3], vary: 0, pattern: 'patient="(\\d+)"', suffix: '^^^&ISO', connections: 2, processes },
        { ...process.env, DATABASE_URL: PG_URL, DATABASE_SCHEMA: 'public' },
        port,
      );
      const pids = await withDescendants([floor.child.pid!]);
      // One server process is the floor itself; more are a primary that serves nothing and the servers it forks.
      // (tsx may also start esbuild's service process, on a machine where it has not transformed these files yet.)
      const nodes = new Set(await pidsNamed('node'));
      const servers = pids.filter((pid) => nodes.has(pid));
      expect(servers).to.have.length(processes === 1 ? 1 : processes + 1);

      const answers = await Promise.all(['123', '456', '789', '123'].map((id) => httpPost(`${floor!.base}/xds/iti18`, 'application/soap+xml', `<q patient="${id}"/>`)));
      for (const [i, id] of ['123', '456', '789', '123'].entries()) {
        expect(answers[i]!.status).to.equal(200);
        expect(answers[i]!.text).to.match(/^<query:AdhocQueryResponse status="urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success">/);
        expect(answers[i]!.text.split(`<rim:ExtrinsicObject id="${id}^^^&ISO"/>`)).to.have.length(4);
      }
      expect((await httpPost(`${floor.base}/xds/iti18`, 'application/soap+xml', '<q/>')).status, 'a request without the value').to.equal(400);

      await floor.stop();
      floor = undefined;
      expect(servers.filter(isAlive), 'server processes left after stop').to.deep.equal([]);
    });
  }
});
