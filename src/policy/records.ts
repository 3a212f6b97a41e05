import { ASSOCIATION_TYPE } from '../ebrim/uuids.js';
import type { Db } from '../registry/db.js';
import { xonOrganisationId } from '../registry/deletion.js';
import type { EntryFacts, RecordState } from './rules.js';

/** Who collected the patient's consent to open the record. */
export const CONSENT_CHANNELS = ['patient-online', 'insurance-office', 'professional', 'pharmacist', 'hospital'] as const;
export type ConsentChannel = (typeof CONSENT_CHANNELS)[number];

export interface PatientRecord {
  patientId: string;
  status: 'open' | 'closed';
  consentChannel: ConsentChannel;
  consentAt: string;
  createdBy: string | null;
  emergencyAccess: 'allowed' | 'refused';
  closedAt: string | null;
  purgeAfter: string | null;
  blockedProfessionals: string[];
  maskedDocuments: string[];
}

interface RecordRow {
  patient_id: string;
  status: 'open' | 'closed';
  consent_channel: ConsentChannel;
  consent_at: Date | string;
  created_by: string | null;
  emergency_access: 'allowed' | 'refused';
  closed_at: Date | string | null;
  purge_after: Date | string | null;
}

const iso = (d: Date | string | null): string | null => (d === null ? null : new Date(d).toISOString());

/**
 * Opens the patient's record with their consent; the patient id is registered in the affinity domain too.
 * A closed record is not reopened here: the patient's data stays sealed until the purge.
 */
export async function createRecord(
  db: Db,
  input: { patientId: string; channel: ConsentChannel; createdBy?: string },
  now: Date,
): Promise<'created' | 'exists' | 'closed'> {
  return db.transaction(async (tx) => {
    const [existing] = await tx.query<{ status: string }>('select status from patient_records where patient_id = $1 for update', [input.patientId]);
    if (existing) return existing.status === 'closed' ? 'closed' : 'exists';
    await tx.query(
      `insert into patient_records (patient_id, status, consent_channel, consent_at, created_by) values ($1, 'open', $2, $3, $4)`,
      [input.patientId, input.channel, now.toISOString(), input.createdBy ?? null],
    );
    await tx.query('insert into patients (patient_id) values ($1) on conflict (patient_id) do nothing', [input.patientId]);
    return 'created';
  });
}

export async function readRecord(db: Db, patientId: string): Promise<PatientRecord | undefined> {
  const [row] = await db.query<RecordRow>('select * from patient_records where patient_id = $1', [patientId]);
  if (!row) return undefined;
  const blocked = await db.query<{ professional_id: string }>('select professional_id from blocked_professionals where patient_id = $1 order by professional_id', [patientId]);
  const masked = await db.query<{ document_unique_id: string }>('select document_unique_id from masked_documents where patient_id = $1 order by document_unique_id', [patientId]);
  return {
    patientId: row.patient_id,
    status: row.status,
    consentChannel: row.consent_channel,
    consentAt: iso(row.consent_at)!,
    createdBy: row.created_by,
    emergencyAccess: row.emergency_access,
    closedAt: iso(row.closed_at),
    purgeAfter: iso(row.purge_after),
    blockedProfessionals: blocked.map((b) => b.professional_id),
    maskedDocuments: masked.map((m) => m.document_unique_id),
  };
}

/** The record as the policy rules read it. */
export async function recordState(db: Db, patientId: string): Promise<RecordState | undefined> {
  // One round trip: every transaction of a professional reads it.
  const [r] = await db.query<{ status: 'open' | 'closed'; emergency_access: 'allowed' | 'refused'; blocked: string[]; masked: string[] }>(
    `select r.status, r.emergency_access,
        array(select b.professional_id from blocked_professionals b where b.patient_id = r.patient_id) as blocked,
        array(select m.document_unique_id from masked_documents m where m.patient_id = r.patient_id) as masked
       from patient_records r where r.patient_id = $1`,
    [patientId],
    { prepare: true },
  );
  if (!r) return undefined;
  return { patientId, status: r.status, emergencyAccess: r.emergency_access, blockedProfessionals: new Set(r.blocked), maskedDocuments: new Set(r.masked) };
}

