import { createPublicKey, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto';
import forge from 'node-forge';

const { asn1 } = forge;
const T = asn1.Type;
const UNIVERSAL = asn1.Class.UNIVERSAL;

const OID = {
  ecdsaSha256: '1.2.840.10045.4.3.2',
  rsaSha256: '1.2.840.113549.1.1.11',
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  country: '2.5.4.6',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
} as const;

export interface NameSpec {
  commonName: string;
  organization?: string;
  country?: string;
}

export interface CertificateSpec {
  subject: NameSpec;
  /** Public key being certified. */
  publicKey: KeyObject;
  /** Issuer name and key; absent = self-signed with `signingKey`. */
  issuer?: NameSpec;
  signingKey: KeyObject;
  notBefore: Date;
  notAfter: Date;
  /** A CA certificate (basicConstraints cA, keyCertSign) rather than a signing one. */
  ca: boolean;
}

/**
 * A DER X.509 v3 certificate signed with RSA-SHA256 or ECDSA-SHA256. node-forge issues RSA
 * certificates only, and Node none at all: this covers the development key (P-256) and test PKIs.
 */
export function issueCertificate(spec: CertificateSpec): X509Certificate {
  const algorithm = spec.signingKey.asymmetricKeyType === 'ec' ? algorithmId(OID.ecdsaSha256, false) : algorithmId(OID.rsaSha256, true);
  const serial = randomBytes(16);
  serial[0] = serial[0]! & 0x7f;
  const spki = (spec.publicKey.type === 'public' ? spec.publicKey : createPublicKey(spec.publicKey)).export({ type: 'spki', format: 'der' });
  const tbs = seq([
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, [asn1.create(UNIVERSAL, T.INTEGER, false, '\x02')]),
    asn1.create(UNIVERSAL, T.INTEGER, false, serial.toString('binary')),
    algorithm,
    name(spec.issuer ?? spec.subject),
    seq([time(spec.notBefore), time(spec.notAfter)]),
    name(spec.subject),
    asn1.fromDer(spki.toString('binary')),
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 3, true, [seq(extensions(spec.ca))]),
  ]);
  const tbsDer = Buffer.from(asn1.toDer(tbs).getBytes(), 'binary');
  const signature = sign('sha256', tbsDer, spec.signingKey);
  const cert = seq([tbs, algorithm, asn1.create(UNIVERSAL, T.BITSTRING, false, '\x00' + signature.toString('binary'))]);
  return new X509Certificate(Buffer.from(asn1.toDer(cert).getBytes(), 'binary'));
}

const seq = (items: forge.asn1.Asn1[]): forge.asn1.Asn1 => asn1.create(UNIVERSAL, T.SEQUENCE, true, items);
const oid = (value: string): forge.asn1.Asn1 => asn1.create(UNIVERSAL, T.OID, false, asn1.oidToDer(value).getBytes());

function algorithmId(value: string, nullParams: boolean): forge.asn1.Asn1 {
  return seq(nullParams ? [oid(value), asn1.create(UNIVERSAL, T.NULL, false, '')] : [oid(value)]);
}

function name(spec: NameSpec): forge.asn1.Asn1 {
  const rdns: [string, string, number][] = [];
  if (spec.country) rdns.push([OID.country, spec.country, T.PRINTABLESTRING]);
  if (spec.organization) rdns.push([OID.organization, spec.organization, T.UTF8]);
  rdns.push([OID.commonName, spec.commonName, T.UTF8]);
  return seq(
    rdns.map(([type, value, tag]) =>
      asn1.create(UNIVERSAL, T.SET, true, [seq([oid(type), asn1.create(UNIVERSAL, tag, false, forge.util.encodeUtf8(value))])]),
    ),
  );
}

/** UTCTime up to 2049, GeneralizedTime after (RFC 5280 §4.1.2.5). */
function time(d: Date): forge.asn1.Asn1 {
  return d.getUTCFullYear() < 2050
    ? asn1.create(UNIVERSAL, T.UTCTIME, false, asn1.dateToUtcTime(d))
    : asn1.create(UNIVERSAL, T.GENERALIZEDTIME, false, asn1.dateToGeneralizedTime(d));
}

function extensions(ca: boolean): forge.asn1.Asn1[] {
  const critical = asn1.create(UNIVERSAL, T.BOOLEAN, false, '\xff');
  const basic = seq(ca ? [asn1.create(UNIVERSAL, T.BOOLEAN, false, '\xff')] : []);
  // digitalSignature + nonRepudiation for a signer; + keyCertSign + cRLSign for a CA.
  const bits = ca ? 0xc6 : 0xc0;
  const unused = ca ? 1 : 6;
  const usage = asn1.create(UNIVERSAL, T.BITSTRING, false, String.fromCharCode(unused, bits));
  const ext = (id: string, value: forge.asn1.Asn1): forge.asn1.Asn1 =>
    seq([oid(id), critical, asn1.create(UNIVERSAL, T.OCTETSTRING, false, asn1.toDer(value).getBytes())]);
  return [ext(OID.basicConstraints, basic), ext(OID.keyUsage, usage)];
}
