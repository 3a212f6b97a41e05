import type { GatewayContext } from '../context.js';
import { ASSOCIATION_TYPE } from '../ebrim/uuids.js';
import type { XdsError } from '../errors.js';
import type { Db } from '../registry/db.js';
import type { ResultObject } from '../registry/stored-queries/execute.js';
import type { AuthenticatedCaller } from './caller.js';
import { entryFacts, recordState, signedDocuments } from './records.js';
import { canAccessRecord, canRead, DMP_CONFIDENTIALITY, type RecordState } from './rules.js';

/** Stored query parameters that name the patient. */
const PATIENT_PARAMS = new Set(['$XDSDocumentEntryPatientId', '$XDSSubmissionSetPatientId', '$XDSFolderPatientId', '$patientId']);

/** The patient ids a stored query names in its parameters ('id' values, quotes doubled inside). */
export function queryPatientIds(slots: { name: string; values: string[] }[]): string[] {
  const ids = new Set<string>();
  for (const s of slots) {
    if (!PATIENT_PARAMS.has(s.name)) continue;
    for (const v of s.values) for (const m of v.matchAll(/'((?:[^']|'')*)'/g)) ids.add(m[1]!.replace(/''/g, "'"));
  }
  return [...ids];
}

/**
 * ITI-18 answer as the caller may see it. The record of every patient concerned is checked first (the
 * token's patient, then the patients the query names, then those of the objects found): a refusal
 * replaces the whole answer, so a refused caller cannot tell whether anything exists. Then the
 * documents this caller may not read are removed, with whatever would reveal them: a signature or a
 * submission set covering one of them, a folder holding only such documents, and every association with a removed end.
 * Objects of another patient than the token names are removed as if they did not exist.
 * Without an authenticated caller the answer is left as it is. A handful of queries per request, none per object.
 */
export async function filterQueryAnswer(
  ctx: GatewayContext,
  namedPatients: string[],
  objects: ResultObject[],
): Promise<{ refusal?: XdsError; objects: ResultObject[] }> {
  const caller = ctx.caller;
  if (!caller) return { objects };
  const db = ctx.registry.db;
  const scope = caller.patientId;
  const patients = [...new Set([...(scope ? [scope] : []), ...namedPatients, ...(scope ? [] : objects.flatMap((o) => (o.patientId ? [o.patientId] : [])))])];
  const found = objects.filter((o) => o.kind === 'document').map((o) => o.id);
  const containers = objects.filter((o) => o.kind === 'submissionSet' || o.kind === 'folder').map((o) => o.id);
  const candidates = new Set<string>(found);
  for (const o of objects) {
    if (o.kind === 'association') for (const end of [o.sourceObject, o.targetObject]) if (end) candidates.add(end);
  }
  // Independent reads, side by side: the records, the documents' flags, the contents of the sets and folders found, what the signatures found sign.
  const [states, flags, members, signed] = await Promise.all([
    Promise.all(patients.map((id) => recordState(db, id))),
    documentFlags(db, [...candidates]),
    containers.length
      ? db.query<{ source_uuid: string; target_uuid: string }>(
          'select source_uuid, target_uuid from associations where source_uuid = any($1::text[]) and association_type = $2 and deleted_at is null',
          [containers, ASSOCIATION_TYPE.hasMember],
        )
      : [],
    // A signature (DSG) names what it signs: the documents signed, directly or as members of the signed submission set.
    signedDocuments(db, 'entry_uuid', found),
  ]);
  const records = new Map<string, RecordState | undefined>();
  for (const [i, patientId] of patients.entries()) {
    records.set(patientId, states[i]);
    const access = canAccessRecord(caller, patientId, states[i]);
    if (!access.allowed) return { refusal: access.error, objects: [] };
  }

  const hidden = new Set<string>();
  for (const o of objects) if (scope && o.patientId && o.patientId !== scope) hidden.add(o.id);
  const more = [...new Set([...members.map((m) => m.target_uuid), ...signed.map((x) => x.member)])].filter((id) => !candidates.has(id));
  if (more.length) flags.push(...(await documentFlags(db, more)));
  const documents = await hiddenDocuments(ctx, caller, flags, records);
  for (const id of documents.hidden) hidden.add(id);
  for (const s of signed) if (documents.hidden.has(s.member)) hidden.add(s.signature);

  const membersOf = new Map<string, string[]>();
  for (const m of members) {
    if (!documents.known.has(m.target_uuid)) continue;
    membersOf.set(m.source_uuid, [...(membersOf.get(m.source_uuid) ?? []), m.target_uuid]);
  }
  for (const o of objects) {
    const docs = membersOf.get(o.id) ?? [];
    // A submission set tells what was submitted with it; a folder is shared, so it goes only when all its documents are hidden.
    if (o.kind === 'submissionSet' && docs.some((d) => hidden.has(d))) hidden.add(o.id);
    if (o.kind === 'folder' && docs.length && docs.every((d) => hidden.has(d))) hidden.add(o.id);
  }
  let grew = true;
  while (grew) {
    grew = false;
    for (const o of objects) {
      if (o.kind !== 'association' || hidden.has(o.id)) continue;
      if (hidden.has(o.sourceObject ?? '') || hidden.has(o.targetObject ?? '')) {
        hidden.add(o.id);
        grew = true;
      }
    }
  }
  return { objects: hidden.size ? objects.filter((o) => !hidden.has(o.id)) : objects };
}

