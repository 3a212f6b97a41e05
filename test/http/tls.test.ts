import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { SecureVersion } from 'node:tls';
import { expect } from 'chai';
import { pino } from 'pino';
import { ConfigError, loadConfig } from '../../src/config.js';
import { CLIENT_IDENTITY, createServer, type ClientIdentity } from '../../src/http/tls.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { buildIti41Request, makeLabResult, newPatientId } from '../support/requests.js';
import { submissionResult } from '../support/responses.js';
import { rejectionOf } from '../support/rejection.js';

interface Pki {
  dir: string;
  file(name: string): string;
  pem(name: string): Buffer;
}

/** A CA, a server certificate for 127.0.0.1, a client certificate of that CA and one of a foreign CA, made with the openssl CLI. */
function makePki(): Pki {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'xdsgw-tls-'));
  const file = (n: string) => path.join(dir, n);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ca = (name: string, cn: string) => ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2', '-subj', `/C=FR/O=Test/CN=${cn}`, '-keyout', `${name}.key`, '-out', `${name}.pem`);
  const leaf = (name: string, caName: string, subj: string, ext: string) => {
    ssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', subj, '-keyout', `${name}.key`, '-out', `${name}.csr`);
    writeFileSync(file(`${name}.ext`), ext);
    ssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${caName}.pem`, '-CAkey', `${caName}.key`, '-CAcreateserial', '-days', '2', '-extfile', `${name}.ext`, '-out', `${name}.pem`);
  };
  ca('ca', 'Test Root CA');
  ca('other-ca', 'Foreign CA');
  leaf('server', 'ca', '/C=FR/O=Test/CN=127.0.0.1', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  leaf('client', 'ca', '/C=FR/O=CHU Test/OU=DPI/CN=dpi.chu-test.fr', 'extendedKeyUsage=clientAuth\n');
  leaf('intruder', 'other-ca', '/C=FR/O=Nobody/CN=intruder', 'extendedKeyUsage=clientAuth\n');
  return { dir, file, pem: (n) => readFileSync(file(n)) };
}

interface TlsReply {
  status: number;
  body: string;
}

function get(url: string, pki: Pki, opts: { client?: 'client' | 'intruder'; maxVersion?: SecureVersion } = {}): Promise<TlsReply> {
  return new Promise((resolve, reject) => {
    const req = https.get(
      url,
      {
        ca: pki.pem('ca.pem'),
        cert: opts.client ? pki.pem(`${opts.client}.pem`) : undefined,
        key: opts.client ? pki.pem(`${opts.client}.key`) : undefined,
        maxVersion: opts.maxVersion,
        agent: false,
      },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
  });
}

/** The TLS handshake or request refused: what it rejected with. */
const refused = (p: Promise<unknown>): Promise<Error> => rejectionOf(p, 'expected the TLS connection to be refused');

const silent = pino({ level: 'silent' });

describe('HTTPS with client certificates', function () {
  this.timeout(60_000);
  let pki: Pki;
  before(() => {
    pki = makePki();
  });
  after(() => {
    rmSync(pki.dir, { recursive: true, force: true });
  });

  describe('the server alone, echoing the identity it hands to the app', () => {
    const servers: Server[] = [];
    after(() => {
      for (const s of servers) s.close();
    });

    async function listen(clientAuth: 'required' | 'optional'): Promise<string> {
      const server = createServer(
        (_req, res) => {
          const identity = (res as unknown as { locals: Record<string, ClientIdentity | undefined> }).locals[CLIENT_IDENTITY];
          res.end(JSON.stringify(identity ?? null));
        },
        { host: '127.0.0.1', tlsCertFile: pki.file('server.pem'), tlsKeyFile: pki.file('server.key'), tlsCaFile: pki.file('ca.pem'), tlsClientAuth: clientAuth },
        silent,
      );
      servers.push(server);
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      return `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    }

    it('gives the verified client certificate subject, issuer and fingerprint to the app', async () => {
      const url = await listen('required');
      const reply = await get(url, pki, { client: 'client' });
      const identity = JSON.parse(reply.body) as ClientIdentity;
      expect(identity.subject).to.equal('C=FR, O=CHU Test, OU=DPI, CN=dpi.chu-test.fr');
      expect(identity.issuer).to.equal('C=FR, O=Test, CN=Test Root CA');
      expect(identity.fingerprint256).to.match(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    });

    it('refuses, when required, a client with no certificate or with one of another CA', async () => {
      const url = await listen('required');
      expect((await refused(get(url, pki))).message).to.match(/certificate|socket hang up|ECONNRESET|alert/i);
      expect((await refused(get(url, pki, { client: 'intruder' }))).message).to.match(/certificate|socket hang up|ECONNRESET|alert|unknown ca/i);
    });

    it('refuses TLS 1.1 and below', async () => {
      const url = await listen('required');
      expect((await refused(get(url, pki, { client: 'client', maxVersion: 'TLSv1.1' }))).message).to.match(/version|protocol|alert|ssl/i);
    });

    it('when optional, serves clients without a certificate and gives no identity for an unverified one', async () => {
      const url = await listen('optional');
      expect(JSON.parse((await get(url, pki)).body)).to.equal(null);
      expect(JSON.parse((await get(url, pki, { client: 'intruder' })).body)).to.equal(null);
      expect(JSON.parse((await get(url, pki, { client: 'client' })).body).subject).to.match(/CN=dpi\.chu-test\.fr$/);
    });

    it('listens in plain HTTP without TLS settings, warning when the address is not loopback', () => {
      const lines: string[] = [];
      const logger = pino({ level: 'warn' }, { write: (l: string) => lines.push(l) });
      const quiet = createServer(() => undefined, { host: '127.0.0.1', tlsClientAuth: 'none' }, logger);
      const loud = createServer(() => undefined, { host: '0.0.0.0', tlsClientAuth: 'none' }, logger);
      expect(quiet).to.not.be.instanceOf(https.Server);
      expect(loud).to.not.be.instanceOf(https.Server);
      expect(lines).to.have.length(1);
      expect(lines[0]).to.match(/plain HTTP on a non-loopback address/);
    });
  });

  it('refuses inconsistent TLS settings at start-up', () => {
    expect(() => loadConfig({ TLS_CERT_FILE: '/x.pem' })).to.throw(ConfigError, 'TLS_KEY_FILE');
    expect(() => loadConfig({ TLS_CERT_FILE: '/x.pem', TLS_KEY_FILE: '/x.key' })).to.throw(ConfigError, 'TLS_CA_FILE');
    expect(() => loadConfig({ TLS_CLIENT_AUTH: 'required' })).to.throw(ConfigError, 'TLS_CERT_FILE');
    expect(() => loadConfig({ TLS_CERT_FILE: '/x.pem', TLS_KEY_FILE: '/x.key', TLS_CLIENT_AUTH: 'maybe' })).to.throw(ConfigError, 'TLS_CLIENT_AUTH');
    expect(loadConfig({ TLS_CERT_FILE: '/x.pem', TLS_KEY_FILE: '/x.key', TLS_CA_FILE: '/ca.pem' }).tlsClientAuth).to.equal('required');
    expect(loadConfig({}).tlsClientAuth).to.equal('none');
  });

  describe('the gateway over mutual TLS', () => {
    let gw: TestGateway;
    before(async () => {
      gw = await startTestGateway('pglite', { TLS_CERT_FILE: pki.file('server.pem'), TLS_KEY_FILE: pki.file('server.key'), TLS_CA_FILE: pki.file('ca.pem') });
    });
    after(async () => {
      await gw?.close();
    });

    it('answers an ITI-41 submission from a client with a certificate of the configured CA, and no one else', async () => {
      expect(gw.url).to.match(/^https:/);
      expect((await get(`${gw.url}/health`, pki, { client: 'client' })).status).to.equal(200);
      await refused(get(`${gw.url}/health`, pki));

      const patientId = newPatientId();
      const { Agent, request } = await import('undici');
      const dispatcher = new Agent({ connect: { ca: pki.pem('ca.pem'), cert: pki.pem('client.pem'), key: pki.pem('client.key') } });
      try {
        const post = async (p: string, contentType: string, body: string | Buffer) => {
          const res = await request(gw.url + p, { method: 'POST', headers: { 'content-type': contentType }, body, dispatcher });
          const buf = Buffer.from(await res.body.arrayBuffer());
          return { status: res.statusCode, contentType: String(res.headers['content-type']), body: buf, text: buf.toString() };
        };
        expect((await post('/api/patients', 'application/json', JSON.stringify({ patientId }))).status).to.equal(201);
        const req = buildIti41Request({ patientId, documents: [{ bytes: makeLabResult(patientId, { sizeKb: 3 }) }] }, 'mtom');
        expect(submissionResult(await post('/xds/iti41', req.contentType, req.body)).status).to.equal('Success');
      } finally {
        await dispatcher.close();
      }
    });
  });
});
