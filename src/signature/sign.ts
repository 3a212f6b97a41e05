import { createHash, sign, type X509Certificate } from 'node:crypto';
import { ALGORITHM, documentUri, PART_ID, PURPOSE, REFERENCE_TYPE, XMLNS } from './dsg.js';
import type { SigningIdentity } from './keys.js';

export interface SignedDocument {
  uniqueId: string;
  bytes: Buffer;
}

/** A document to sign: its bytes, or the SHA-256 of its bytes (hex) when it is already known (the content-store key). */
export type DocumentToSign = SignedDocument | { uniqueId: string; sha256: string };

export interface DsgSignatureInput {
  documents: DocumentToSign[];
  submissionSetUniqueId: string;
  signingTime: Date;
}

/**
 * An IHE DSG detached signature (ITI TF-3 §5.5.3): XAdES-BES whose SignedInfo signs a ds:Manifest
 * (one Reference per document: uniqueId URN, SHA-256 of its exact bytes), the XAdES SignedProperties
 * (signing time, signing certificate digest, commitment type) and a SignatureProperty naming the
 * submission set. Every signed part is written directly in its exclusive-C14N form, so the digests
 * are taken over the very text of the document, with no parse or canonicalisation pass.
 */
export function createDsgSignature(input: DsgSignatureInput, identity: SigningIdentity): Buffer {
  const manifest = el(
    'ds:Manifest',
    [['xmlns:ds', XMLNS.ds], ['Id', PART_ID.manifest]],
    input.documents.map((d) => reference([['URI', documentUri(d.uniqueId)]], 'bytes' in d ? sha256b64(d.bytes) : Buffer.from(d.sha256, 'hex').toString('base64'))).join(''),
  );
  const signedProperties = el(
    'xades:SignedProperties',
    [['xmlns:xades', XMLNS.xades], ['Id', PART_ID.signedProperties]],
    el('xades:SignedSignatureProperties', [], el('xades:SigningTime', [], text(xadesTime(input.signingTime))) + signingCertificate(identity)) +
      el(
        'xades:SignedDataObjectProperties',
        [],
        el(
          'xades:CommitmentTypeIndication',
          [],
          el('xades:CommitmentTypeId', [], el('xades:Identifier', [['Qualifier', 'OIDAsURN']], `urn:oid:${PURPOSE.code}`) + el('xades:Description', [], text(PURPOSE.displayName))) +
            el('xades:AllSignedDataObjects', [], ''),
        ),
      ),
  );
  const signatureProperties = el(
    'ds:SignatureProperties',
    [['xmlns:ds', XMLNS.ds], ['Id', PART_ID.signatureProperties]],
    el('ds:SignatureProperty', [['Id', PART_ID.submissionSet], ['Target', `#${PART_ID.signature}`]], text(documentUri(input.submissionSetUniqueId))),
  );
  const transforms = el('ds:Transforms', [], el('ds:Transform', [['Algorithm', ALGORITHM.excC14n]], ''));
  const signedInfo = el(
    'ds:SignedInfo',
    [['xmlns:ds', XMLNS.ds]],
    el('ds:CanonicalizationMethod', [['Algorithm', ALGORITHM.excC14n]], '') +
      el('ds:SignatureMethod', [['Algorithm', identity.method.uri]], '') +
      reference([['Type', REFERENCE_TYPE.manifest], ['URI', `#${PART_ID.manifest}`]], sha256b64(manifest), transforms) +
      reference([['Type', REFERENCE_TYPE.signedProperties], ['URI', `#${PART_ID.signedProperties}`]], sha256b64(signedProperties), transforms) +
      reference([['Type', REFERENCE_TYPE.signatureProperties], ['URI', `#${PART_ID.signatureProperties}`]], sha256b64(signatureProperties), transforms),
  );
  const signatureValue = sign('sha256', Buffer.from(signedInfo, 'utf8'), { key: identity.privateKey, ...(identity.method.dsaEncoding ? { dsaEncoding: identity.method.dsaEncoding } : {}) });
  const keyInfo = el(
    'ds:KeyInfo',
    [],
    el('ds:X509Data', [], [identity.certificate, ...identity.chain].map((c) => el('ds:X509Certificate', [], c.raw.toString('base64'))).join('')),
  );
  const xml =
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    el(
      'ds:Signature',
      [['xmlns:ds', XMLNS.ds], ['Id', PART_ID.signature]],
      signedInfo +
        el('ds:SignatureValue', [], signatureValue.toString('base64')) +
        keyInfo +
        el('ds:Object', [], el('xades:QualifyingProperties', [['xmlns:xades', XMLNS.xades], ['Target', `#${PART_ID.signature}`]], signedProperties)) +
        el('ds:Object', [], manifest) +
        el('ds:Object', [], signatureProperties),
    ) +
    '\n';
  return Buffer.from(xml, 'utf8');
}