/** Closes the record: readable by nobody from now on, destroyed by the purge after the retention period. */
export async function closeRecord(db: Db, patientId: string, reason: string | undefined, now: Date, retentionYears: number): Promise<boolean> {
  const purgeAfter = new Date(now);
  purgeAfter.setUTCFullYear(purgeAfter.getUTCFullYear() + retentionYears);
  const rows = await db.query(
    `update patient_records set status = 'closed', closed_at = $2, closed_reason = $3, purge_after = $4
      where patient_id = $1 and status = 'open' returning patient_id`,
    [patientId, now.toISOString(), reason ?? null, purgeAfter.toISOString()],
  );
  return rows.length === 1;
}

/** Only an open record takes settings; false when there is none. */
async function onOpenRecord(db: Db, patientId: string, fn: (tx: Db) => Promise<void>): Promise<boolean> {
  return db.transaction(async (tx) => {
    const [row] = await tx.query<{ status: string }>('select status from patient_records where patient_id = $1 for update', [patientId]);
    if (row?.status !== 'open') return false;
    await fn(tx);
    return true;
  });
}

export function setProfessionalBlocked(db: Db, patientId: string, professionalId: string, blocked: boolean, now: Date): Promise<boolean> {
  return onOpenRecord(db, patientId, async (tx) => {
    if (blocked) {
      await tx.query('insert into blocked_professionals (patient_id, professional_id, blocked_at) values ($1, $2, $3) on conflict do nothing', [patientId, professionalId, now.toISOString()]);
    } else {
      await tx.query('delete from blocked_professionals where patient_id = $1 and professional_id = $2', [patientId, professionalId]);
    }
  });
}

export function setEmergencyAccess(db: Db, patientId: string, access: 'allowed' | 'refused'): Promise<boolean> {
  return onOpenRecord(db, patientId, async (tx) => {
    await tx.query('update patient_records set emergency_access = $2 where patient_id = $1', [patientId, access]);
  });
}

export function setDocumentMasked(db: Db, patientId: string, documentUniqueId: string, masked: boolean, now: Date): Promise<boolean> {
  return onOpenRecord(db, patientId, async (tx) => {
    if (masked) {
      await tx.query('insert into masked_documents (patient_id, document_unique_id, masked_at) values ($1, $2, $3) on conflict do nothing', [patientId, documentUniqueId, now.toISOString()]);
    } else {
      await tx.query('delete from masked_documents where patient_id = $1 and document_unique_id = $2', [patientId, documentUniqueId]);
    }
  });
}

/** Is this document registered for this patient (and not deleted)? */
export async function isPatientDocument(db: Db, patientId: string, documentUniqueId: string): Promise<boolean> {
  const rows = await db.query('select 1 from document_entries where patient_id = $1 and unique_id = $2 and deleted_at is null limit 1', [patientId, documentUniqueId]);
  return rows.length > 0;
}

/** Closed records whose retention has passed. */
export async function recordsDueForPurge(db: Db, now: Date): Promise<string[]> {
  const rows = await db.query<{ patient_id: string }>(
    `select patient_id from patient_records where status = 'closed' and purge_after <= $1 order by purge_after`,
    [now.toISOString()],
  );
  return rows.map((r) => r.patient_id);
}

/**
 * Destroys a closed record past its retention: the patient's registry objects and settings go; the bytes
 * are no longer referenced and the content sweeper removes them. The audit trail is kept.
 */
export async function purgeRecord(db: Db, patientId: string, now: Date): Promise<boolean> {
  return db.transaction(async (tx) => {
    const [row] = await tx.query<{ purge_after: Date | string | null }>(
      `select purge_after from patient_records where patient_id = $1 and status = 'closed' for update`,
      [patientId],
    );
    if (!row?.purge_after || new Date(row.purge_after) > now) return false;
    await tx.query(
      `delete from associations where source_uuid in (select entry_uuid from document_entries where patient_id = $1
          union select entry_uuid from submission_sets where patient_id = $1 union select entry_uuid from folders where patient_id = $1)
        or target_uuid in (select entry_uuid from document_entries where patient_id = $1)`,
      [patientId],
    );
    await tx.query('delete from document_entries where patient_id = $1', [patientId]);
    await tx.query('delete from folders where patient_id = $1', [patientId]);
    await tx.query('delete from submission_sets where patient_id = $1', [patientId]);
    await tx.query('delete from patient_records where patient_id = $1', [patientId]);
    await tx.query('delete from patients where patient_id = $1', [patientId]);
    return true;
  });
}

