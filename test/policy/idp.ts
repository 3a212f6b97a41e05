import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import forge from 'node-forge';
import { SignedXml } from 'xml-crypto';
import { NS } from '../../src/ebrim/uuids.js';
import { escapeXml } from '../../src/xml/tree.js';

const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';
const SAML = 'urn:oasis:names:tc:SAML:2.0:assertion';

export interface AssertionSpec {
  id?: string;
  professionalId?: string;
  name?: string;
  structureId?: string;
  roles?: { code: string; codeSystem: string; displayName?: string }[];
  purposeOfUse?: string;
  patientId?: string;
  /** null: no AudienceRestriction. */
  audience?: string | null;
  issueInstant?: Date;
  notBefore?: Date;
  notOnOrAfter?: Date;
}

export interface TestIdp {
  certPem: string;
  /** Directory holding the certificate, for VIHF_IDP_CERTS. */
  certDir: string;
  certFile: string;
  /** A signed VIHF assertion. */
  assertion(spec?: AssertionSpec): string;
  /** The same, unsigned. */
  unsignedAssertion(spec?: AssertionSpec): string;
  /** wsse:Security header block around an assertion. */
  security(assertionXml: string): string;
  close(): Promise<void>;
}

export const DOCTOR = { professionalId: '810001234567', structureId: '1999000017', name: 'MARTIN Jeanne' } as const;

/** An identity provider of our own: an RSA key and a self-signed certificate, signing VIHF assertions. */
export async function createTestIdp(name = 'Test VIHF IdP'): Promise<TestIdp> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString());
  cert.serialNumber = '01';
  cert.validity.notBefore = new Date(Date.now() - 86_400_000);
  cert.validity.notAfter = new Date(Date.now() + 86_400_000);
  const subject = [{ name: 'commonName', value: name }, { name: 'organizationName', value: 'Test' }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.sign(forge.pki.privateKeyFromPem(keyPem), forge.md.sha256.create());
  const certPem = forge.pki.certificateToPem(cert);
  const certDir = await mkdtemp(path.join(os.tmpdir(), 'xdsgw-idp-'));
  const certFile = path.join(certDir, 'idp.pem');
  await writeFile(certFile, certPem);

  const sign = (xml: string): string => {
    const sig = new SignedXml({
      privateKey: keyPem,
      publicCert: certPem,
      signatureAlgorithm: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
      canonicalizationAlgorithm: EXC_C14N,
    });
    sig.addReference({ xpath: "/*[local-name(.)='Assertion']", transforms: [ENVELOPED, EXC_C14N], digestAlgorithm: 'http://www.w3.org/2001/04/xmlenc#sha256' });
    sig.computeSignature(xml, { location: { reference: "/*[local-name(.)='Assertion']/*[local-name(.)='Issuer']", action: 'after' } });
    return sig.getSignedXml();
  };

  return {
    certPem,
    certDir,
    certFile,
    assertion: (spec = {}) => sign(assertionXml(spec, name)),
    unsignedAssertion: (spec = {}) => assertionXml(spec, name),
    security: (a) => `<wsse:Security xmlns:wsse="${NS.wsse}">${a}</wsse:Security>`,
    close: () => rm(certDir, { recursive: true, force: true }),
  };
}

function attribute(name: string, valueXml: string): string {
  return `<saml2:Attribute Name="${escapeXml(name)}"><saml2:AttributeValue>${valueXml}</saml2:AttributeValue></saml2:Attribute>`;
}

/** A VIHF assertion as the CI-SIS profile of XUA describes it. */
export function assertionXml(spec: AssertionSpec, issuer: string): string {
  const issue = spec.issueInstant ?? new Date();
  const notBefore = spec.notBefore ?? new Date(issue.getTime() - 60_000);
  const notOnOrAfter = spec.notOnOrAfter ?? new Date(issue.getTime() + 10 * 60_000);
  const audience = spec.audience === undefined ? 'urn:dmp-xds-gateway:test' : spec.audience;
  const roles = spec.roles ?? [{ code: '10', codeSystem: '1.2.250.1.213.1.1.4.5', displayName: 'Médecin' }];
  const hl7 = 'urn:hl7-org:v3';
  const attrs = [
    attribute('urn:oasis:names:tc:xspa:1.0:subject:subject-id', escapeXml(spec.name ?? DOCTOR.name)),
    ...roles.map((r) =>
      attribute('urn:oasis:names:tc:xacml:2.0:subject:role', `<Role xmlns="${hl7}" code="${escapeXml(r.code)}" codeSystem="${escapeXml(r.codeSystem)}" displayName="${escapeXml(r.displayName ?? '')}"/>`),
    ),
    attribute('Identifiant_Structure', escapeXml(spec.structureId ?? DOCTOR.structureId)),
    attribute('Secteur_Activite', 'SA01^1.2.250.1.71.4.2.4'),
    attribute('urn:oasis:names:tc:xspa:1.0:subject:purposeofuse', `<PurposeOfUse xmlns="${hl7}" code="${escapeXml(spec.purposeOfUse ?? 'normal')}" codeSystem="1.2.250.1.213.1.1.4.248"/>`),
    ...(spec.patientId ? [attribute('urn:oasis:names:tc:xacml:2.0:resource:resource-id', escapeXml(spec.patientId))] : []),
    attribute('VIHF_Version', '3.0'),
    attribute('Authentification_Mode', 'INDIRECTE'),
    attribute('Ressource_URN', 'urn:dmp'),
  ];
  return (
    `<saml2:Assertion xmlns:saml2="${SAML}" ID="${escapeXml(spec.id ?? `_${randomUUID()}`)}" IssueInstant="${issue.toISOString()}" Version="2.0">` +
    `<saml2:Issuer Format="urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName">CN=${escapeXml(issuer)}</saml2:Issuer>` +
    `<saml2:Subject><saml2:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified">${escapeXml(spec.professionalId ?? DOCTOR.professionalId)}</saml2:NameID></saml2:Subject>` +
    `<saml2:Conditions NotBefore="${notBefore.toISOString()}" NotOnOrAfter="${notOnOrAfter.toISOString()}">` +
    (audience ? `<saml2:AudienceRestriction><saml2:Audience>${escapeXml(audience)}</saml2:Audience></saml2:AudienceRestriction>` : '') +
    `</saml2:Conditions>` +
    `<saml2:AuthnStatement AuthnInstant="${issue.toISOString()}"><saml2:AuthnContext><saml2:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:X509</saml2:AuthnContextClassRef></saml2:AuthnContext></saml2:AuthnStatement>` +
    `<saml2:AttributeStatement>${attrs.join('')}</saml2:AttributeStatement>` +
    `</saml2:Assertion>`
  );
}
