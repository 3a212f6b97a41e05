import { createPrivateKey, generateKeyPairSync, X509Certificate, type KeyObject } from 'node:crypto';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import forge from 'node-forge';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { issueCertificate } from './certificate.js';

/** An XML-DSig signature method: its URI and how Node produces the bytes it expects. */
export interface SignatureMethod {
  uri: string;
  /** ECDSA values are r||s in XML-DSig (RFC 4050), not DER. */
  dsaEncoding?: 'ieee-p1363';
}

export const SIGNATURE_METHODS = {
  rsaSha256: { uri: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256' },
  ecdsaSha256: { uri: 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256', dsaEncoding: 'ieee-p1363' },
} as const satisfies Record<string, SignatureMethod>;

/** What the gateway signs with. The private key stays in this object: never logged, never serialised. */
export interface SigningIdentity {
  privateKey: KeyObject;
  certificate: X509Certificate;
  /** Issuer certificates after the signing one, as configured (may be empty). */
  chain: X509Certificate[];
  method: SignatureMethod;
  /** A development key generated on first start, not one an operator configured. */
  development: boolean;
}

export class SigningKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SigningKeyError';
  }
}

type KeySource = Pick<Config, 'dataDir' | 'signingKeyFile' | 'signingCertFile' | 'signingP12File' | 'signingP12Password'>;

const DEV_DIR = 'signing';
/** Key and certificate in one file, so that they are created together. */
const DEV_FILE = 'dev-signing.pem';
const DEV_CERT = 'dev-cert.pem';
const DEV_VALIDITY_DAYS = 825;

/**
 * The configured key and certificate: a PKCS#12 file, or PEM key + certificate (+ chain) files;
 * with neither, the development key of `<dataDir>/signing`, generated (P-256, self-signed) the first time.
 */
export async function loadSigningIdentity(config: KeySource, logger?: Logger): Promise<SigningIdentity> {
  if (config.signingP12File) {
    if (config.signingKeyFile || config.signingCertFile) throw new SigningKeyError('set either SIGNING_P12_FILE or SIGNING_KEY_FILE/SIGNING_CERT_FILE, not both');
    const { key, certs } = readPkcs12(await readFile(config.signingP12File), config.signingP12Password ?? '');
    return identity(key, certs, false);
  }
  if (config.signingKeyFile || config.signingCertFile) {
    if (!config.signingKeyFile || !config.signingCertFile) throw new SigningKeyError('SIGNING_KEY_FILE and SIGNING_CERT_FILE go together');
    const key = privateKeyFromPem(await readFile(config.signingKeyFile, 'utf8'), 'SIGNING_KEY_FILE');
    return identity(key, certificatesFromPem(await readFile(config.signingCertFile, 'utf8'), 'SIGNING_CERT_FILE'), false);
  }
  return developmentIdentity(config.dataDir, logger);
}

const cache = new WeakMap<object, Promise<SigningIdentity>>();

/** The identity of a running gateway, loaded once per config object. */
export function signingIdentity(config: KeySource, logger?: Logger): Promise<SigningIdentity> {
  let loading = cache.get(config);
  if (!loading) {
    loading = loadSigningIdentity(config, logger);
    loading.catch(() => cache.delete(config));
    cache.set(config, loading);
  }
  return loading;
}

const preloaded = new WeakSet<object>();

/**
 * Loads (or generates) the signing key when a gateway or worker starts, so that its warning or error shows
 * then and not at the first submission; once per config object however many parts of a process ask.
 */
export function preloadSigningIdentity(config: KeySource, logger: Logger): void {
  if (preloaded.has(config)) return;
  preloaded.add(config);
  signingIdentity(config, logger).catch((err: Error) => logger.error({ err: err.message }, 'signing key could not be loaded; ITI-41 submissions will fail'));
}

function identity(privateKey: KeyObject, certs: X509Certificate[], development: boolean): SigningIdentity {
  const [certificate, ...chain] = certs;
  if (!certificate) throw new SigningKeyError('no certificate found for the signing key');
  if (!certificate.checkPrivateKey(privateKey)) throw new SigningKeyError('the signing certificate does not match the signing key');
  return { privateKey, certificate, chain, method: signatureMethod(privateKey), development };
}

