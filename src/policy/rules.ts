import { XdsError } from '../errors.js';
import type { AuthenticatedCaller } from './caller.js';

/** Confidentiality codes of the DMP (code system 1.2.250.1.213.1.1.4.13). */
export const DMP_CONFIDENTIALITY = {
  scheme: '1.2.250.1.213.1.1.4.13',
  masquePs: 'MASQUE_PS',
  invisiblePatient: 'INVISIBLE_PATIENT',
} as const;

/** A document hidden from the patient becomes visible to them this long after its registration. */
export const HIDDEN_FROM_PATIENT_MONTHS = 1;

/** The patient's record and the settings the policy reads. */
export interface RecordState {
  patientId: string;
  status: 'open' | 'closed';
  emergencyAccess: 'allowed' | 'refused';
  blockedProfessionals: ReadonlySet<string>;
  /** uniqueIds of documents the patient masked from professionals. */
  maskedDocuments: ReadonlySet<string>;
}

/** The facts of one DocumentEntry the policy decides on. */
export interface EntryFacts {
  uniqueId: string;
  patientId: string;
  confidentialityCodes: { code: string; scheme?: string }[];
  /** IdNat of each author person (XCN.1). */
  authorPersons: string[];
  /** Organisation id of each author institution (XON.10). */
  authorInstitutions: string[];
  registeredAt: Date;
  /** The author told the patient: an INVISIBLE_PATIENT document is visible to them from then on. */
  visibleToPatient?: boolean;
  /** Added by the patient themselves. */
  addedByPatient?: boolean;
}

/** Every rule that can refuse, named in the refusal. */
export type PolicyRule =
  | 'NO_RECORD'
  | 'RECORD_CLOSED'
  | 'NOT_THE_PATIENTS_RECORD'
  | 'TOKEN_NAMES_ANOTHER_PATIENT'
  | 'PROFESSIONAL_BLOCKED'
  | 'EMERGENCY_ACCESS_REFUSED'
  | 'DOCUMENT_MASKED'
  | 'DOCUMENT_HIDDEN_FROM_PATIENT'
  | 'NOT_THE_AUTHOR';

export type Decision = { allowed: true; breakGlass: boolean } | { allowed: false; rule: PolicyRule; error: XdsError };

const RULE_TEXT: Record<PolicyRule, string> = {
  NO_RECORD: 'the patient has no open record',
  RECORD_CLOSED: 'the patient has no open record',
  NOT_THE_PATIENTS_RECORD: 'a patient may act on their own record only',
  TOKEN_NAMES_ANOTHER_PATIENT: 'the authentication token was issued for another patient',
  PROFESSIONAL_BLOCKED: 'the patient has blocked this professional',
  EMERGENCY_ACCESS_REFUSED: 'the patient has refused emergency access',
  DOCUMENT_MASKED: 'the document is not available to this professional',
  DOCUMENT_HIDDEN_FROM_PATIENT: 'the document is not available to the patient yet',
  NOT_THE_AUTHOR: "only the author's organisation may delete the document",
};

/** A refusal: the rule that refused and nothing about the record beyond it. */
export function refusal(rule: PolicyRule): Decision {
  return { allowed: false, rule, error: new XdsError('XDSRegistryError', `access refused by rule ${rule}: ${RULE_TEXT[rule]}`, `policy:${rule}`) };
}

const ALLOWED: Decision = { allowed: true, breakGlass: false };

