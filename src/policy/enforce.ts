import type { GatewayContext } from '../context.js';
import type { SubmissionMetadata } from '../ebrim/model.js';
import { XdsError } from '../errors.js';
import { entryFacts, recordState, signedDocuments } from './records.js';
import { canAccessRecord, canDelete, canRead, canWrite, filterEntries, refusal, type EntryFacts, type RecordState } from './rules.js';

/**
 * Write check of a submission (ITI-41): the authenticated caller must be allowed on the record of every
 * patient the submission names. Without an authenticated caller (AUTHENTICATION=off) nothing is checked.
 */
export async function submissionRefusal(ctx: GatewayContext, metadata: SubmissionMetadata): Promise<XdsError | undefined> {
  const caller = ctx.caller;
  if (!caller) return undefined;
  const patients = new Set([metadata.submissionSet.patientId, ...metadata.documentEntries.map((e) => e.patientId), ...metadata.folders.map((f) => f.patientId)]);
  for (const patientId of patients) {
    const decision = canWrite(caller, patientId, await recordState(ctx.registry.db, patientId));
    if (!decision.allowed) return decision.error;
  }
  return undefined;
}

/**
 * Read check of retrieve requests (ITI-43), per requested document uniqueId. When the token names the
 * patient (VIHF resource-id; always for a patient), the record is checked first and a refusal (no record,
 * closed, blocked, emergency refused) answers every request with the rule, whether the documents exist or
 * not. A document this caller may not see, or of another patient than the token's, answers exactly as an
 * unknown document would. Unknown documents are left to the transaction.
 */
export async function retrieveRefusals(ctx: GatewayContext, uniqueIds: string[], repositoryUniqueId: string): Promise<Map<string, XdsError>> {
  const refused = new Map<string, XdsError>();
  const caller = ctx.caller;
  if (!caller) return refused;
  const db = ctx.registry.db;
  const scope = caller.patientId;
  if (scope) {
    const access = canAccessRecord(caller, scope, await recordState(db, scope));
    if (!access.allowed) {
      for (const id of uniqueIds) refused.set(id, access.error);
      return refused;
    }
  }
  const now = ctx.clock?.() ?? new Date();
  const records = new Map<string, RecordState | undefined>();
  const decide = async (entry: EntryFacts) => {
    if (!records.has(entry.patientId)) records.set(entry.patientId, await recordState(db, entry.patientId));
    return scope && entry.patientId !== scope ? refusal('DOCUMENT_MASKED') : canRead(caller, records.get(entry.patientId), entry, now);
  };
  const unknown = (uniqueId: string) => new XdsError('XDSDocumentUniqueIdError', `document ${uniqueId} is not in repository ${repositoryUniqueId}`, uniqueId);
  for (const [uniqueId, entry] of await entryFacts(db, uniqueIds)) {
    const decision = await decide(entry);
    if (decision.allowed) continue;
    const hidden = decision.rule === 'DOCUMENT_MASKED' || decision.rule === 'DOCUMENT_HIDDEN_FROM_PATIENT';
    refused.set(uniqueId, hidden ? unknown(uniqueId) : decision.error);
  }
  // A DSG signature names what it signs (uniqueIds and digests in its Manifest): it answers as unknown when
  // this caller may not read one of the documents it signs, as ITI-18 leaves it out of a query's answer.
  const signed = await signedDocuments(db, 'unique_id', uniqueIds.filter((id) => !refused.has(id)));
  const memberFacts = await entryFacts(db, [...new Set(signed.map((s) => s.memberUniqueId))]);
  for (const { signature, memberUniqueId } of signed) {
    const facts = memberFacts.get(memberUniqueId);
    if (refused.has(signature) || !facts) continue;
    if (!(await decide(facts)).allowed) refused.set(signature, unknown(signature));
  }
  return refused;
}

/**
 * Read check of a query's answer (ready for ITI-18): which of the patient's found documents this caller
 * may see, or the record-level refusal that replaces the whole answer (so that a refused caller cannot
 * tell whether documents exist). Without an authenticated caller everything is visible.
 */
export async function queryVisibility(
  ctx: GatewayContext,
  patientId: string,
  uniqueIds: string[],
): Promise<{ refusal?: XdsError; visible: Set<string>; breakGlass: boolean }> {
  const caller = ctx.caller;
  if (!caller) return { visible: new Set(uniqueIds), breakGlass: false };
  const facts = [...(await entryFacts(ctx.registry.db, uniqueIds)).values()].filter((e) => e.patientId === patientId);
  const shown = filterEntries(caller, patientId, await recordState(ctx.registry.db, patientId), facts, ctx.clock?.() ?? new Date());
  if (shown.refusal) return { refusal: shown.refusal.error, visible: new Set(), breakGlass: false };
  return { visible: new Set(shown.visible.map((e) => e.uniqueId)), breakGlass: shown.breakGlass };
}

/**
 * Check of a deletion (ITI-62) before the registry's own: the record of every patient whose objects are
 * named must be open to this caller (not closed, caller not blocked), and each DocumentEntry deletable by
 * them (canDelete: the author's organisation). With a token naming the patient, that record is checked
 * first and an object of another patient answers as an unknown one. Unknown objects are left to the registry.
 */
export async function deletionRefusals(ctx: GatewayContext, objectRefs: string[]): Promise<XdsError[]> {
  const caller = ctx.caller;
  if (!caller) return [];
  const db = ctx.registry.db;
  const scope = caller.patientId;
  const records = new Map<string, RecordState | undefined>();
  if (scope) {
    records.set(scope, await recordState(db, scope));
    const access = canAccessRecord(caller, scope, records.get(scope));
    if (!access.allowed) return [access.error];
  }
  const owners = await db.query<{ id: string; patient_id: string | null; unique_id: string | null }>(
    `select entry_uuid as id, patient_id, unique_id from document_entries where entry_uuid = any($1::text[])
     union all select entry_uuid, patient_id, null from submission_sets where entry_uuid = any($1::text[])
     union all select entry_uuid, patient_id, null from folders where entry_uuid = any($1::text[])
     union all select a.entry_uuid, coalesce(s.patient_id, f.patient_id, d.patient_id), null from associations a
       left join submission_sets s on s.entry_uuid = a.source_uuid left join folders f on f.entry_uuid = a.source_uuid
       left join document_entries d on d.entry_uuid = a.source_uuid where a.entry_uuid = any($1::text[])`,
    [objectRefs],
  );
  const errors: XdsError[] = [];
  for (const o of owners) {
    if (scope && o.patient_id && o.patient_id !== scope) errors.push(new XdsError('UnresolvedReferenceException', `${o.id} is not an object of the registry`, o.id));
  }
  if (errors.length) return errors;
  for (const patientId of new Set(owners.flatMap((o) => (o.patient_id ? [o.patient_id] : [])))) {
    if (!records.has(patientId)) records.set(patientId, await recordState(db, patientId));
    const access = canAccessRecord(caller, patientId, records.get(patientId));
    if (!access.allowed) return [access.error];
  }
  const facts = await entryFacts(db, owners.flatMap((o) => (o.unique_id ? [o.unique_id] : [])));
  for (const o of owners) {
    const entry = o.unique_id ? facts.get(o.unique_id) : undefined;
    if (!entry) continue;
    const decision = canDelete(caller, records.get(entry.patientId), entry);
    if (!decision.allowed) errors.push(decision.error);
  }
  return errors;
}