/** RSA of 2048 bits or more, or ECDSA on P-256: what DSG signers and verifiers commonly accept. */
function signatureMethod(key: KeyObject): SignatureMethod {
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'rsa') {
    if ((details.modulusLength ?? 0) < 2048) throw new SigningKeyError(`RSA signing keys must have at least 2048 bits, got ${details.modulusLength}`);
    return SIGNATURE_METHODS.rsaSha256;
  }
  if (key.asymmetricKeyType === 'ec' && details.namedCurve === 'prime256v1') return SIGNATURE_METHODS.ecdsaSha256;
  throw new SigningKeyError(`unsupported signing key type ${key.asymmetricKeyType}${details.namedCurve ? ` (${details.namedCurve})` : ''}: use RSA 2048/3072 or ECDSA P-256`);
}

function privateKeyFromPem(pem: string, what: string): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch (err) {
    throw new SigningKeyError(`${what} holds no readable unencrypted private key (${(err as Error).message})`);
  }
}

/** Every certificate of a PEM bundle, in file order (signing certificate first). */
export function certificatesFromPem(pem: string, what: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (!blocks.length) throw new SigningKeyError(`${what} holds no PEM certificate`);
  return blocks.map((b) => new X509Certificate(b));
}

/** PKCS#12 through node-forge (Node cannot read it); EC keys and certificates come back as raw ASN.1. */
function readPkcs12(der: Buffer, password: string): { key: KeyObject; certs: X509Certificate[] } {
  let p12: forge.pkcs12.Pkcs12Pfx;
  try {
    p12 = forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(der.toString('binary')), password);
  } catch (err) {
    throw new SigningKeyError(`SIGNING_P12_FILE could not be opened (${(err as Error).message}); check SIGNING_P12_PASSWORD`);
  }
  const bags = (type: string): forge.pkcs12.Bag[] => p12.getBags({ bagType: type })[type] ?? [];
  const keyBags = [...bags(forge.pki.oids.pkcs8ShroudedKeyBag!), ...bags(forge.pki.oids.keyBag!)];
  const keyBag = keyBags[0];
  if (!keyBag) throw new SigningKeyError('SIGNING_P12_FILE holds no private key');
  const keyInfo = keyBag.key ? forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(keyBag.key)) : keyBag.asn1;
  const key = createPrivateKey({ key: Buffer.from(forge.asn1.toDer(keyInfo).getBytes(), 'binary'), format: 'der', type: 'pkcs8' });

  const certs = bags(forge.pki.oids.certBag!).map((bag) => {
    const asn1 = bag.cert ? forge.pki.certificateToAsn1(bag.cert) : bag.asn1;
    return new X509Certificate(Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary'));
  });
  return { key, certs: signingCertificateFirst(key, certs) };
}

/** PKCS#12 files list certificates in any order: the one matching the key first, then its issuers. */
function signingCertificateFirst(key: KeyObject, certs: X509Certificate[]): X509Certificate[] {
  const leaf = certs.find((c) => c.checkPrivateKey(key));
  if (!leaf) return certs;
  const ordered = [leaf];
  let rest = certs.filter((c) => c !== leaf);
  for (let current = leaf; rest.length; ) {
    const issuer = rest.find((c) => current.checkIssued(c));
    if (!issuer) break;
    ordered.push(issuer);
    rest = rest.filter((c) => c !== issuer);
    current = issuer;
  }
  return [...ordered, ...rest];
}

async function developmentIdentity(dataDir: string, logger?: Logger): Promise<SigningIdentity> {
  const dir = path.join(dataDir, DEV_DIR);
  const file = path.join(dir, DEV_FILE);
  let pem: string;
  try {
    pem = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    pem = await generateDevelopmentKey();
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const temp = `${file}.${process.pid}.tmp`;
    await writeFile(temp, pem, { mode: 0o600 });
    try {
      // link never overwrites: of processes starting together, all end up signing with the first one's key.
      await link(temp, file);
      await writeFile(path.join(dir, DEV_CERT), pem.slice(pem.indexOf('-----BEGIN CERTIFICATE-----')), { mode: 0o644 });
      logger?.warn(
        { certificate: path.join(dir, DEV_CERT) },
        'no signing key configured (SIGNING_KEY_FILE + SIGNING_CERT_FILE, or SIGNING_P12_FILE): generated a self-signed development key; do not use it in production',
      );
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    } finally {
      await unlink(temp).catch(() => undefined);
    }
    pem = await readFile(file, 'utf8');
  }
  return identity(privateKeyFromPem(pem, file), certificatesFromPem(pem, file), true);
}

async function generateDevelopmentKey(): Promise<string> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const now = Date.now();
  const cert = issueCertificate({
    subject: { commonName: 'XDS gateway development signing key', organization: 'Development only' },
    publicKey,
    signingKey: privateKey,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + DEV_VALIDITY_DAYS * 86_400_000),
    ca: true,
  });
  return `${privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()}${cert.toString()}`;
}