/** Attributes in exclusive-C14N order: namespace declarations, then unqualified attributes by name (the caller lists them so). */
type Attrs = [name: string, value: string][];

function el(name: string, attrs: Attrs, content: string): string {
  return `<${name}${attrs.map(([n, v]) => ` ${n}="${attr(v)}"`).join('')}>${content}</${name}>`;
}

/** ds elements inside the XAdES part declare their namespace themselves, as the canonical form of that part does. */
const dsIn = (local: string, attrs: Attrs, content: string): string => el(`ds:${local}`, [['xmlns:ds', XMLNS.ds], ...attrs], content);

function reference(attrs: Attrs, digest: string, transforms = ''): string {
  return el(
    'ds:Reference',
    attrs,
    transforms + el('ds:DigestMethod', [['Algorithm', ALGORITHM.sha256]], '') + el('ds:DigestValue', [], digest),
  );
}

interface CertificateFacts {
  digest: string;
  issuer: string;
  serial: string;
}

const certificateFacts = new WeakMap<X509Certificate, CertificateFacts>();

/** XAdES SigningCertificate: SHA-256 of the certificate and its issuer and serial number (computed once per certificate). */
function signingCertificate(identity: SigningIdentity): string {
  let facts = certificateFacts.get(identity.certificate);
  if (!facts) {
    facts = {
      digest: sha256b64(identity.certificate.raw),
      issuer: rfc4514(identity.certificate.issuer),
      serial: BigInt(`0x${identity.certificate.serialNumber}`).toString(10),
    };
    certificateFacts.set(identity.certificate, facts);
  }
  return el(
    'xades:SigningCertificate',
    [],
    el(
      'xades:Cert',
      [],
      el('xades:CertDigest', [], dsIn('DigestMethod', [['Algorithm', ALGORITHM.sha256]], '') + dsIn('DigestValue', [], facts.digest)) +
        el('xades:IssuerSerial', [], dsIn('X509IssuerName', [], text(facts.issuer)) + dsIn('X509SerialNumber', [], facts.serial)),
    ),
  );
}

/** Node lists a name's attributes one per line, most significant first; RFC 4514 reverses them, comma-separated. */
export const rfc4514 = (name: string): string =>
  name
    .split('\n')
    .filter(Boolean)
    .reverse()
    .map((rdn) => rdn.replace(/^([^=]+)=(.*)$/, (_, type: string, value: string) => `${type}=${value.replace(/([,+"\\<>;])/g, '\\$1')}`))
    .join(',');

const sha256b64 = (data: string | Buffer): string => createHash('sha256').update(data).digest('base64');

/** xsd:dateTime in UTC, whole seconds. */
const xadesTime = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Character content as C14N writes it. */
const text = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#xD;');

/** Attribute values as C14N writes them. */
const attr = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;').replace(/\t/g, '&#x9;').replace(/\n/g, '&#xA;').replace(/\r/g, '&#xD;');
