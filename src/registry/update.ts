import type { Association, DocumentEntry, StoredDocument, SubmissionMetadata } from '../ebrim/model.js';
import { slotValue } from '../ebrim/model.js';
import { ASSOCIATION_TYPE, STATUS } from '../ebrim/uuids.js';
import { XdsError, XdsFailure } from '../errors.js';
import { checkAgainstRegistry } from './checks.js';
import { asBuffer, type Db } from './db.js';
import { dtmNow, insertSubmission } from './insert.js';
import { applyLifecycle, ConcurrentLifecycleChange, lookupObjects } from './lifecycle.js';

export const UPDATE_AVAILABILITY_STATUS = 'urn:ihe:iti:2010:AssociationType:UpdateAvailabilityStatus';

const STATUSES = new Set<string>([STATUS.approved, STATUS.deprecated]);

interface LatestRow {
  entry_uuid: string;
  logical_id: string;
  version: number;
  unique_id: string;
  patient_id: string;
  status: string;
  hash: string | null;
  size: string | number | null;
  repository_unique_id: string | null;
  content_key: string | null;
  mime_type: string;
  inline_content: Uint8Array | null;
  deleted: boolean;
}

const LATEST_SQL = `select distinct on (logical_id) entry_uuid, logical_id, version, unique_id, patient_id, status, hash, size,
    repository_unique_id, content_key, mime_type, inline_content, deleted_at is not null as deleted
  from document_entries where logical_id = any($1::text[]) order by logical_id, version desc`;

/** The HasMember from the SubmissionSet to each new version: it carries PreviousVersion. */
const membershipOf = (metadata: SubmissionMetadata, entryId: string): Association | undefined =>
  metadata.associations.find((a) => a.type === ASSOCIATION_TYPE.hasMember && a.sourceObject === metadata.submissionSet.id && a.targetObject === entryId);

interface VersionPlan {
  versions: Map<string, number>;
  stored: StoredDocument[];
  deprecate: string[];
}

/**
 * ITI-57 Update Document Set in the registry, inside one transaction (ITI TF-2b §3.57.4.1.3): each
 * DocumentEntry of the submission is a new version of a registered one (same lid, PreviousVersion
 * = its latest version, same uniqueId, patient, hash, size and repository); the new version is
 * Approved and the previous one Deprecated. Each UpdateAvailabilityStatus association moves a live
 * DocumentEntry (its latest version) or Folder between Approved and Deprecated. Throws XdsFailure.
 */
export async function updateDocumentSet(tx: Db, submissionId: string, metadata: SubmissionMetadata): Promise<void> {
  const statusChanges = metadata.associations.filter((a) => a.type === UPDATE_AVAILABILITY_STATUS);
  const newVersionIds = new Set(metadata.documentEntries.map((d) => d.id));
  // The SubmissionSet's own checks (patient, uniqueId, ids) without the uniqueIds the new versions legitimately share.
  const base = await checkAgainstRegistry(
    tx,
    { ...metadata, documentEntries: [], associations: metadata.associations.filter((a) => !newVersionIds.has(a.targetObject) && !newVersionIds.has(a.sourceObject)) },
    [],
    null,
  );
  const errors = [...base.errors];
  const versions = await planVersions(tx, metadata, errors);
  const changes = await planStatusChanges(tx, metadata, statusChanges, versions.deprecate, errors);
  if (errors.length) throw new XdsFailure(errors);

  const now = dtmNow();
  await insertSubmission(tx, submissionId, metadata, versions.stored, now, versions.versions);
  await applyLifecycle(tx, base.plan, metadata.submissionSet.id, now);
  await setStatus(tx, 'document_entries', versions.deprecate, STATUS.approved, STATUS.deprecated);
  for (const c of changes) await setStatus(tx, c.table, [c.id], c.from, c.to);
}

