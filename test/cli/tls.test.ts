import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { newPatientId } from '../support/requests.js';
import { xdsgw } from './run.js';

describe('xdsgw against an HTTPS gateway with mutual TLS (--ca, --cert, --key)', function () {
  this.timeout(120_000);
  let gw: TestGateway;
  let dir: string;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'xdsgw-cli-tls-'));
    const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
    ssl('req', '-x509', ...ec, '-days', '2', '-subj', '/C=FR/O=Test/CN=CLI Test CA', '-keyout', 'ca.key', '-out', 'ca.pem');
    for (const [name, subj, ext] of [
      ['server', '/C=FR/O=Test/CN=127.0.0.1', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n'],
      ['client', '/C=FR/O=CHU Test/CN=dpi.chu-test.fr', 'extendedKeyUsage=clientAuth\n'],
    ] as const) {
      ssl('req', ...ec, '-subj', subj, '-keyout', `${name}.key`, '-out', `${name}.csr`);
      await writeFile(path.join(dir, `${name}.ext`), ext);
      ssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', `${name}.ext`, '-out', `${name}.pem`);
    }
    gw = await startTestGateway('postgres', {
      TLS_CERT_FILE: path.join(dir, 'server.pem'),
      TLS_KEY_FILE: path.join(dir, 'server.key'),
      TLS_CA_FILE: path.join(dir, 'ca.pem'),
    });
    expect(gw.url).to.match(/^https:/);
  });
  after(async () => {
    await gw?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const patients = (...extra: string[]) => xdsgw(['patients', 'create', newPatientId(), '--url', gw.url, ...extra], { cwd: dir });

  it('talks to the gateway with the CA and the client certificate', async () => {
    const r = await patients('--ca', 'ca.pem', '--cert', 'client.pem', '--key', 'client.key');
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/ created\n$/);
  });

  it('takes the files from XDSGW_CA, XDSGW_CERT and XDSGW_KEY', async () => {
    const r = await xdsgw(['patients', 'create', newPatientId(), '--url', gw.url], { cwd: dir, env: { XDSGW_CA: 'ca.pem', XDSGW_CERT: 'client.pem', XDSGW_KEY: 'client.key' } });
    expect(r.status, r.stderr).to.equal(0);
  });

  it('exits 3 when the gateway certificate is not trusted, or the gateway refuses to go on without a client certificate', async () => {
    const untrusted = await patients('--cert', 'client.pem', '--key', 'client.key');
    expect(untrusted.status).to.equal(3);
    expect(untrusted.stderr).to.match(/cannot reach the gateway at https:\/\/127\.0\.0\.1:\d+: .*certificate/i);
    const anonymous = await patients('--ca', 'ca.pem');
    expect(anonymous.status, anonymous.stderr).to.equal(3);
  });

  it('exits 2 for a certificate without its key, and 5 for a file that cannot be read', async () => {
    expect((await patients('--cert', 'client.pem')).status).to.equal(2);
    const missing = await patients('--ca', 'no-such-ca.pem');
    expect(missing.status).to.equal(5);
    expect(missing.stderr).to.contain('cannot read the --ca file no-such-ca.pem');
  });
});
