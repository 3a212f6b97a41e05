import { randomUUID, timingSafeEqual } from 'node:crypto';
import type { GatewayContext } from '../context.js';
import { organisationIdType, professionalIdType, type ProfessionalCaller, type PurposeOfUse } from '../policy/caller.js';
import { verifyPatientToken } from '../policy/patient-token.js';
import { SAML_NS } from '../policy/saml.js';
import { parseEnvelope } from '../soap/envelope.js';
import { SoapFault } from '../soap/fault.js';
import { XmlSyntaxError, type XmlElement } from '../xml/tree.js';
import type { MessageKey } from './i18n.js';

/** Professions offered by the test-platform form (TRE_G15 profession codes of the RPPS). */
export const ROLES: { code: string; label: MessageKey; displayName: string }[] = [
  { code: '10', label: 'roleDoctor', displayName: 'Médecin' },
  { code: '21', label: 'rolePharmacist', displayName: 'Pharmacien' },
  { code: '50', label: 'roleMidwife', displayName: 'Sage-femme' },
  { code: '40', label: 'roleDentist', displayName: 'Chirurgien-dentiste' },
  { code: '60', label: 'roleNurse', displayName: 'Infirmier' },
  { code: '70', label: 'rolePhysio', displayName: 'Masseur-kinésithérapeute' },
];
const PROFESSION_SYSTEM = '1.2.250.1.71.1.2.7';
export const PURPOSES: { value: PurposeOfUse; label: MessageKey }[] = [
  { value: 'normal', label: 'purposeNormal' },
  { value: 'emergency', label: 'purposeEmergency' },
];
const NATIONAL_ID = /^[0-9A-Za-z][0-9A-Za-z._/-]{3,63}$/;

export interface ProfessionalForm {
  name: string;
  professionalId: string;
  role: string;
  organisationId: string;
  organisationName: string;
  purpose: string;
}

export type FormErrors<F> = Partial<Record<keyof F, MessageKey>>;

/** The identity declared on a test platform (AUTHENTICATION=off), checked field by field. */
export function professionalFromForm(body: Record<string, unknown>): { form: ProfessionalForm; caller?: ProfessionalCaller; errors: FormErrors<ProfessionalForm> } {
  const field = (name: string): string => (typeof body[name] === 'string' ? (body[name] as string).trim() : '');
  const form: ProfessionalForm = {
    name: field('name').slice(0, 200),
    professionalId: field('professionalId'),
    role: field('role'),
    organisationId: field('organisationId'),
    organisationName: field('organisationName').slice(0, 200),
    purpose: field('purpose') || 'normal',
  };
  const errors: FormErrors<ProfessionalForm> = {};
  if (!form.name) errors.name = 'errRequired';
  if (!form.professionalId) errors.professionalId = 'errRequired';
  else if (!NATIONAL_ID.test(form.professionalId)) errors.professionalId = 'errProfessionalId';
  const role = ROLES.find((r) => r.code === form.role);
  if (!role) errors.role = 'errRole';
  if (!form.organisationId) errors.organisationId = 'errRequired';
  else if (!NATIONAL_ID.test(form.organisationId)) errors.organisationId = 'errOrganisationId';
  const purpose = PURPOSES.find((p) => p.value === form.purpose);
  if (!purpose) errors.purpose = 'errPurpose';
  if (Object.keys(errors).length || !role || !purpose) return { form, errors };
  return {
    form,
    errors,
    caller: {
      kind: 'professional',
      professionalId: form.professionalId,
      professionalIdType: professionalIdType(form.professionalId),
      name: form.name,
      roles: [{ code: role.code, codeSystem: PROFESSION_SYSTEM, displayName: role.displayName }],
      organisationId: form.organisationId,
      organisationIdType: organisationIdType(form.organisationId),
      organisationName: form.organisationName || undefined,
      purposeOfUse: purpose.value,
      assertionId: `console-${randomUUID()}`,
      issuer: 'console-test-platform',
    },
  };
}

/**
 * Signs a professional in with a VIHF assertion, verified by the gateway's own authenticator exactly as
 * in a SOAP request: the assertion goes, byte for byte, into the wsse:Security header of an envelope.
 * Returns the caller and until when the assertion is valid, or the authenticator's reason for refusing.
 */
export function professionalFromAssertion(ctx: GatewayContext, text: string): { caller: ProfessionalCaller; notOnOrAfter?: Date } | { error: string } {
  if (!ctx.authenticator) return { error: 'AUTHENTICATION=off: no identity provider is configured' };
  let assertion = text.trim();
  if (assertion && !assertion.startsWith('<')) {
    if (!/^[A-Za-z0-9+/=\s]+$/.test(assertion)) return { error: 'neither XML nor base64' };
    assertion = Buffer.from(assertion, 'base64').toString('utf8').trim();
  }
  // The XML declaration cannot stand inside the envelope.
  assertion = assertion.replace(/^<\?xml[^>]*\?>\s*/, '');
  if (!assertion.startsWith('<')) return { error: 'no SAML assertion' };
  const envelope =
    '<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope" xmlns:wsa="http://www.w3.org/2005/08/addressing">' +
    '<env:Header><wsa:Action>urn:dmp-xds-gateway:console:sign-in</wsa:Action>' +
    `<wsa:MessageID>urn:uuid:${randomUUID()}</wsa:MessageID>` +
    `<wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd">${assertion}</wsse:Security>` +
    '</env:Header><env:Body><console-sign-in xmlns="urn:dmp-xds-gateway:console"/></env:Body></env:Envelope>';
  try {
    const request = parseEnvelope(envelope);
    const caller = ctx.authenticator.authenticate(envelope, request);
    return { caller, notOnOrAfter: notOnOrAfter(request.security) };
  } catch (err) {
    if (err instanceof SoapFault) return { error: err.reason };
    if (err instanceof XmlSyntaxError) return { error: `malformed XML: ${err.message}` };
    throw err;
  }
}

/** Conditions/@NotOnOrAfter of the (verified) assertion, when it has one. */
function notOnOrAfter(security: XmlElement | undefined): Date | undefined {
  const assertion = security?.children.find((c) => c.ns === SAML_NS && c.local === 'Assertion');
  const value = assertion?.children.find((c) => c.ns === SAML_NS && c.local === 'Conditions')?.attrs.NotOnOrAfter;
  const d = value ? new Date(value) : undefined;
  return d && !Number.isNaN(d.getTime()) ? d : undefined;
}

/** The patient named by a valid session token (POST /api/patient-sessions), with its expiry. */
export function patientFromToken(ctx: GatewayContext, token: string, now: Date): { patientId: string; exp: number } | undefined {
  const secret = ctx.config.patientTokenSecret;
  if (!secret) return undefined;
  const patient = verifyPatientToken(secret, token.trim(), now);
  if (!patient) return undefined;
  const payload = JSON.parse(Buffer.from(token.trim().split('.')[1]!, 'base64url').toString('utf8')) as { exp: number };
  return { patientId: patient.patientId, exp: payload.exp };
}

/** Is this the operator key (CONSOLE_OPERATOR_KEY)? Compared in constant time. */
export function isOperatorKey(ctx: GatewayContext, given: string): boolean {
  const key = ctx.config.consoleOperatorKey;
  if (!key) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(key);
  return a.length === b.length && timingSafeEqual(a, b);
}

