import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { createDsgSignature } from '../../src/signature/sign.js';
import { testCa, testSigner } from './pki.js';

describe('npm run verify (offline DSG verification)', function () {
  this.timeout(60_000);
  let dir: string;
  const ca = testCa('CLI CA');
  const docs = [
    { uniqueId: '1.2.250.1.999.9.7.1', bytes: Buffer.from('<doc>one</doc>') },
    { uniqueId: '1.2.250.1.999.9.7.2', bytes: Buffer.from('<doc>two</doc>') },
  ];

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'xdsgw-cli-'));
    await writeFile(path.join(dir, 'ca.pem'), ca.certificate.toString());
    await writeFile(path.join(dir, 'signature.xml'), createDsgSignature({ documents: docs, submissionSetUniqueId: '1.2.250.1.999.9.7.9', signingTime: new Date() }, testSigner(ca)));
    await writeFile(path.join(dir, 'one.xml'), docs[0]!.bytes);
    await writeFile(path.join(dir, 'two.xml'), docs[1]!.bytes);
    await writeFile(path.join(dir, 'changed.xml'), Buffer.from('<doc>twO</doc>'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const run = (...args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/verify.ts', path.join(dir, 'signature.xml'), ...args, '--trust', dir], { encoding: 'utf8' });

  it('exits 0 and names the signer when the documents match', () => {
    const r = run(path.join(dir, 'one.xml'), path.join(dir, 'two.xml'));
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.contain('VALID').and.to.contain('CN=signer p-256,O=Test lab');
  });

  it('exits 1 with the reason when a document was changed', () => {
    const r = run(`${docs[1]!.uniqueId}=${path.join(dir, 'changed.xml')}`, '--json');
    expect(r.status).to.equal(1);
    expect(JSON.parse(r.stdout).problems.map((p: { code: string }) => p.code)).to.deep.equal(['document-digest']);
  });

  it('exits 2 on a usage error', () => {
    expect(spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/verify.ts'], { encoding: 'utf8' }).status).to.equal(2);
  });
});
