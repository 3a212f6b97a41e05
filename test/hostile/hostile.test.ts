import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { httpPost, startTestGateway, type HttpReply, type TestGateway } from '../support/gateway.js';
import { faultOf, readSoapReply, registryResponseOf } from '../support/responses.js';
import { CORPUS, newPatientId, type Expected, type Trap } from './corpus.js';

const MB = 1024 * 1024;

function check(reply: HttpReply, expected: Expected, trap: Trap): void {
  expect(reply.text).to.not.include(trap.secret);
  if ('accepted' in expected) {
    expect(reply.status, reply.text.slice(0, 800)).to.equal(200);
    expect(registryResponseOf(readSoapReply(reply).body).status, reply.text.slice(0, 800)).to.equal('Success');
    return;
  }
  if ('xdsError' in expected) {
    const rr = registryResponseOf(readSoapReply(reply).body);
    expect(rr.status).to.equal('Failure');
    expect(rr.errors.map((e) => e.code)).to.include(expected.xdsError);
    return;
  }
  expect(reply.status, reply.text.slice(0, 800)).to.equal(expected.status);
  expect(reply.contentType).to.match(/^application\/soap\+xml/);
  const fault = faultOf(reply);
  expect(fault.code, reply.text.slice(0, 800)).to.equal(expected.fault);
  if (expected.subcode) expect(fault.subcode).to.equal(expected.subcode);
  expect(fault.reason).to.match(expected.reason);
}

describe('hostile input corpus', function () {
  this.timeout(120_000);
  let gw: TestGateway;
  let dir: string;
  let listener: http.Server;
  const contacts: string[] = [];
  let trap: Trap;
  let rssBefore = 0;

  before(async () => {
    gw = await startTestGateway('pglite', { MAX_REQUEST_BYTES: String(16 * MB) });
    dir = await mkdtemp(path.join(os.tmpdir(), 'xdsgw-hostile-'));
    const secret = `SECRET-${Date.now()}-must-never-leak`;
    await writeFile(path.join(dir, 'secret.txt'), secret);
    listener = http.createServer((req, res) => {
      contacts.push(`${req.method} ${req.url}`);
      res.end('<!ENTITY leaked "yes">');
    });
    await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
    const patientId = newPatientId();
    expect(await gw.registerPatient(patientId)).to.equal(201);
    trap = { url: `http://127.0.0.1:${(listener.address() as AddressInfo).port}`, file: path.join(dir, 'secret.txt'), secret, patientId };
    rssBefore = process.memoryUsage().rss;
  });
  after(async () => {
    listener?.close();
    await gw?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  for (const c of CORPUS) {
    it(`answers ${describeExpected(c.expect)}: ${c.name}`, async () => {
      const req = c.make(trap);
      const t0 = Date.now();
      const reply = await httpPost(gw.url + req.path, req.contentType, req.body, req.headers);
      check(reply, c.expect, trap);
      expect(Date.now() - t0, 'answered within 10 s').to.be.below(10_000);
    });
  }

  it('cuts off a client that sends its body too slowly (slowloris) with a SOAP fault', async function () {
    const slow = await startTestGateway('pglite', { REQUEST_TIMEOUT_MS: '1000' });
    try {
      const { port } = new URL(slow.url);
      const t0 = Date.now();
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = net.connect(Number(port), '127.0.0.1');
        let got = '';
        let timer: NodeJS.Timeout | undefined;
        socket.on('connect', () => {
          socket.write(`POST /xds/iti43 HTTP/1.1\r\nHost: x\r\nContent-Type: application/soap+xml\r\nContent-Length: 100000\r\n\r\n<`);
          timer = setInterval(() => socket.writable && socket.write('a'), 100);
        });
        socket.on('data', (d: Buffer) => (got += d.toString()));
        socket.on('error', () => undefined);
        socket.on('close', () => {
          clearInterval(timer);
          resolve(got);
        });
        setTimeout(() => reject(new Error('the slow client was never cut off')), 8000).unref();
      });
      expect(Date.now() - t0).to.be.below(5000);
      expect(answer).to.match(/^HTTP\/1\.1 408/);
      expect(answer).to.match(/request (body )?(was )?not received|timeout|too slow/i);
    } finally {
      await slow.close();
    }
  });

  it('stayed up, touched no file and no network, and kept its memory bounded', async () => {
    const health = await fetch(`${gw.url}/health`);
    expect(health.status).to.equal(200);
    expect(contacts, 'the trap listener must receive nothing').to.deep.equal([]);
    const grownMb = (process.memoryUsage().rss - rssBefore) / MB;
    if (process.env.FAULT_REPORT) console.log(`      RSS grew by ${grownMb.toFixed(0)} MB over the corpus`);
    // The corpus sends about 90 MB in all; a leak or an expansion would show as far more.
    expect(grownMb).to.be.below(400);
  });
});

function describeExpected(e: Expected): string {
  if ('accepted' in e) return 'Success';
  if ('xdsError' in e) return e.xdsError;
  return `${e.status} ${e.fault}${e.subcode ? `/${e.subcode}` : ''}`;
}