interface EntryRow {
  unique_id: string;
  patient_id: string;
  title: string | null;
  mime_type: string;
  created_at: Date | string;
  codes: { code: string; scheme: string }[] | null;
  persons: (string | null)[] | null;
  institutions: string[] | null;
}

/** The policy facts of registered documents, by uniqueId (latest version, not deleted). */
export async function entryFacts(db: Db, uniqueIds: string[]): Promise<Map<string, EntryFacts>> {
  if (!uniqueIds.length) return new Map();
  const rows = await factRows(db, 'd.unique_id = any($1)', [uniqueIds]);
  return new Map(rows.map((r) => [r.uniqueId, r]));
}

/** Every registered, approved and not deleted document of the patient, oldest first, with its title and mimeType. */
export function patientEntries(db: Db, patientId: string): Promise<(EntryFacts & { title: string | null; mimeType: string })[]> {
  return factRows(db, `d.patient_id = $1 and d.status = 'urn:oasis:names:tc:ebxml-regrep:StatusType:Approved'`, [patientId]);
}

async function factRows(db: Db, where: string, params: unknown[]): Promise<(EntryFacts & { title: string | null; mimeType: string })[]> {
  const rows = await db.query<EntryRow>(
    `select d.unique_id, d.patient_id, d.created_at, d.title, d.mime_type,
        (select json_agg(json_build_object('code', c.code, 'scheme', c.scheme)) from document_entry_codes c
          where c.entry_uuid = d.entry_uuid and c.kind = 'confidentiality') as codes,
        (select array_agg(a.person) from document_entry_authors a where a.entry_uuid = d.entry_uuid) as persons,
        (select array_agg(i) from document_entry_authors a, unnest(a.institutions) i where a.entry_uuid = d.entry_uuid) as institutions
       from document_entries d where ${where} and d.deleted_at is null order by d.created_at, d.version`,
    params,
  );
  return rows.map((r) => {
    const persons = (r.persons ?? []).filter((p): p is string => Boolean(p)).map((p) => p.split('^')[0]!);
    return {
      uniqueId: r.unique_id,
      patientId: r.patient_id,
      title: r.title,
      mimeType: r.mime_type,
      confidentialityCodes: r.codes ?? [],
      authorPersons: persons,
      authorInstitutions: (r.institutions ?? []).map(xonOrganisationId).filter((o): o is string => Boolean(o)),
      registeredAt: new Date(r.created_at),
      addedByPatient: persons.includes(r.patient_id.split('^')[0]!),
    };
  });
}

/**
 * What DSG signatures name in their Manifest: for each of these entries (by entry uuid or by uniqueId) that
 * signs something, the documents it signs, directly or as members of the signed submission set.
 */
export async function signedDocuments(
  db: Db,
  key: 'entry_uuid' | 'unique_id',
  ids: string[],
): Promise<{ signature: string; member: string; memberUniqueId: string }[]> {
  if (!ids.length) return [];
  const rows = await db.query<{ signature: string; member: string; member_unique_id: string }>(
    `select s.${key} as signature, d.entry_uuid as member, d.unique_id as member_unique_id
       from document_entries s
       join associations a on a.source_uuid = s.entry_uuid and a.association_type = $2 and a.deleted_at is null
       left join associations m on m.source_uuid = a.target_uuid and m.association_type = $3 and m.deleted_at is null
       join document_entries d on d.entry_uuid = coalesce(m.target_uuid, a.target_uuid) and d.entry_uuid <> s.entry_uuid
      where s.${key} = any($1::text[]) and s.deleted_at is null`,
    [ids, ASSOCIATION_TYPE.signs, ASSOCIATION_TYPE.hasMember],
    { prepare: true },
  );
  return rows.map((r) => ({ signature: r.signature, member: r.member, memberUniqueId: r.member_unique_id }));
}
