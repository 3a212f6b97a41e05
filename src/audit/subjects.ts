import { DOCUMENT_ENTRY_SCHEME, FOLDER_SCHEME, NS, SUBMISSION_SET_SCHEME } from '../ebrim/uuids.js';
import { UPDATE_AVAILABILITY_STATUS } from '../registry/update.js';
import type { XmlElement } from '../xml/tree.js';
import { EVENT_ID, type AuditCode, type AuditEvent } from './message.js';

const PATIENT_SCHEMES = new Set<string>([DOCUMENT_ENTRY_SCHEME.patientId, SUBMISSION_SET_SCHEME.patientId, FOLDER_SCHEME.patientId]);
const PATIENT_SLOTS = new Set(['$XDSDocumentEntryPatientId', '$XDSSubmissionSetPatientId', '$XDSFolderPatientId', '$patientId']);
const DOCUMENT_SLOTS = new Set(['$XDSDocumentEntryUniqueId', '$XDSDocumentEntryEntryUUID', '$uuid']);

/** What each SOAP transaction is in ATNA terms (IHE ITI TF-2 audit requirements, registry/repository side). */
export const TRANSACTION_AUDIT: Record<string, { eventId: AuditCode; action: AuditEvent['action']; display: string }> = {
  'ITI-41': { eventId: EVENT_ID.import, action: 'C', display: 'Provide and Register Document Set-b' },
  'ITI-42': { eventId: EVENT_ID.import, action: 'C', display: 'Register Document Set-b' },
  'ITI-43': { eventId: EVENT_ID.export, action: 'R', display: 'Retrieve Document Set' },
  'ITI-18': { eventId: EVENT_ID.query, action: 'E', display: 'Registry Stored Query' },
  'ITI-57': { eventId: EVENT_ID.patientRecord, action: 'U', display: 'Update Document Set' },
  'ITI-62': { eventId: EVENT_ID.patientRecord, action: 'D', display: 'Delete Document Set' },
};

/** The patients and documents a request names, read from its metadata, retrieve items, query slots or object refs. */
export function auditSubjects(body: XmlElement): { patientIds: string[]; documentIds: string[]; query?: { id: string; text: string } } {
  const patients = new Set<string>();
  const documents = new Set<string>();
  let query: { id: string; text: string } | undefined;
  const walk = (el: XmlElement): void => {
    if (el.ns === NS.rim && el.local === 'ExternalIdentifier' && el.attrs.value) {
      if (PATIENT_SCHEMES.has(el.attrs.identificationScheme ?? '')) patients.add(el.attrs.value);
      if (el.attrs.identificationScheme === DOCUMENT_ENTRY_SCHEME.uniqueId) documents.add(el.attrs.value);
    } else if (el.ns === NS.xdsb && el.local === 'DocumentUniqueId') {
      if (el.text.trim()) documents.add(el.text.trim());
    } else if (el.ns === NS.rim && el.local === 'Slot') {
      const target = PATIENT_SLOTS.has(el.attrs.name ?? '') ? patients : DOCUMENT_SLOTS.has(el.attrs.name ?? '') ? documents : undefined;
      if (target) for (const v of slotValues(el)) target.add(v);
    } else if (el.ns === NS.rim && el.local === 'AdhocQuery') {
      // The stored query as its parameters, one `name=values` line each (ParticipantObjectQuery).
      const lines = el.children.filter((c) => c.local === 'Slot').map((c) => `${c.attrs.name}=${c.children.flatMap((l) => l.children.map((v) => v.text.trim())).join(',')}`);
      query = { id: el.attrs.id ?? '', text: lines.join('\n') };
    } else if (el.ns === NS.rim && el.local === 'ObjectRef' && el.attrs.id) {
      documents.add(el.attrs.id);
    } else if (el.ns === NS.rim && el.local === 'Association' && el.attrs.associationType === UPDATE_AVAILABILITY_STATUS && el.attrs.targetObject) {
      // ITI-57 status changes name the updated DocumentEntry by its entryUUID only.
      documents.add(el.attrs.targetObject);
    }
    for (const c of el.children) walk(c);
  };
  walk(body);
  return { patientIds: [...patients], documentIds: [...documents], query };
}

/** Stored query values: 'x' or ('x','y'), quotes doubled inside. */
function slotValues(slot: XmlElement): string[] {
  const out: string[] = [];
  for (const list of slot.children) {
    for (const v of list.children) {
      for (const m of v.text.matchAll(/'((?:[^']|'')*)'/g)) out.push(m[1]!.replace(/''/g, "'"));
    }
  }
  return out;
}
