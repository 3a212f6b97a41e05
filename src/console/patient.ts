import { EVENT_ID, type AuditOutcome } from '../audit/message.js';
import type { AccessHistoryEntry } from '../audit/trail.js';
import type { GatewayContext } from '../context.js';
import type { PatientCaller } from '../policy/caller.js';
import { DMP_CONFIDENTIALITY, filterEntries } from '../policy/rules.js';
import {
  isPatientDocument,
  patientEntries,
  readRecord,
  recordState,
  setDocumentMasked,
  setEmergencyAccess,
  setProfessionalBlocked,
  type PatientRecord,
} from '../policy/records.js';
import { auditRecordOperation, type ConsoleRequest } from './audit.js';
import { signatureDocuments } from './reads.js';

/** What the patient view shows. */
export interface PatientOverview {
  record?: PatientRecord;
  /** The refusal of the policy when the record is not open to the patient (closed, none). */
  refusal?: string;
  documents: {
    uniqueId: string;
    title: string | null;
    mimeType: string;
    registeredAt: Date;
    addedByPatient: boolean;
    /** Masked by the patient. */
    masked: boolean;
    /** Submitted with the MASQUE_PS confidentiality code: hidden from professionals other than its author. */
    maskedByAuthor: boolean;
  }[];
  /** Others' accesses and the patient's own changes, newest first. */
  history: AccessHistoryEntry[];
  /** The patient's own reads (listing, history), left out of the history. */
  ownReads: number;
}

/** The operations of the records API (src/http/records.ts) the console performs, with the same audit codes. */
const OPERATIONS = {
  list: { code: 'PATIENT-DOCUMENT-LIST', display: 'Documents listed by the patient', action: 'R', eventId: EVENT_ID.patientRecord },
  history: { code: 'ACCESS-HISTORY', display: 'Access history read', action: 'R', eventId: EVENT_ID.patientRecord },
  mask: { code: 'DOCUMENT-MASK', display: 'Document masked from professionals', action: 'U', eventId: EVENT_ID.patientRecord },
  unmask: { code: 'DOCUMENT-UNMASK', display: 'Document unmasked', action: 'U', eventId: EVENT_ID.patientRecord },
  block: { code: 'PROFESSIONAL-BLOCK', display: 'Professional blocked', action: 'U', eventId: EVENT_ID.patientRecord },
  unblock: { code: 'PROFESSIONAL-UNBLOCK', display: 'Professional unblocked', action: 'U', eventId: EVENT_ID.patientRecord },
  emergency: { code: 'EMERGENCY-ACCESS', display: 'Emergency access setting', action: 'U', eventId: EVENT_ID.patientRecord },
} as const;

const now = (ctx: GatewayContext): Date => ctx.clock?.() ?? new Date();

/**
 * The patient's own record: settings, the documents the policy lets the patient see (filterEntries, as
 * the records API lists them), which of them are masked, and the access history from the audit trail.
 */
export async function patientOverview(ctx: GatewayContext, patient: PatientCaller, request: ConsoleRequest): Promise<PatientOverview> {
  const db = ctx.registry.db;
  const record = await readRecord(db, patient.patientId);
  const shown = filterEntries(patient, patient.patientId, await recordState(db, patient.patientId), await patientEntries(db, patient.patientId), now(ctx));
  const masked = new Set(record?.maskedDocuments ?? []);
  // Signature documents sign the others; they are not documents the patient reads or masks.
  const signatures = await signatureDocuments(db, shown.visible.map((e) => e.uniqueId));
  const documents = shown.visible
    .filter((e) => !signatures.has(e.uniqueId))
    .map((e) => ({ uniqueId: e.uniqueId, title: e.title, mimeType: e.mimeType, registeredAt: e.registeredAt, addedByPatient: Boolean(e.addedByPatient), masked: masked.has(e.uniqueId),
      maskedByAuthor: e.confidentialityCodes.some((c) => c.code === DMP_CONFIDENTIALITY.masquePs && c.scheme === DMP_CONFIDENTIALITY.scheme),
    }))
    .reverse();
  const outcome: AuditOutcome = shown.refusal ? 4 : 0;
  await auditRecordOperation(ctx, OPERATIONS.list, patient, request, { patientIds: [patient.patientId], documentIds: documents.map((d) => d.uniqueId), outcome });
  // The history is read after its own audit record, so the patient sees this very access in it.
  await auditRecordOperation(ctx, OPERATIONS.history, patient, request, { patientIds: [patient.patientId], documentIds: [], outcome });
  const all = shown.refusal || !ctx.audit ? [] : (await ctx.audit.history(patient.patientId)).reverse();
  const ownRead = (e: AccessHistoryEntry): boolean => e.userId === patient.patientId && e.action === 'R';
  return {
    record: shown.refusal ? undefined : record,
    refusal: shown.refusal?.error.message,
    documents,
    history: all.filter((e) => !ownRead(e)),
    ownReads: all.filter(ownRead).length,
  };
}

export type SettingResult = 'done' | 'no-open-record' | 'no-document';

/** Masks a document of the patient's record from professionals, or unmasks it. */
export async function setMasked(ctx: GatewayContext, patient: PatientCaller, uniqueId: string, masked: boolean, request: ConsoleRequest): Promise<SettingResult> {
  const db = ctx.registry.db;
  let result: SettingResult = 'no-document';
  if (await isPatientDocument(db, patient.patientId, uniqueId)) result = (await setDocumentMasked(db, patient.patientId, uniqueId, masked, now(ctx))) ? 'done' : 'no-open-record';
  await auditRecordOperation(ctx, masked ? OPERATIONS.mask : OPERATIONS.unmask, patient, request, {
    patientIds: [patient.patientId],
    documentIds: [uniqueId],
    outcome: result === 'done' ? 0 : 4,
  });
  return result;
}

/** Blocks a professional (by national id, IdNat_PS) from the record, or unblocks them. */
export async function setBlocked(ctx: GatewayContext, patient: PatientCaller, professionalId: string, blocked: boolean, request: ConsoleRequest): Promise<SettingResult> {
  const done = await setProfessionalBlocked(ctx.registry.db, patient.patientId, professionalId, blocked, now(ctx));
  await auditRecordOperation(ctx, blocked ? OPERATIONS.block : OPERATIONS.unblock, patient, request, { patientIds: [patient.patientId], documentIds: [], outcome: done ? 0 : 4 });
  return done ? 'done' : 'no-open-record';
}

export async function setEmergency(ctx: GatewayContext, patient: PatientCaller, access: 'allowed' | 'refused', request: ConsoleRequest): Promise<SettingResult> {
  const done = await setEmergencyAccess(ctx.registry.db, patient.patientId, access);
  await auditRecordOperation(ctx, OPERATIONS.emergency, patient, request, { patientIds: [patient.patientId], documentIds: [], outcome: done ? 0 : 4 });
  return done ? 'done' : 'no-open-record';
}

/** IdNat_PS as the block list keys it: 8 + RPPS, 0 + ADELI, or another national id (letters, digits, few signs). */
export const PROFESSIONAL_ID = /^[0-9A-Za-z][0-9A-Za-z._/-]{3,63}$/;
