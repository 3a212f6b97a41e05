import { createHash, X509Certificate } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { DOMParser, type Element as DomElement, type Node as DomNode } from '@xmldom/xmldom';
import { SignedXml } from 'xml-crypto';
import { NS } from '../ebrim/uuids.js';
import type { SoapRequest } from '../soap/envelope.js';
import { SoapFault, type QName } from '../soap/fault.js';
import type { XmlElement } from '../xml/tree.js';
import { organisationIdType, professionalIdType, type CodedValue, type ProfessionalCaller, type PurposeOfUse } from './caller.js';

export const SAML_NS = 'urn:oasis:names:tc:SAML:2.0:assertion';
const DSIG_NS = 'http://www.w3.org/2000/09/xmldsig#';
const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';

/** VIHF attribute names (CI-SIS VIHF profile of IHE XUA). */
export const VIHF = {
  subjectId: 'urn:oasis:names:tc:xspa:1.0:subject:subject-id',
  role: 'urn:oasis:names:tc:xacml:2.0:subject:role',
  organization: 'urn:oasis:names:tc:xspa:1.0:subject:organization',
  organizationId: 'urn:oasis:names:tc:xspa:1.0:subject:organization-id',
  purposeOfUse: 'urn:oasis:names:tc:xspa:1.0:subject:purposeofuse',
  resourceId: 'urn:oasis:names:tc:xacml:2.0:resource:resource-id',
  structureId: 'Identifiant_Structure',
  activitySector: 'Secteur_Activite',
  accessMode: 'Mode_Acces',
  vihfVersion: 'VIHF_Version',
} as const;

/** Purpose-of-use codes of the DMP (and the IHE/HL7 ones that mean the same). */
const PURPOSES: Record<string, PurposeOfUse> = {
  normal: 'normal',
  treatment: 'normal',
  bris_de_glace: 'emergency',
  emergency: 'emergency',
  etreat: 'emergency',
  centre_de_regulation: 'regulation',
  regulation: 'regulation',
};

/** Without Conditions NotOnOrAfter, an assertion is taken as valid this long after its IssueInstant. */
const DEFAULT_LIFETIME_MS = 60 * 60 * 1000;

export const WSSE_SUBCODE = {
  invalidSecurity: { ns: NS.wsse, local: 'InvalidSecurity', prefix: 'wsse' },
  failedAuthentication: { ns: NS.wsse, local: 'FailedAuthentication', prefix: 'wsse' },
} as const satisfies Record<string, QName>;

const invalidSecurity = (reason: string): SoapFault => new SoapFault('Sender', reason, { subcode: WSSE_SUBCODE.invalidSecurity });
const failedAuthentication = (reason: string): SoapFault => new SoapFault('Sender', reason, { subcode: WSSE_SUBCODE.failedAuthentication });

export interface AssertionVerifierOptions {
  /** PEM certificates of the trusted identity providers. */
  trustedCertificates: string[];
  audience?: string;
  clockSkewSeconds: number;
  cacheSize: number;
  now?: () => Date;
}

interface VerifiedAssertion {
  caller: ProfessionalCaller;
  notBefore: number;
  notOnOrAfter: number;
}

/**
 * Authenticates a SOAP caller by the SAML 2.0 assertion (VIHF) in its wsse:Security header: signature by a
 * trusted identity provider over that very assertion, validity window, audience, then the VIHF attributes.
 * A verified assertion is remembered by a digest of its whole content, so a repeated token skips the
 * signature check but never its time window.
 */
export class AssertionVerifier {
  private readonly cache = new Map<string, VerifiedAssertion>();
  private readonly now: () => Date;

  constructor(private readonly opts: AssertionVerifierOptions) {
    if (!opts.trustedCertificates.length) throw new Error('no identity provider certificate configured (VIHF_IDP_CERTS)');
    this.now = opts.now ?? (() => new Date());
  }

