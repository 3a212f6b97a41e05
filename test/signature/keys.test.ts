import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import forge from 'node-forge';
import { issueCertificate } from '../../src/signature/certificate.js';
import { loadSigningIdentity, SIGNATURE_METHODS, SigningKeyError } from '../../src/signature/keys.js';
import { opensslPkcs12, testCa, testSigner, type KeyKind } from './pki.js';

describe('signing keys', function () {
  this.timeout(30_000);
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'xdsgw-keys-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const ca = testCa('Keys test CA');

  async function pemFiles(kind: KeyKind): Promise<{ keyFile: string; certFile: string; serial: string }> {
    const signer = testSigner(ca, kind);
    const keyFile = path.join(dir, 'key.pem');
    const certFile = path.join(dir, 'cert.pem');
    await writeFile(keyFile, signer.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    await writeFile(certFile, signer.certificate.toString() + ca.certificate.toString());
    return { keyFile, certFile, serial: signer.certificate.serialNumber };
  }

  for (const [kind, method] of [
    ['rsa-2048', SIGNATURE_METHODS.rsaSha256],
    ['rsa-3072', SIGNATURE_METHODS.rsaSha256],
    ['p-256', SIGNATURE_METHODS.ecdsaSha256],
  ] as const) {
    it(`reads a ${kind} PEM key with its certificate and chain`, async () => {
      const { keyFile, certFile, serial } = await pemFiles(kind);
      const id = await loadSigningIdentity({ dataDir: dir, signingKeyFile: keyFile, signingCertFile: certFile });
      expect(id.certificate.serialNumber).to.equal(serial);
      expect(id.chain.map((c) => c.fingerprint256)).to.deep.equal([ca.certificate.fingerprint256]);
      expect(id.method).to.deep.equal(method);
      expect(id.development).to.equal(false);
    });
  }

  it('reads an RSA PKCS#12 file written by node-forge', async () => {
    const keys = forge.pki.rsa.generateKeyPair(2048);
    const cert = forge.pki.createCertificate();
    cert.publicKey = keys.publicKey;
    cert.serialNumber = '0a1b2c';
    cert.validity.notBefore = new Date(Date.now() - 60_000);
    cert.validity.notAfter = new Date(Date.now() + 86_400_000);
    cert.setSubject([{ name: 'commonName', value: 'p12 signer' }]);
    cert.setIssuer([{ name: 'commonName', value: 'p12 signer' }]);
    cert.sign(keys.privateKey, forge.md.sha256.create());
    const p12 = forge.pkcs12.toPkcs12Asn1(keys.privateKey, [cert], 'secret', { algorithm: '3des' });
    const file = path.join(dir, 'id.p12');
    await writeFile(file, Buffer.from(forge.asn1.toDer(p12).getBytes(), 'binary'));
    const id = await loadSigningIdentity({ dataDir: dir, signingP12File: file, signingP12Password: 'secret' });
    expect(id.certificate.serialNumber.toLowerCase()).to.equal('0a1b2c');
    expect(id.method).to.deep.equal(SIGNATURE_METHODS.rsaSha256);
  });

  it('reads a P-256 PKCS#12 file with its chain, signing certificate first', async () => {
    const signer = testSigner(ca, 'p-256');
    const file = opensslPkcs12(dir, signer, 'secret');
    const id = await loadSigningIdentity({ dataDir: dir, signingP12File: file, signingP12Password: 'secret' });
    expect(id.certificate.fingerprint256).to.equal(signer.certificate.fingerprint256);
    expect(id.chain.map((c) => c.fingerprint256)).to.deep.equal([ca.certificate.fingerprint256]);
    expect(id.method).to.deep.equal(SIGNATURE_METHODS.ecdsaSha256);
  });

  it('refuses a PKCS#12 file with the wrong password without echoing it', async () => {
    const file = opensslPkcs12(dir, testSigner(ca, 'p-256'), 'secret');
    const err = await loadSigningIdentity({ dataDir: dir, signingP12File: file, signingP12Password: 'wrong-password' }).catch((e: Error) => e);
    expect(err).to.be.instanceOf(SigningKeyError);
    expect((err as Error).message).not.to.contain('wrong-password');
  });

  it('refuses an RSA key under 2048 bits and a certificate of another key', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const small = issueCertificate({ subject: { commonName: 'small' }, publicKey, signingKey: privateKey, notBefore: new Date(), notAfter: new Date(Date.now() + 86_400_000), ca: false });
    await writeFile(path.join(dir, 'k.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
    await writeFile(path.join(dir, 'c.pem'), small.toString());
    const tooSmall = await loadSigningIdentity({ dataDir: dir, signingKeyFile: path.join(dir, 'k.pem'), signingCertFile: path.join(dir, 'c.pem') }).catch((e: Error) => e);
    expect((tooSmall as Error).message).to.match(/at least 2048 bits/);

    await writeFile(path.join(dir, 'c.pem'), testSigner(ca, 'rsa-2048').certificate.toString());
    const mismatch = await loadSigningIdentity({ dataDir: dir, signingKeyFile: path.join(dir, 'k.pem'), signingCertFile: path.join(dir, 'c.pem') }).catch((e: Error) => e);
    expect((mismatch as Error).message).to.match(/does not match/);
  });

  it('generates a P-256 development key once, private to its owner, and warns about it', async () => {
    const warnings: unknown[][] = [];
    const logger = { warn: (...args: unknown[]) => warnings.push(args) } as never;
    const first = await loadSigningIdentity({ dataDir: dir }, logger);
    const second = await loadSigningIdentity({ dataDir: dir }, logger);
    expect(first.development).to.equal(true);
    expect(first.method).to.deep.equal(SIGNATURE_METHODS.ecdsaSha256);
    expect(second.certificate.fingerprint256).to.equal(first.certificate.fingerprint256);
    expect(warnings).to.have.length(1);
    expect(JSON.stringify(warnings)).not.to.contain('PRIVATE KEY');
    const keyFile = path.join(dir, 'signing', 'dev-signing.pem');
    expect((await stat(keyFile)).mode & 0o077).to.equal(0);
    expect(await readFile(path.join(dir, 'signing', 'dev-cert.pem'), 'utf8')).to.contain('BEGIN CERTIFICATE');
  });
});
