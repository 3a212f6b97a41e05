import type { StoredDocument, SubmissionMetadata } from '../ebrim/model.js';
import { XdsError } from '../errors.js';
import type { Db } from './db.js';
import { checkLifecycle, EMPTY_PLAN, type LifecyclePlan } from './lifecycle.js';

export interface SubmissionCheck {
  /** A submission with this id is already in the registry (a retried commit). */
  committed: boolean;
  errors: XdsError[];
  /** What the commit changes in registered objects (deprecations, folder memberships). */
  plan: LifecyclePlan;
}

type FoundKind = 'submission' | 'patient' | 'document' | 'submissionSet' | 'folder' | 'object';

interface Found {
  kind: FoundKind;
  key: string;
  hash: string | null;
}

// One round trip answers every question the checks ask of the registry.
const CHECK_SQL = `
select 'submission' as kind, submission_id as key, null::text as hash from submission_sets where submission_id = $1
union all select 'patient', patient_id, null from patients where patient_id = any($2::text[])
union all select 'document', unique_id, hash from document_entries where unique_id = any($3::text[])
union all select 'submissionSet', unique_id, null from submission_sets where unique_id = $4
union all select 'folder', unique_id, null from folders where unique_id = any($5::text[])
union all select 'object', entry_uuid, null from document_entries where entry_uuid = any($6::text[])
union all select 'object', entry_uuid, null from submission_sets where entry_uuid = any($6::text[])
union all select 'object', entry_uuid, null from folders where entry_uuid = any($6::text[])
union all select 'object', entry_uuid, null from associations where entry_uuid = any($6::text[])`;

/** The hash the registry will record for a DocumentEntry: the repository's, else the submitted one. */
export function documentHash(entryId: string, submittedHash: string | undefined, stored: Map<string, StoredDocument>): string | null {
  const hash = stored.get(entryId)?.sha1 ?? submittedHash;
  return hash ? hash.toLowerCase() : null;
}

export const storedById = (stored: StoredDocument[]): Map<string, StoredDocument> => new Map(stored.map((s) => [s.entryId, s]));

/**
 * Checks a submission against the registry's content, collecting every error: unknown patients, uniqueIds
 * already registered (or repeated in the message), entryUUIDs already used, and the lifecycle rules of its
 * associations (ends that resolve to live objects, RPLC/APND/XFRM targets, folder memberships).
 */
export async function checkAgainstRegistry(
  db: Db,
  metadata: SubmissionMetadata,
  stored: StoredDocument[],
  submissionId: string | null,
): Promise<SubmissionCheck> {
  const { submissionSet: ss, documentEntries: docs, folders, associations } = metadata;
  const objects = [ss, ...docs, ...folders, ...associations];
  const inSubmission = new Set(objects.map((o) => o.id));
  const patientIds = [...new Set([ss.patientId, ...docs.map((d) => d.patientId), ...folders.map((f) => f.patientId)])];

  const rows = await db.query<Found>(
    CHECK_SQL,
    [submissionId, patientIds, docs.map((d) => d.uniqueId), ss.uniqueId, folders.map((f) => f.uniqueId), [...inSubmission]],
    { prepare: true },
  );
  const found = (kind: FoundKind): Map<string, Found> => new Map(rows.filter((r) => r.kind === kind).map((r) => [r.key, r]));
  if (rows.some((r) => r.kind === 'submission')) return { committed: true, errors: [], plan: EMPTY_PLAN };

  const errors: XdsError[] = [];
  const knownPatients = found('patient');
  for (const pid of patientIds) {
    if (!knownPatients.has(pid)) errors.push(new XdsError('XDSUnknownPatientId', `patient id ${pid} is not known to the registry`, pid));
  }

  const duplicated = new Set<string>();
  if (found('submissionSet').has(ss.uniqueId)) {
    errors.push(new XdsError('XDSDuplicateUniqueIdInRegistry', `SubmissionSet uniqueId ${ss.uniqueId} is already registered`, ss.submittedId));
    duplicated.add(ss.id);
  }

  const existingDocs = found('document');
  const byId = storedById(stored);
  const seenUniqueIds = new Set<string>();
  for (const d of docs) {
    if (seenUniqueIds.has(d.uniqueId)) {
      errors.push(new XdsError('XDSRegistryDuplicateUniqueIdInMessage', `DocumentEntry uniqueId ${d.uniqueId} appears more than once in the submission`, d.submittedId));
    }
    seenUniqueIds.add(d.uniqueId);
    const existing = existingDocs.get(d.uniqueId);
    if (!existing) continue;
    duplicated.add(d.id);
    const hash = documentHash(d.id, d.hash, byId);
    if (existing.hash && hash && existing.hash.toLowerCase() !== hash) {
      errors.push(new XdsError('XDSNonIdenticalHash', `DocumentEntry uniqueId ${d.uniqueId} is already registered for a document with a different hash`, d.submittedId));
    } else {
      errors.push(new XdsError('XDSDuplicateUniqueIdInRegistry', `DocumentEntry uniqueId ${d.uniqueId} is already registered`, d.submittedId));
    }
  }

  const existingFolders = found('folder');
  const seenFolderIds = new Set<string>();
  for (const f of folders) {
    if (seenFolderIds.has(f.uniqueId)) {
      errors.push(new XdsError('XDSRegistryDuplicateUniqueIdInMessage', `Folder uniqueId ${f.uniqueId} appears more than once in the submission`, f.submittedId));
    }
    seenFolderIds.add(f.uniqueId);
    if (existingFolders.has(f.uniqueId)) {
      errors.push(new XdsError('XDSDuplicateUniqueIdInRegistry', `Folder uniqueId ${f.uniqueId} is already registered`, f.submittedId));
      duplicated.add(f.id);
    }
  }

  const existingObjects = found('object');
  const seenIds = new Set<string>();
  for (const o of objects) {
    if (seenIds.has(o.id)) errors.push(new XdsError('XDSRegistryMetadataError', `entryUUID ${o.id} is used by more than one object of the submission`, o.submittedId));
    seenIds.add(o.id);
    if (existingObjects.has(o.id) && !duplicated.has(o.id)) {
      errors.push(new XdsError('XDSRegistryMetadataError', `entryUUID ${o.id} is already used by an object of the registry`, o.submittedId));
    }
  }

  const lifecycle = await checkLifecycle(db, metadata);
  errors.push(...lifecycle.errors);
  return { committed: false, errors, plan: lifecycle.plan };
}