  /** The caller named by the request's assertion, or a SoapFault wsse:InvalidSecurity / wsse:FailedAuthentication. */
  authenticate(soapXml: string, request: SoapRequest): ProfessionalCaller {
    const assertion = theAssertion(request);
    const key = fingerprint(assertion);
    let verified = this.cache.get(key);
    if (verified) {
      this.cache.delete(key);
      this.cache.set(key, verified);
    } else {
      this.verifySignature(soapXml, key);
      verified = readAssertion(assertion, this.opts.audience);
      this.remember(key, verified);
    }
    this.checkWindow(verified);
    return verified.caller;
  }

  private remember(key: string, verified: VerifiedAssertion): void {
    this.cache.set(key, verified);
    if (this.cache.size > this.opts.cacheSize) this.cache.delete(this.cache.keys().next().value!);
  }

  private checkWindow(v: VerifiedAssertion): void {
    const now = this.now().getTime();
    const skew = this.opts.clockSkewSeconds * 1000;
    if (now + skew < v.notBefore) throw failedAuthentication('the SAML assertion is not valid yet (NotBefore)');
    if (now - skew >= v.notOnOrAfter) throw failedAuthentication('the SAML assertion has expired (NotOnOrAfter)');
  }

  /** Checks the enveloped signature of the assertion read by a second, DOM parser, which must see the same assertion. */
  private verifySignature(soapXml: string, key: string): void {
    let doc;
    try {
      doc = new DOMParser({ onError: (level, msg) => { if (level !== 'warning') throw new Error(msg); } }).parseFromString(soapXml, 'text/xml');
    } catch {
      throw invalidSecurity('the security header could not be read');
    }
    const envelope = doc.documentElement;
    const header = envelope ? domChildren(envelope, NS.soap12, 'Header')[0] : undefined;
    const securities = header ? domChildren(header, NS.wsse, 'Security') : [];
    const assertions = securities.length === 1 ? domChildren(securities[0]!, SAML_NS, 'Assertion') : [];
    const assertion = assertions[0];
    if (assertions.length !== 1 || !assertion || fingerprint(domToTree(assertion)) !== key) {
      throw invalidSecurity('the security header must carry exactly one SAML assertion');
    }
    const id = assertion.getAttribute('ID');
    const signatures = domChildren(assertion, DSIG_NS, 'Signature');
    if (!id) throw invalidSecurity('the SAML assertion has no ID');
    if (signatures.length !== 1) throw failedAuthentication('the SAML assertion is not signed');
    checkSignatureShape(signatures[0]!, id);

    for (const cert of this.opts.trustedCertificates) {
      const sig = new SignedXml({ publicCert: cert, getCertFromKeyInfo: () => null });
      try {
        sig.loadSignature(signatures[0] as unknown as Node);
        if (sig.checkSignature(soapXml)) return;
      } catch {
        // A wrong key, a bad digest or a duplicated ID: try the next identity provider, then refuse.
      }
    }
    throw failedAuthentication('the signature of the SAML assertion does not verify against a trusted identity provider');
  }
}

function theAssertion(request: SoapRequest): XmlElement {
  const header = request.header;
  if (!header) throw invalidSecurity('the request carries no WS-Security header');
  const securities = header.children.filter((c) => c.ns === NS.wsse && c.local === 'Security');
  if (securities.length === 0) throw invalidSecurity('the request carries no WS-Security header');
  if (securities.length > 1) throw invalidSecurity('the request carries more than one WS-Security header');
  const assertions = securities[0]!.children.filter((c) => c.ns === SAML_NS && c.local === 'Assertion');
  if (assertions.length === 0) throw invalidSecurity('the WS-Security header carries no SAML 2.0 assertion');
  if (assertions.length > 1) throw invalidSecurity('the WS-Security header carries more than one SAML assertion');
  return assertions[0]!;
}