async function planVersions(tx: Db, metadata: SubmissionMetadata, errors: XdsError[]): Promise<VersionPlan> {
  const plan: VersionPlan = { versions: new Map(), stored: [], deprecate: [] };
  const docs = metadata.documentEntries;
  if (!docs.length) return plan;
  const used = await tx.query<{ entry_uuid: string }>('select entry_uuid from document_entries where entry_uuid = any($1::text[])', [docs.map((d) => d.id)]);
  const usedIds = new Set(used.map((r) => r.entry_uuid));
  const latest = new Map((await tx.query<LatestRow>(LATEST_SQL, [docs.map((d) => d.lid)])).map((r) => [r.logical_id, r]));
  const seenLids = new Set<string>();
  for (const d of docs) {
    const fail = (code: 'XDSMetadataUpdateError' | 'XDSMetadataVersionError' | 'XDSPatientIdDoesNotMatch', message: string): void => {
      errors.push(new XdsError(code, `DocumentEntry '${d.submittedId}': ${message}`, d.submittedId));
    };
    if (d.lid === d.id) {
      fail('XDSMetadataUpdateError', 'a new version must carry the logicalId (lid) of the registered DocumentEntry and an id of its own');
      continue;
    }
    if (usedIds.has(d.id)) fail('XDSMetadataUpdateError', `entryUUID ${d.id} is already used by an object of the registry`);
    if (seenLids.has(d.lid)) fail('XDSMetadataUpdateError', `logicalId ${d.lid} is updated more than once in the submission`);
    seenLids.add(d.lid);
    const previous = latest.get(d.lid);
    if (!previous || previous.deleted) {
      fail('XDSMetadataUpdateError', `no DocumentEntry with logicalId ${d.lid} in the registry`);
      continue;
    }
    const previousVersion = membershipOf(metadata, d.id) && slotValue(membershipOf(metadata, d.id)!.rim.slots, 'PreviousVersion');
    if (previousVersion === undefined) fail('XDSMetadataUpdateError', 'the HasMember association from the SubmissionSet has no PreviousVersion slot');
    else if (previousVersion !== String(previous.version)) {
      fail('XDSMetadataVersionError', `PreviousVersion ${previousVersion} is not the latest version (${previous.version}) of logicalId ${d.lid}`);
    }
    if (previous.status !== STATUS.approved) fail('XDSMetadataUpdateError', `the latest version of logicalId ${d.lid} is Deprecated; only an Approved DocumentEntry is updated`);
    for (const message of unchangeable(d, previous)) fail('XDSMetadataUpdateError', message);
    if (d.patientId !== previous.patient_id) fail('XDSPatientIdDoesNotMatch', `patientId ${d.patientId} differs from the registered ${previous.patient_id}`);
    plan.versions.set(d.id, previous.version + 1);
    plan.deprecate.push(previous.entry_uuid);
    if (previous.content_key) {
      const stored: StoredDocument = { entryId: d.id, uniqueId: d.uniqueId, contentKey: previous.content_key, sha1: previous.hash ?? '', size: Number(previous.size ?? 0), mimeType: d.mimeType };
      // Bytes the registry keeps itself go with the new version.
      if (previous.inline_content) stored.inline = asBuffer(previous.inline_content);
      plan.stored.push(stored);
    }
  }
  return plan;
}

/** Attributes a metadata update may not change: they describe the bytes, which stay the same. */
function unchangeable(d: DocumentEntry, previous: LatestRow): string[] {
  const messages: string[] = [];
  if (d.uniqueId !== previous.unique_id) messages.push(`uniqueId ${d.uniqueId} differs from the registered ${previous.unique_id}`);
  if (previous.hash && d.hash && d.hash.toLowerCase() !== previous.hash.toLowerCase()) messages.push(`hash ${d.hash} differs from the registered ${previous.hash}`);
  if (previous.size !== null && d.size !== undefined && d.size !== String(previous.size)) messages.push(`size ${d.size} differs from the registered ${previous.size}`);
  if (previous.repository_unique_id && d.repositoryUniqueId && d.repositoryUniqueId !== previous.repository_unique_id) {
    messages.push(`repositoryUniqueId ${d.repositoryUniqueId} differs from the registered ${previous.repository_unique_id}`);
  }
  return messages;
}

