import { execFileSync, spawnSync } from 'node:child_process';
import { generateKeyPairSync, verify, type KeyObject, type X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DOMParser } from '@xmldom/xmldom';
import { SignedXml } from 'xml-crypto';
import { issueCertificate } from '../../src/signature/certificate.js';
import { SIGNATURE_METHODS, type SigningIdentity } from '../../src/signature/keys.js';

export type KeyKind = 'rsa-2048' | 'rsa-3072' | 'p-256';

const DAY = 86_400_000;

export function keyPair(kind: KeyKind): { privateKey: KeyObject; publicKey: KeyObject } {
  if (kind === 'p-256') return generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return generateKeyPairSync('rsa', { modulusLength: kind === 'rsa-2048' ? 2048 : 3072 });
}

export interface TestCa {
  name: string;
  certificate: X509Certificate;
  privateKey: KeyObject;
}

export function testCa(name: string, kind: KeyKind = 'p-256', validFromDays = -1): TestCa {
  const { privateKey, publicKey } = keyPair(kind);
  const certificate = issueCertificate({
    subject: { commonName: name, organization: 'Test PKI', country: 'FR' },
    publicKey,
    signingKey: privateKey,
    notBefore: new Date(Date.now() + validFromDays * DAY),
    notAfter: new Date(Date.now() + 365 * DAY),
    ca: true,
  });
  return { name, certificate, privateKey };
}

/** A signing identity issued by `ca`; `validDays` negative gives a certificate that has already expired. */
export function testSigner(ca: TestCa, kind: KeyKind = 'p-256', opts: { validFromDays?: number; validDays?: number; commonName?: string } = {}): SigningIdentity {
  const { privateKey, publicKey } = keyPair(kind);
  const from = Date.now() + (opts.validFromDays ?? -1) * DAY;
  const certificate = issueCertificate({
    subject: { commonName: opts.commonName ?? `signer ${kind}`, organization: 'Test lab' },
    issuer: { commonName: ca.name, organization: 'Test PKI', country: 'FR' },
    publicKey,
    signingKey: ca.privateKey,
    notBefore: new Date(from),
    notAfter: new Date(from + (opts.validDays ?? 30) * DAY),
    ca: false,
  });
  const method = kind === 'p-256' ? SIGNATURE_METHODS.ecdsaSha256 : SIGNATURE_METHODS.rsaSha256;
  return { privateKey, certificate, chain: [ca.certificate], method, development: false };
}

class EcdsaSha256 {
  getSignature(): string {
    throw new Error('verification only');
  }
  verifySignature(material: string, key: string, signatureValue: string): boolean {
    return verify('sha256', Buffer.from(material, 'utf8'), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(signatureValue, 'base64'));
  }
  getAlgorithmName(): string {
    return SIGNATURE_METHODS.ecdsaSha256.uri;
  }
}

/**
 * xml-crypto's verdict on a signature: SignedInfo references and the signature value with the KeyInfo
 * certificate. xml-crypto has no ECDSA: the algorithm added here is only Node's verify on r||s bytes.
 */
export function xmlCryptoVerifies(xml: Buffer): { valid: boolean; errors: string[] } {
  const text = xml.toString('utf8');
  const doc = new DOMParser().parseFromString(text, 'application/xml');
  const node = doc.getElementsByTagNameNS('http://www.w3.org/2000/09/xmldsig#', 'Signature')[0]!;
  const sig = new SignedXml({ getCertFromKeyInfo: SignedXml.getCertFromKeyInfo });
  (sig.SignatureAlgorithms as Record<string, unknown>)[SIGNATURE_METHODS.ecdsaSha256.uri] = EcdsaSha256;
  sig.loadSignature(node as unknown as Node);
  try {
    return { valid: sig.checkSignature(text), errors: [] };
  } catch (err) {
    return { valid: false, errors: [(err as Error).message] };
  }
}

export const xmlsec1Available = (): boolean => spawnSync('xmlsec1', ['--version']).status === 0;

/** `xmlsec1 --verify` with the documents mapped to their Manifest URIs: its exit status and Manifest reference count. */
export function xmlsec1Verify(
  xml: Buffer,
  trusted: X509Certificate[],
  documents: { uri: string; bytes: Buffer }[],
): { ok: boolean; manifest: string; output: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'xmlsec1-'));
  try {
    const args = ['--verify', '--enabled-key-data', 'x509'];
    trusted.forEach((c, i) => {
      const f = path.join(dir, `ca${i}.pem`);
      writeFileSync(f, c.toString());
      args.push('--trusted-pem', f);
    });
    documents.forEach((d, i) => {
      const f = path.join(dir, `doc${i}`);
      writeFileSync(f, d.bytes);
      args.push(`--url-map:${d.uri}`, f);
    });
    for (const id of ['Manifest', 'SignatureProperties', 'http://uri.etsi.org/01903/v1.3.2#:SignedProperties']) args.push('--id-attr:Id', id);
    const file = path.join(dir, 'signature.xml');
    writeFileSync(file, xml);
    args.push(file);
    const r = spawnSync('xmlsec1', args, { encoding: 'utf8' });
    const output = `${r.stdout}${r.stderr}`;
    return { ok: r.status === 0 && /^OK$/m.test(output), manifest: /Manifests References \(ok\/all\): (\d+\/\d+)/.exec(output)?.[1] ?? '', output };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A PKCS#12 file made by the openssl command (node-forge writes RSA only). */
export function opensslPkcs12(dir: string, identity: SigningIdentity, password: string): string {
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  const out = path.join(dir, 'identity.p12');
  writeFileSync(key, identity.privateKey.export({ type: 'pkcs8', format: 'pem' }));
  writeFileSync(cert, [identity.certificate, ...identity.chain].map((c) => c.toString()).join(''));
  execFileSync('openssl', ['pkcs12', '-export', '-inkey', key, '-in', cert, '-out', out, '-passout', `pass:${password}`]);
  return out;
}