/** One reference to the assertion itself, transformed by enveloped-signature and exclusive C14N only. */
function checkSignatureShape(signature: DomElement, assertionId: string): void {
  const signedInfo = domChildren(signature, DSIG_NS, 'SignedInfo')[0];
  const c14n = signedInfo && domChildren(signedInfo, DSIG_NS, 'CanonicalizationMethod')[0]?.getAttribute('Algorithm');
  const refs = signedInfo ? domChildren(signedInfo, DSIG_NS, 'Reference') : [];
  if (c14n !== EXC_C14N) throw failedAuthentication('the assertion signature must use exclusive canonicalization');
  if (refs.length !== 1 || refs[0]!.getAttribute('URI') !== `#${assertionId}`) {
    throw failedAuthentication('the assertion signature must reference the assertion, and only it');
  }
  const transforms = domChildren(refs[0]!, DSIG_NS, 'Transforms')[0];
  const algorithms = transforms ? domChildren(transforms, DSIG_NS, 'Transform').map((t) => t.getAttribute('Algorithm')) : [];
  if (!algorithms.includes(ENVELOPED) || algorithms.some((a) => a !== ENVELOPED && a !== EXC_C14N)) {
    throw failedAuthentication('the assertion signature must be enveloped with exclusive canonicalization');
  }
}

/** The identity and validity window of a signature-checked assertion. */
function readAssertion(a: XmlElement, audience: string | undefined): VerifiedAssertion {
  const el = (parent: XmlElement | undefined, local: string) => parent?.children.find((c) => c.ns === SAML_NS && c.local === local);
  const conditions = el(a, 'Conditions');
  checkAudience(conditions, audience);

  const issueInstant = Date.parse(a.attrs.IssueInstant ?? '');
  if (Number.isNaN(issueInstant)) throw invalidSecurity('the SAML assertion has no valid IssueInstant');
  const notBefore = conditions?.attrs.NotBefore ? Date.parse(conditions.attrs.NotBefore) : issueInstant;
  const notOnOrAfter = conditions?.attrs.NotOnOrAfter ? Date.parse(conditions.attrs.NotOnOrAfter) : issueInstant + DEFAULT_LIFETIME_MS;
  if (Number.isNaN(notBefore) || Number.isNaN(notOnOrAfter)) throw invalidSecurity('the SAML assertion Conditions have an invalid time');

  const attrs = attributesOf(el(a, 'AttributeStatement'));
  const professionalId = el(el(a, 'Subject'), 'NameID')?.text.trim();
  if (!professionalId) throw failedAuthentication('the SAML assertion names no subject (Subject/NameID)');
  const organisationId = firstText(attrs.get(VIHF.structureId)) ?? firstText(attrs.get(VIHF.organizationId));
  if (!organisationId) throw failedAuthentication(`the SAML assertion names no structure (${VIHF.structureId})`);
  const roles = (attrs.get(VIHF.role) ?? []).map(codedValue).filter((r): r is CodedValue => r !== undefined);
  if (!roles.length) throw failedAuthentication(`the SAML assertion names no role (${VIHF.role})`);
  const purposeCode = codedValue((attrs.get(VIHF.purposeOfUse) ?? attrs.get(VIHF.accessMode) ?? [])[0]!)?.code ?? 'normal';
  const purposeOfUse = PURPOSES[purposeCode.toLowerCase()];
  if (!purposeOfUse) throw failedAuthentication(`unknown purpose of use '${purposeCode}'`);

  return {
    notBefore,
    notOnOrAfter,
    caller: {
      kind: 'professional',
      professionalId,
      professionalIdType: professionalIdType(professionalId),
      name: firstText(attrs.get(VIHF.subjectId)),
      roles,
      organisationId,
      organisationIdType: organisationIdType(organisationId),
      organisationName: firstText(attrs.get(VIHF.organization)),
      purposeOfUse,
      patientId: firstText(attrs.get(VIHF.resourceId)),
      assertionId: a.attrs.ID ?? '',
      issuer: el(a, 'Issuer')?.text.trim() ?? '',
    },
  };
}

function checkAudience(conditions: XmlElement | undefined, audience: string | undefined): void {
  const restrictions = conditions?.children.filter((c) => c.ns === SAML_NS && c.local === 'AudienceRestriction') ?? [];
  if (!audience) {
    if (restrictions.length) throw failedAuthentication('the SAML assertion is restricted to another audience');
    return;
  }
  // SAML core §2.5.1.4: every AudienceRestriction must name us.
  const ok = restrictions.length > 0 && restrictions.every((r) => r.children.some((c) => c.local === 'Audience' && c.text.trim() === audience));
  if (!ok) throw failedAuthentication('the SAML assertion is not addressed to this gateway (Audience)');
}