interface StatusChange {
  table: 'document_entries' | 'folders';
  id: string;
  from: string;
  to: string;
}

async function planStatusChanges(tx: Db, metadata: SubmissionMetadata, associations: Association[], versioned: string[], errors: XdsError[]): Promise<StatusChange[]> {
  if (!associations.length) return [];
  const { objects } = await lookupObjects(tx, associations.map((a) => a.targetObject));
  const latest = await tx.query<{ entry_uuid: string }>(
    `select d.entry_uuid from document_entries d where d.entry_uuid = any($1::text[])
       and d.version = (select max(v.version) from document_entries v where v.logical_id = d.logical_id)`,
    [associations.map((a) => a.targetObject)],
  );
  const latestIds = new Set(latest.map((r) => r.entry_uuid));
  const changes: StatusChange[] = [];
  const seen = new Set<string>();
  for (const a of associations) {
    const fail = (code: 'XDSMetadataUpdateError' | 'XDSPatientIdDoesNotMatch', message: string): void => {
      errors.push(new XdsError(code, `Association '${a.submittedId}': ${message}`, a.submittedId));
    };
    const from = slotValue(a.rim.slots, 'OriginalStatus');
    const to = slotValue(a.rim.slots, 'NewStatus');
    const target = objects.get(a.targetObject);
    if (a.sourceObject !== metadata.submissionSet.id) fail('XDSMetadataUpdateError', 'UpdateAvailabilityStatus must come from the SubmissionSet');
    if (!from || !to) fail('XDSMetadataUpdateError', 'UpdateAvailabilityStatus needs the OriginalStatus and NewStatus slots');
    else if (!STATUSES.has(to)) fail('XDSMetadataUpdateError', `NewStatus ${to} is neither Approved nor Deprecated`);
    if (!target || target.deleted || (target.kind !== 'DocumentEntry' && target.kind !== 'Folder')) {
      fail('XDSMetadataUpdateError', `${a.targetObject} is not a DocumentEntry or Folder of the registry`);
      continue;
    }
    if (seen.has(a.targetObject) || versioned.includes(a.targetObject)) fail('XDSMetadataUpdateError', `${a.targetObject} is updated more than once in the submission`);
    seen.add(a.targetObject);
    if (target.kind === 'DocumentEntry' && !latestIds.has(a.targetObject)) fail('XDSMetadataUpdateError', `${a.targetObject} is not the latest version of its DocumentEntry`);
    if (from && target.status !== from) fail('XDSMetadataUpdateError', `OriginalStatus ${from} is not the current status ${target.status} of ${a.targetObject}`);
    if (target.patientId !== metadata.submissionSet.patientId) {
      fail('XDSPatientIdDoesNotMatch', `${a.targetObject} belongs to patient ${target.patientId ?? ''}, not the SubmissionSet's ${metadata.submissionSet.patientId}`);
    }
    if (from && to) changes.push({ table: target.kind === 'Folder' ? 'folders' : 'document_entries', id: a.targetObject, from, to });
  }
  return changes;
}

/** Moves objects from one status to another; one that moved meanwhile makes the transaction run again. */
async function setStatus(tx: Db, table: 'document_entries' | 'folders', ids: string[], from: string, to: string): Promise<void> {
  if (!ids.length) return;
  const rows = await tx.query(`update ${table} set status = $2 where entry_uuid = any($1::text[]) and status = $3 and deleted_at is null returning entry_uuid`, [ids, to, from]);
  if (rows.length !== ids.length) throw new ConcurrentLifecycleChange('a document changed status during the update');
}