interface DocumentFlags {
  entry_uuid: string;
  unique_id: string;
  patient_id: string;
  /** Has a DMP confidentiality code (MASQUE_PS, INVISIBLE_PATIENT): its full facts decide. */
  flagged: boolean;
}

/** The documents among these entryUUIDs, with what tells whether the policy needs their full facts. */
function documentFlags(db: Db, entryUuids: string[]): Promise<DocumentFlags[]> {
  if (!entryUuids.length) return Promise.resolve([]);
  return db.query<DocumentFlags>(
    `select d.entry_uuid, d.unique_id, d.patient_id,
        exists(select 1 from document_entry_codes c where c.entry_uuid = d.entry_uuid and c.kind = 'confidentiality' and c.code = any($2::text[])) as flagged
       from document_entries d where d.entry_uuid = any($1::text[])`,
    [entryUuids, [DMP_CONFIDENTIALITY.masquePs, DMP_CONFIDENTIALITY.invisiblePatient]],
    { prepare: true },
  );
}

/**
 * Which documents are known, and which of them the caller may not read (hidden). Only flagged documents
 * and those the patient masked need their full facts (authors, registration time); the others are as
 * visible as their record.
 */
async function hiddenDocuments(
  ctx: GatewayContext,
  caller: AuthenticatedCaller,
  rows: DocumentFlags[],
  records: Map<string, RecordState | undefined>,
): Promise<{ known: Set<string>; hidden: Set<string> }> {
  const known = new Set<string>();
  const hidden = new Set<string>();
  const db = ctx.registry.db;
  const decide: DocumentFlags[] = [];
  for (const r of rows) {
    known.add(r.entry_uuid);
    if (caller.patientId && r.patient_id !== caller.patientId) {
      hidden.add(r.entry_uuid);
      continue;
    }
    if (!records.has(r.patient_id)) records.set(r.patient_id, await recordState(db, r.patient_id));
    const record = records.get(r.patient_id);
    if (!canAccessRecord(caller, r.patient_id, record).allowed) hidden.add(r.entry_uuid);
    else if (r.flagged || record?.maskedDocuments.has(r.unique_id)) decide.push(r);
  }
  if (!decide.length) return { known, hidden };
  const facts = await entryFacts(db, [...new Set(decide.map((r) => r.unique_id))]);
  const now = ctx.clock?.() ?? new Date();
  for (const r of decide) {
    const entry = facts.get(r.unique_id);
    if (!entry || !canRead(caller, records.get(r.patient_id), entry, now).allowed) hidden.add(r.entry_uuid);
  }
  return { known, hidden };
}
