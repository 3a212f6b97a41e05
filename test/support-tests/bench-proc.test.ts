import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import pg from 'pg';
import { clientPorts, cpuSeconds, PostgresProcesses, pidsNamed, refreshedEvery, UsageSampler, withDescendants } from '../../bench/support/proc.js';
import { PG_URL } from '../support/gateway.js';

describe('bench process readings (/proc)', () => {
  const children: ChildProcess[] = [];
  afterEach(() => {
    for (const c of children.splice(0)) c.kill('SIGKILL');
  });

  it('reads the CPU seconds of a process, and nothing of one that is gone', async () => {
    let spin = 0;
    for (let i = 0; i < 5e6; i++) spin += i;
    expect(spin).to.be.above(0);
    expect(await cpuSeconds(process.pid)).to.be.a('number').above(0);
    expect(await cpuSeconds(2 ** 22 + 1)).to.equal(undefined);
  });

  it('looks for a list again only once it is older than the interval, and after a failure', async () => {
    let reads = 0;
    let fail = false;
    const list = refreshedEvery(40, async () => {
      reads++;
      if (fail) throw new Error('gone');
      return [reads];
    });
    expect(await list()).to.deep.equal([1]);
    expect(await list()).to.deep.equal([1]);
    await new Promise((r) => setTimeout(r, 50));
    fail = true;
    const error = await list().catch((err: Error) => err);
    expect(error).to.be.instanceOf(Error);
    fail = false;
    expect(await list(), 'a failed read is not kept').to.deep.equal([3]);
    expect(reads).to.equal(3);
  });

  it('finds the descendants of a process and the processes of a name', async () => {
    const sh = spawn('sh', ['-c', 'sleep 60 & wait'], { stdio: 'ignore' });
    children.push(sh);
    let tree: number[] = [];
    for (let tries = 0; tries < 50 && tree.length < 2; tries++) {
      await new Promise((r) => setTimeout(r, 20));
      tree = await withDescendants([sh.pid!]);
    }
    expect(await withDescendants([process.pid])).to.include(process.pid).and.include(sh.pid).and.include.members(tree);
    expect(tree).to.have.length(2);
    const grandchild = tree.find((pid) => pid !== sh.pid);
    expect(grandchild, 'the sleep started by sh').to.be.a('number');
    const sleeping = await pidsNamed('sleep');
    expect(sleeping).to.include(grandchild);
    expect(sleeping).not.to.include(process.pid);
  });

  it('finds the local ports of the connections a process holds to a port, not those of other processes', async () => {
    const server = net.createServer((s) => s.on('error', () => undefined));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const mine = net.connect(port, '127.0.0.1');
    await new Promise((r) => mine.once('connect', r));
    const other = spawn(process.execPath, ['-e', `require('net').connect(${port}, '127.0.0.1'); setTimeout(() => {}, 60000)`], { stdio: 'ignore' });
    children.push(other);
    try {
      let theirs: number[] = [];
      for (let tries = 0; tries < 100 && !theirs.length; tries++) {
        await new Promise((r) => setTimeout(r, 20));
        theirs = await clientPorts([other.pid!], port);
      }
      expect(theirs).to.have.length(1);
      const ours = await clientPorts([process.pid], port);
      expect(ours).to.deep.equal([mine.localPort]);
      expect(theirs).not.to.include(mine.localPort);
    } finally {
      mine.destroy();
      server.close();
    }
  });

  it('finds the PostgreSQL backends of a client process, and samples the CPU of process groups', async () => {
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    const postgres = new PostgresProcesses(PG_URL, () => [process.pid]);
    try {
      const [{ pid }] = (await client.query<{ pid: number }>('select pg_backend_pid() as pid')).rows as [{ pid: number }];
      const backends = await postgres.list();
      expect(backends).to.include(pid);
      const sampler = new UsageSampler([{ name: 'postgres', pids: () => postgres.list() }, { name: 'self', pids: () => [process.pid] }], { self: process.pid }, { everyMs: 20 });
      await sampler.start();
      for (let i = 0; i < 200; i++) await client.query('select count(*) from generate_series(1, 2000)');
      const usage = await sampler.stop();
      expect(usage.groups.postgres!.cpuSeconds + usage.groups.self!.cpuSeconds).to.be.above(0);
      expect(usage.peakRssKb.self).to.be.above(0);
    } finally {
      await postgres.close();
      await client.end();
    }
  });
});
