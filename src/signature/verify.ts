import { createHash, webcrypto, X509Certificate } from 'node:crypto';
import { DOMParser, type Element } from '@xmldom/xmldom';
import * as xadesjs from 'xadesjs';
import { parseXml } from '../xml/tree.js';
import { ALGORITHM, documentUri, REFERENCE_TYPE, XMLNS } from './dsg.js';
import { rfc4514, type SignedDocument } from './sign.js';

xadesjs.Application.setEngine('NodeJS', webcrypto as unknown as Crypto);

/** Why a signature is not valid; one code per check, so callers and tests can tell them apart. */
export type SignatureProblemCode =
  | 'malformed'
  | 'signature-value'
  | 'signed-reference'
  | 'signing-certificate'
  | 'certificate-expired'
  | 'certificate-not-yet-valid'
  | 'certificate-untrusted'
  | 'signing-time'
  | 'document-digest'
  | 'manifest-missing-reference'
  | 'manifest-unknown-reference';

export interface SignatureProblem {
  code: SignatureProblemCode;
  message: string;
}

export interface SignerView {
  subject: string;
  issuer: string;
  serialNumber: string;
  notBefore: string;
  notAfter: string;
}

export interface SignatureReport {
  valid: boolean;
  problems: SignatureProblem[];
  signer?: SignerView;
  signingTime?: string;
  submissionSetUniqueId?: string;
  /** Manifest reference URIs, in document order. */
  references: string[];
}

export interface VerifyOptions {
  /** Documents the signature must cover: each needs a Manifest reference whose digest matches its bytes. */
  documents: SignedDocument[];
  /** Documents checked only if the Manifest references them (other signature documents of the same submission). */
  optionalDocuments?: SignedDocument[];
  /** A reference to the submission set itself (DSG SubmissionSet signature, digest "0") is not a document. */
  submissionSetUniqueId?: string;
  trustAnchors: X509Certificate[];
  /** The documents are some of those signed: Manifest references to others are left unchecked. */
  partial?: boolean;
  /** Certificates valid now (a signature arriving) or at the signing time it states (a stored signature checked later). */
  validityAt: 'now' | 'signing-time';
  now?: Date;
}

/** Signing times this far ahead of our clock are accepted (clock skew between hosts). */
const FUTURE_SKEW_MS = 5 * 60_000;
const MAX_CHAIN = 8;

const DIGESTS: Record<string, string> = { [ALGORITHM.sha256]: 'sha256', [ALGORITHM.sha1]: 'sha1' };

/**
 * Verifies an IHE DSG detached signature: the XML signature (SignedInfo references and signature
 * value, by xadesjs), the signing certificate (XAdES SigningCertificate digest, chain to a trust
 * anchor, validity dates) and every Manifest reference against the documents' bytes, which XML-DSig
 * libraries leave to the application. Collects every problem; never throws for bad input.
 */
export async function verifyDsgSignature(xml: Buffer, opts: VerifyOptions): Promise<SignatureReport> {
  const report: SignatureReport = { valid: false, problems: [], references: [] };
  const problem = (code: SignatureProblemCode, message: string): void => {
    report.problems.push({ code, message });
  };
  let signature: Element;
  try {
    const text = xml.toString('utf8');
    // Our own parser first: it refuses DOCTYPE and entity declarations, which xmldom would accept.
    parseXml(text);
    const doc = new DOMParser().parseFromString(text, 'application/xml');
    const found = doc.getElementsByTagNameNS(XMLNS.ds, 'Signature')[0];
    if (!found) throw new Error('no ds:Signature element');
    signature = found;
  } catch (err) {
    problem('malformed', `not a readable XML signature: ${(err as Error).message}`);
    return report;
  }

  const certs = keyInfoCertificates(signature);
  const signingCert = signingCertificate(signature, certs, problem);
  if (signingCert) report.signer = signerView(signingCert);
  const signingTime = firstText(signature, XMLNS.xades, 'SigningTime');
  if (signingTime) report.signingTime = signingTime;
  report.submissionSetUniqueId = submissionSetOf(signature);

  await checkSignatureValue(signature, signingCert, problem);
  const now = opts.now ?? new Date();
  const at = opts.validityAt === 'now' ? now : signingTime ? new Date(signingTime) : undefined;
  if (!at || Number.isNaN(at.getTime())) problem('signing-time', 'the signature has no readable xades:SigningTime');
  else if (at.getTime() > now.getTime() + FUTURE_SKEW_MS) problem('signing-time', `the signing time ${signingTime} is in the future`);
  if (signingCert && at && !Number.isNaN(at.getTime())) checkCertificatePath(signingCert, certs, opts.trustAnchors, at, problem);
  report.references = checkManifest(signature, opts, problem);
  report.valid = report.problems.length === 0;
  return report;
}

