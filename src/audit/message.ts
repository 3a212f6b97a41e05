import type { AuthenticatedCaller } from '../policy/caller.js';
import { escapeXml } from '../xml/tree.js';

/** A coded value of DICOM PS3.15 A.5 (csd-code, codeSystemName, originalText). */
export interface AuditCode {
  code: string;
  system: string;
  display: string;
}

/** EventOutcomeIndicator: success, minor failure (refused), serious failure, major failure. */
export type AuditOutcome = 0 | 4 | 8 | 12;

/** One audited event, before it becomes an AuditMessage. */
export interface AuditEvent {
  at: Date;
  eventId: AuditCode;
  /** EventActionCode: Create, Read, Update, Delete, Execute. */
  action: 'C' | 'R' | 'U' | 'D' | 'E';
  /** The IHE transaction or API operation. */
  eventType: AuditCode;
  outcome: AuditOutcome;
  outcomeDescription?: string;
  caller?: AuthenticatedCaller;
  /** Who asked when no authenticated caller is known (e.g. `front-end` for the trusted front end's key). */
  requestorId?: string;
  /** Network address of the requestor. */
  sourceAddress?: string;
  /** The endpoint that served the request. */
  destination: string;
  patientIds: string[];
  documentIds: string[];
  /** ITI-18: the stored query id and the request, kept as ParticipantObjectQuery. */
  query?: { id: string; text: string };
}

const dcm = (code: string, display: string): AuditCode => ({ code, system: 'DCM', display });

/** DICOM PS3.16 CID 400-series event ids used by IHE ATNA. */
export const EVENT_ID = {
  export: dcm('110106', 'Export'),
  import: dcm('110107', 'Import'),
  query: dcm('110112', 'Query'),
  patientRecord: dcm('110110', 'Patient Record'),
  userAuthenticated: dcm('110114', 'User Authenticated'),
} as const;

const SOURCE_ROLE = dcm('110153', 'Source Role ID');
const DESTINATION_ROLE = dcm('110152', 'Destination Role ID');

/** Did the professional open the record in an emergency (break-glass or SAMU regulation)? */
export function isBreakGlass(event: Pick<AuditEvent, 'caller'>): boolean {
  return event.caller?.kind === 'professional' && event.caller.purposeOfUse !== 'normal';
}

const attr = (name: string, value: string | undefined): string => (value === undefined ? '' : ` ${name}="${escapeXml(value)}"`);
const coded = (tag: string, c: AuditCode): string =>
  `<${tag} csd-code="${escapeXml(c.code)}" codeSystemName="${escapeXml(c.system)}" originalText="${escapeXml(c.display)}"/>`;

/** The DICOM PS3.15 A.5.1 AuditMessage of an event, as the ATNA audit repository receives it. */
export function auditMessageXml(event: AuditEvent, source: { sourceId: string; enterpriseSiteId?: string }): string {
  const purpose =
    event.caller?.kind === 'professional'
      ? coded('PurposeOfUse', { code: event.caller.purposeOfUse, system: 'urn:oasis:names:tc:xspa:1.0:subject:purposeofuse', display: event.caller.purposeOfUse })
      : '';
  const outcomeText = event.outcomeDescription ? `<EventOutcomeDescription>${escapeXml(event.outcomeDescription)}</EventOutcomeDescription>` : '';
  const parts = [
    `<EventIdentification EventActionCode="${event.action}" EventDateTime="${event.at.toISOString()}" EventOutcomeIndicator="${event.outcome}">` +
      coded('EventID', event.eventId) +
      coded('EventTypeCode', event.eventType) +
      purpose +
      outcomeText +
      `</EventIdentification>`,
    requestor(event),
    `<ActiveParticipant${attr('UserID', event.destination)} UserIsRequestor="false">${coded('RoleIDCode', DESTINATION_ROLE)}</ActiveParticipant>`,
    `<AuditSourceIdentification${attr('AuditEnterpriseSiteID', source.enterpriseSiteId)}${attr('AuditSourceID', source.sourceId)}>` +
      `<AuditSourceTypeCode csd-code="4" codeSystemName="DCM" originalText="Application Server Process or Thread"/></AuditSourceIdentification>`,
    ...event.patientIds.map(
      (id) =>
        `<ParticipantObjectIdentification${attr('ParticipantObjectID', id)} ParticipantObjectTypeCode="1" ParticipantObjectTypeCodeRole="1">` +
        `<ParticipantObjectIDTypeCode csd-code="2" codeSystemName="RFC-3881" originalText="Patient Number"/></ParticipantObjectIdentification>`,
    ),
    ...event.documentIds.map(
      (id) =>
        `<ParticipantObjectIdentification${attr('ParticipantObjectID', id)} ParticipantObjectTypeCode="2" ParticipantObjectTypeCodeRole="3">` +
        `<ParticipantObjectIDTypeCode csd-code="9" codeSystemName="RFC-3881" originalText="Report Number"/></ParticipantObjectIdentification>`,
    ),
    event.query
      ? `<ParticipantObjectIdentification${attr('ParticipantObjectID', event.query.id)} ParticipantObjectTypeCode="2" ParticipantObjectTypeCodeRole="24">` +
        coded('ParticipantObjectIDTypeCode', event.eventType) +
        `<ParticipantObjectQuery>${Buffer.from(event.query.text, 'utf8').toString('base64')}</ParticipantObjectQuery></ParticipantObjectIdentification>`
      : '',
  ];
  return `<?xml version="1.0" encoding="UTF-8"?><AuditMessage>${parts.join('')}</AuditMessage>`;
}

function requestor(event: AuditEvent): string {
  const c = event.caller;
  const network = event.sourceAddress ? `${attr('NetworkAccessPointID', event.sourceAddress)} NetworkAccessPointTypeCode="2"` : '';
  if (!c) return `<ActiveParticipant${attr('UserID', event.requestorId ?? 'unauthenticated')} UserIsRequestor="true"${network}>${coded('RoleIDCode', SOURCE_ROLE)}</ActiveParticipant>`;
  if (c.kind === 'patient') {
    return `<ActiveParticipant${attr('UserID', c.patientId)} UserName="patient" UserIsRequestor="true"${network}>${coded('RoleIDCode', SOURCE_ROLE)}</ActiveParticipant>`;
  }
  const roles = c.roles.map((r) => coded('RoleIDCode', { code: r.code, system: r.codeSystem ?? '', display: r.displayName ?? r.code })).join('');
  return (
    `<ActiveParticipant${attr('UserID', c.professionalId)}${attr('AlternativeUserID', c.organisationId)}${attr('UserName', c.name)} UserIsRequestor="true"${network}>` +
    coded('RoleIDCode', SOURCE_ROLE) +
    roles +
    `</ActiveParticipant>`
  );
}