/** May this caller act on this patient's record at all (before any document is considered)? */
export function canAccessRecord(caller: AuthenticatedCaller, patientId: string, record: RecordState | undefined): Decision {
  if (caller.kind === 'patient') {
    if (caller.patientId !== patientId) return refusal('NOT_THE_PATIENTS_RECORD');
  } else if (caller.patientId && caller.patientId !== patientId) {
    return refusal('TOKEN_NAMES_ANOTHER_PATIENT');
  }
  if (!record) return refusal('NO_RECORD');
  if (record.status === 'closed') return refusal('RECORD_CLOSED');
  if (caller.kind === 'patient') return ALLOWED;
  if (record.blockedProfessionals.has(caller.professionalId)) return refusal('PROFESSIONAL_BLOCKED');
  if (caller.purposeOfUse !== 'normal') {
    return record.emergencyAccess === 'refused' ? refusal('EMERGENCY_ACCESS_REFUSED') : { allowed: true, breakGlass: true };
  }
  return ALLOWED;
}

const hasCode = (entry: EntryFacts, code: string): boolean =>
  entry.confidentialityCodes.some((c) => c.code === code && (c.scheme === undefined || c.scheme === DMP_CONFIDENTIALITY.scheme));

const isAuthor = (caller: AuthenticatedCaller, entry: EntryFacts): boolean =>
  caller.kind === 'professional' ? entry.authorPersons.includes(caller.professionalId) : Boolean(entry.addedByPatient);

/** The month after which an INVISIBLE_PATIENT document shows to the patient anyway. */
export function visibleToPatientFrom(entry: EntryFacts): Date {
  const d = new Date(entry.registeredAt);
  d.setUTCMonth(d.getUTCMonth() + HIDDEN_FROM_PATIENT_MONTHS);
  return d;
}

/** May this caller read this document (record rules first, then the document's own)? */
export function canRead(caller: AuthenticatedCaller, record: RecordState | undefined, entry: EntryFacts, now: Date): Decision {
  const access = canAccessRecord(caller, entry.patientId, record);
  if (!access.allowed) return access;
  if (caller.kind === 'professional') {
    const masked = hasCode(entry, DMP_CONFIDENTIALITY.masquePs) || record!.maskedDocuments.has(entry.uniqueId);
    if (masked && !isAuthor(caller, entry)) return refusal('DOCUMENT_MASKED');
    return access;
  }
  if (hasCode(entry, DMP_CONFIDENTIALITY.invisiblePatient) && !entry.visibleToPatient && !entry.addedByPatient && now < visibleToPatientFrom(entry)) {
    return refusal('DOCUMENT_HIDDEN_FROM_PATIENT');
  }
  return access;
}

/** May this caller add documents to this patient's record? */
export function canWrite(caller: AuthenticatedCaller, patientId: string, record: RecordState | undefined): Decision {
  return canAccessRecord(caller, patientId, record);
}

/** May this caller delete this document? Only its author's organisation (or the patient, for what they added). */
export function canDelete(caller: AuthenticatedCaller, record: RecordState | undefined, entry: EntryFacts): Decision {
  const access = canAccessRecord(caller, entry.patientId, record);
  if (!access.allowed) return access;
  if (caller.kind === 'patient') return entry.addedByPatient ? access : refusal('NOT_THE_AUTHOR');
  return entry.authorInstitutions.includes(caller.organisationId) ? access : refusal('NOT_THE_AUTHOR');
}

export interface FilteredEntries<T extends EntryFacts> {
  /** The entries this caller may see; empty when the record itself is refused. */
  visible: T[];
  /** Set when the record is refused: the query answers with this Failure and nothing else. */
  refusal?: Decision & { allowed: false };
  breakGlass: boolean;
}

/**
 * A query's answer as this caller may see it. A record-level refusal hides everything, whatever the
 * entries, so the answer does not tell whether documents exist; hidden documents are simply absent.
 */
export function filterEntries<T extends EntryFacts>(caller: AuthenticatedCaller, patientId: string, record: RecordState | undefined, entries: T[], now: Date): FilteredEntries<T> {
  const access = canAccessRecord(caller, patientId, record);
  if (!access.allowed) return { visible: [], refusal: access, breakGlass: false };
  return { visible: entries.filter((e) => canRead(caller, record, e, now).allowed), breakGlass: access.breakGlass };
}