function checkSignatureValue(signature: Element, cert: X509Certificate | undefined, problem: (c: SignatureProblemCode, m: string) => void): Promise<void> {
  return (async () => {
    try {
      const signed = new xadesjs.SignedXml(signature.ownerDocument as unknown as Document);
      signed.LoadXml(signature as unknown as globalThis.Element);
      const key = cert ? await verificationKey(cert) : undefined;
      // xmldsigjs re-imports the key with the SignatureMethod's parameters, which name no curve.
      if (key && cert?.publicKey.asymmetricKeyType === 'ec') signed.Algorithm = { ...signed.Algorithm, namedCurve: 'P-256' } as unknown as typeof signed.Algorithm;
      if (!(await signed.Verify(key))) problem('signature-value', 'the signature value does not verify over SignedInfo with the signing certificate');
    } catch (err) {
      const message = (err as Error).message;
      if (/digest/i.test(message)) problem('signed-reference', `a signed part was changed after signing: ${message}`);
      else problem('signature-value', `the signature could not be verified: ${message}`);
    }
  })();
}

async function verificationKey(cert: X509Certificate): Promise<CryptoKey> {
  const spki = cert.publicKey.export({ type: 'spki', format: 'der' });
  const alg = cert.publicKey.asymmetricKeyType === 'ec' ? { name: 'ECDSA', namedCurve: 'P-256' } : { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  return (await webcrypto.subtle.importKey('spki', spki, alg, true, ['verify'])) as unknown as CryptoKey;
}

function keyInfoCertificates(signature: Element): X509Certificate[] {
  const out: X509Certificate[] = [];
  for (const el of elements(signature, XMLNS.ds, 'X509Certificate')) {
    try {
      out.push(new X509Certificate(Buffer.from((el.textContent ?? '').replace(/\s+/g, ''), 'base64')));
    } catch {
      // An unreadable certificate is simply not a candidate; the signing one is checked below.
    }
  }
  return out;
}

/** The KeyInfo certificate whose digest the signed XAdES SigningCertificate(V2) names. */
function signingCertificate(signature: Element, certs: X509Certificate[], problem: (c: SignatureProblemCode, m: string) => void): X509Certificate | undefined {
  const certDigest = elements(signature, XMLNS.xades, 'CertDigest')[0];
  if (!certDigest) {
    problem('signing-certificate', 'the signature has no xades:SigningCertificate digest');
    return certs[0];
  }
  const algorithm = elements(certDigest, XMLNS.ds, 'DigestMethod')[0]?.getAttribute('Algorithm') ?? '';
  const expected = (elements(certDigest, XMLNS.ds, 'DigestValue')[0]?.textContent ?? '').trim();
  const hash = DIGESTS[algorithm];
  if (!hash) {
    problem('signing-certificate', `unsupported SigningCertificate digest algorithm ${algorithm}`);
    return certs[0];
  }
  const cert = certs.find((c) => createHash(hash).update(c.raw).digest('base64') === expected);
  if (!cert) problem('signing-certificate', 'no certificate in KeyInfo matches the signed SigningCertificate digest');
  return cert;
}

/** The signing certificate must chain, through KeyInfo certificates, to a trust anchor, every link valid at `at`. */
function checkCertificatePath(
  leaf: X509Certificate,
  pool: X509Certificate[],
  anchors: X509Certificate[],
  at: Date,
  problem: (c: SignatureProblemCode, m: string) => void,
): void {
  const path = [leaf];
  let trusted = false;
  for (let current = leaf; path.length <= MAX_CHAIN; ) {
    const anchor = anchors.find((a) => a.fingerprint256 === current.fingerprint256 || (current.checkIssued(a) && current.verify(a.publicKey)));
    if (anchor) {
      if (anchor.fingerprint256 !== current.fingerprint256) path.push(anchor);
      trusted = true;
      break;
    }
    const next = pool.find((c) => c.fingerprint256 !== current.fingerprint256 && current.checkIssued(c) && current.verify(c.publicKey));
    if (!next || path.includes(next)) break;
    path.push(next);
    current = next;
  }
  if (!trusted) problem('certificate-untrusted', `the signing certificate (${rfc4514(leaf.subject)}, issued by ${rfc4514(leaf.issuer)}) does not chain to a trusted CA`);
  for (const cert of path) {
    const name = rfc4514(cert.subject);
    if (at.getTime() > new Date(cert.validTo).getTime()) problem('certificate-expired', `certificate ${name} expired on ${new Date(cert.validTo).toISOString()}, before ${at.toISOString()}`);
    if (at.getTime() < new Date(cert.validFrom).getTime()) problem('certificate-not-yet-valid', `certificate ${name} is valid only from ${new Date(cert.validFrom).toISOString()}`);
  }
}

/** Manifest references against the documents' exact bytes; only a Manifest that SignedInfo signs counts. */
function checkManifest(signature: Element, opts: VerifyOptions, problem: (c: SignatureProblemCode, m: string) => void): string[] {
  const signedInfo = elements(signature, XMLNS.ds, 'SignedInfo')[0];
  const manifestIds = elements(signedInfo, XMLNS.ds, 'Reference')
    .filter((r) => r.getAttribute('Type') === REFERENCE_TYPE.manifest && (r.getAttribute('URI') ?? '').startsWith('#'))
    .map((r) => r.getAttribute('URI')!.slice(1));
  const manifests = elements(signature, XMLNS.ds, 'Manifest').filter((m) => manifestIds.includes(m.getAttribute('Id') ?? ''));
  if (!manifests.length) {
    problem('malformed', 'SignedInfo signs no ds:Manifest: the signature covers no document');
    return [];
  }
  const references = new Map<string, { algorithm: string; digest: string; transforms: boolean }>();
  for (const ref of manifests.flatMap((m) => elements(m, XMLNS.ds, 'Reference'))) {
    references.set(ref.getAttribute('URI') ?? '', {
      algorithm: elements(ref, XMLNS.ds, 'DigestMethod')[0]?.getAttribute('Algorithm') ?? '',
      digest: (elements(ref, XMLNS.ds, 'DigestValue')[0]?.textContent ?? '').trim(),
      transforms: elements(ref, XMLNS.ds, 'Transforms').length > 0,
    });
  }
  const seen = new Set<string>();
  const check = (doc: SignedDocument, required: boolean): void => {
    const uri = documentUri(doc.uniqueId);
    const ref = references.get(uri) ?? references.get(doc.uniqueId);
    if (!ref) {
      if (required) problem('manifest-missing-reference', `the Manifest has no reference to document ${doc.uniqueId}`);
      return;
    }
    seen.add(references.has(uri) ? uri : doc.uniqueId);
    const hash = DIGESTS[ref.algorithm];
    if (!hash || ref.transforms) problem('document-digest', `document ${doc.uniqueId}: unsupported reference (digest ${ref.algorithm}${ref.transforms ? ', with transforms' : ''})`);
    else if (createHash(hash).update(doc.bytes).digest('base64') !== ref.digest) problem('document-digest', `document ${doc.uniqueId} does not match the digest the signature holds for it`);
  };
  for (const doc of opts.documents) check(doc, true);
  for (const doc of opts.optionalDocuments ?? []) check(doc, false);
  const submissionSet = opts.submissionSetUniqueId;
  for (const uri of opts.partial ? [] : references.keys()) {
    if (seen.has(uri) || (submissionSet && (uri === documentUri(submissionSet) || uri === submissionSet))) continue;
    problem('manifest-unknown-reference', `the Manifest references ${uri}, which is not a document of the submission`);
  }
  return [...references.keys()];
}

function signerView(cert: X509Certificate): SignerView {
  return {
    subject: rfc4514(cert.subject),
    issuer: rfc4514(cert.issuer),
    serialNumber: cert.serialNumber,
    notBefore: new Date(cert.validFrom).toISOString(),
    notAfter: new Date(cert.validTo).toISOString(),
  };
}

/** The submission set uniqueId a SignatureProperty names (urn:oid:...). */
function submissionSetOf(signature: Element): string | undefined {
  for (const p of elements(signature, XMLNS.ds, 'SignatureProperty')) {
    const value = (p.textContent ?? '').trim();
    if (value) return value.replace(/^urn:oid:/, '');
  }
  return undefined;
}

function firstText(root: Element, ns: string, local: string): string | undefined {
  return elements(root, ns, local)[0]?.textContent?.trim() || undefined;
}

function elements(root: Element | undefined, ns: string, local: string): Element[] {
  if (!root) return [];
  const list = root.getElementsByTagNameNS(ns, local);
  const out: Element[] = [];
  for (let i = 0; i < list.length; i++) out.push(list[i]!);
  return out;
}

export interface ManifestReference {
  uri: string;
  algorithm: string;
  digest: string;
}

/** The Manifest references of a signature as written (unverified): lets a caller match files to them by digest. */
export function manifestReferences(xml: Buffer): ManifestReference[] {
  parseXml(xml.toString('utf8'));
  const doc = new DOMParser().parseFromString(xml.toString('utf8'), 'application/xml');
  const root = doc.documentElement;
  if (!root) return [];
  return elements(root, XMLNS.ds, 'Manifest')
    .flatMap((m) => elements(m, XMLNS.ds, 'Reference'))
    .map((r) => ({
      uri: r.getAttribute('URI') ?? '',
      algorithm: elements(r, XMLNS.ds, 'DigestMethod')[0]?.getAttribute('Algorithm') ?? '',
      digest: (elements(r, XMLNS.ds, 'DigestValue')[0]?.textContent ?? '').trim(),
    }));
}

/** The digest a Manifest reference with this algorithm holds for these bytes (undefined: unsupported algorithm). */
export function referenceDigest(algorithm: string, bytes: Buffer): string | undefined {
  const hash = DIGESTS[algorithm];
  return hash ? createHash(hash).update(bytes).digest('base64') : undefined;
}