function attributesOf(statement: XmlElement | undefined): Map<string, XmlElement[]> {
  const out = new Map<string, XmlElement[]>();
  for (const attr of statement?.children ?? []) {
    if (attr.ns !== SAML_NS || attr.local !== 'Attribute' || !attr.attrs.Name) continue;
    const values = attr.children.filter((c) => c.ns === SAML_NS && c.local === 'AttributeValue');
    out.set(attr.attrs.Name, [...(out.get(attr.attrs.Name) ?? []), ...values]);
  }
  return out;
}

const firstText = (values: XmlElement[] | undefined): string | undefined => values?.map((v) => v.text.trim()).find(Boolean);

/** An AttributeValue holding an HL7 coded element (Role, PurposeOfUse) or plain text. */
function codedValue(value: XmlElement | undefined): CodedValue | undefined {
  if (!value) return undefined;
  const coded = value.children.find((c) => c.attrs.code);
  if (coded) return { code: coded.attrs.code!, codeSystem: coded.attrs.codeSystem, displayName: coded.attrs.displayName };
  const text = value.text.trim();
  return text ? { code: text } : undefined;
}

/** A digest of an element's names, attributes, text and children: equal for equal content, whatever the parser. */
function fingerprint(el: XmlElement): string {
  const hash = createHash('sha256');
  const walk = (e: XmlElement): void => {
    hash.update(`<{${e.ns}}${e.local}`);
    for (const k of Object.keys(e.attrs).sort()) hash.update(` ${k}=${JSON.stringify(e.attrs[k])}`);
    hash.update(`>${JSON.stringify(e.text)}`);
    for (const c of e.children) walk(c);
    hash.update('</>');
  };
  walk(el);
  return hash.digest('hex');
}

const XMLNS_NS = 'http://www.w3.org/2000/xmlns/';
const ELEMENT_NODE = 1;
const TEXT_NODE = 3;
const CDATA_NODE = 4;

function domChildren(parent: DomNode, ns: string, local: string): DomElement[] {
  const out: DomElement[] = [];
  for (let n = parent.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === ELEMENT_NODE && (n as DomElement).namespaceURI === ns && (n as DomElement).localName === local) out.push(n as DomElement);
  }
  return out;
}

/** The DOM element in the shape of our own tree (attributes keyed as src/xml/tree.ts keys them). */
function domToTree(el: DomElement): XmlElement {
  const attrs: Record<string, string> = {};
  for (let i = 0; i < el.attributes.length; i++) {
    const a = el.attributes.item(i)!;
    if (a.namespaceURI === XMLNS_NS || a.name === 'xmlns') continue;
    attrs[a.namespaceURI ? `{${a.namespaceURI}}${a.localName}` : (a.localName ?? a.name)] = a.value;
  }
  const children: XmlElement[] = [];
  let text = '';
  for (let n = el.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === ELEMENT_NODE) children.push(domToTree(n as DomElement));
    else if (n.nodeType === TEXT_NODE || n.nodeType === CDATA_NODE) text += n.nodeValue ?? '';
  }
  return { ns: el.namespaceURI ?? '', local: el.localName ?? el.nodeName, attrs, children, text };
}

/** The PEM certificates in the given files and directories (VIHF_IDP_CERTS), each checked to parse. */
export async function loadIdentityProviderCertificates(paths: string[]): Promise<string[]> {
  const certs: string[] = [];
  for (const p of paths) {
    const files = (await stat(p)).isDirectory() ? (await readdir(p)).filter((f) => /\.(pem|crt|cer)$/i.test(f)).map((f) => path.join(p, f)) : [p];
    for (const file of files) {
      const pems = (await readFile(file, 'utf8')).match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
      for (const pem of pems) {
        new X509Certificate(pem);
        certs.push(pem);
      }
    }
  }
  return certs;
}
