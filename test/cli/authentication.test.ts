import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { startPolicyGateway, AUTHOR, type PolicyGateway } from '../policy/support.js';
import { makeLabResult, newPatientId } from '../support/requests.js';
import { xdsgw } from './run.js';

describe('xdsgw against a gateway that requires authentication (--assertion)', function () {
  this.timeout(120_000);
  let p: PolicyGateway;
  let dir: string;
  const patient = newPatientId();

  before(async () => {
    p = await startPolicyGateway({ SIGNING: 'off' });
    dir = await mkdtemp(path.join(os.tmpdir(), 'xdsgw-auth-'));
    expect(await p.gw.registerPatient(patient)).to.equal(201);
    await p.openRecord(patient);
    await writeFile(path.join(dir, 'lab.xml'), makeLabResult(patient, { sizeKb: 4 }));
    await writeFile(path.join(dir, 'assertion.xml'), `<?xml version="1.0" encoding="UTF-8"?>\n${p.idp.assertion({ ...AUTHOR })}\n`);
    await writeFile(path.join(dir, 'forged.xml'), p.idp.unsignedAssertion({ ...AUTHOR }));
  });
  after(async () => {
    await p?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const submit = (...extra: string[]) => xdsgw(['submit', 'lab.xml', '--url', p.gw.url, '--quiet', ...extra], { cwd: dir });

  it('stops at the first document with the SOAP fault when no assertion is given', async () => {
    const r = await submit();
    expect(r.status).to.equal(1);
    expect(r.stderr).to.match(/^xdsgw: SOAP fault env:Sender \(wsse:InvalidSecurity\): .+/m);
  });

  it('stops with wsse:FailedAuthentication when the assertion is not signed by a trusted identity provider', async () => {
    const r = await submit('--assertion', 'forged.xml');
    expect(r.status).to.equal(1);
    expect(r.stderr).to.contain('(wsse:FailedAuthentication)');
  });

  it('submits with the VIHF assertion of the file in wsse:Security, and queries with it', async () => {
    const r = await submit('--assertion', 'assertion.xml', '--json');
    expect(r.status, r.stdout + r.stderr).to.equal(0);
    expect(JSON.parse(r.stdout)).to.include({ accepted: 1 });
    const q = await xdsgw(['query', '--patient', patient, '--url', p.gw.url, '--json'], { cwd: dir, env: { XDSGW_ASSERTION: 'assertion.xml' } });
    expect(q.status, q.stderr).to.equal(0);
    expect(JSON.parse(q.stdout).documents).to.have.length(1);
  });

  it('exits 2 when the assertion file holds no SAML assertion', async () => {
    await writeFile(path.join(dir, 'not-saml.xml'), '<hello/>');
    const r = await submit('--assertion', 'not-saml.xml');
    expect(r.status).to.equal(2);
    expect(r.stderr).to.contain('does not hold a SAML 2.0 Assertion');
  });
});
