import { randomUUID } from 'node:crypto';
import type { Association, RimObject, SubmissionMetadata } from '../ebrim/model.js';
import { ASSOCIATION_TYPE, OBJECT_TYPE, STATUS } from '../ebrim/uuids.js';
import { XdsError } from '../errors.js';
import type { Db } from './db.js';

/** What a committed submission changes besides its own rows (ITI TF-3 §4.2.2). */
export interface LifecyclePlan {
  /** DocumentEntries that RPLC / XFRM_RPLC deprecate. */
  deprecate: string[];
  /** HasMember a replacement gets from each folder its original belongs to. */
  folderMemberships: { folder: string; document: string }[];
}

export const EMPTY_PLAN: LifecyclePlan = { deprecate: [], folderMemberships: [] };

/** The document relationships of ITI TF-3 §4.2.2.2: source a new DocumentEntry, target a registered one. */
const RELATIONSHIPS = new Set<string>([ASSOCIATION_TYPE.replace, ASSOCIATION_TYPE.append, ASSOCIATION_TYPE.transform, ASSOCIATION_TYPE.transformAndReplace]);
const REPLACING = new Set<string>([ASSOCIATION_TYPE.replace, ASSOCIATION_TYPE.transformAndReplace]);

export type ObjectKind = 'DocumentEntry' | 'Folder' | 'SubmissionSet' | 'Association';

/** A registry object as lifecycle rules see it. */
export interface KnownObject {
  kind: ObjectKind;
  id: string;
  patientId: string | null;
  status: string;
  deleted: boolean;
}

interface ObjectRow {
  kind: ObjectKind | 'membership';
  id: string;
  patient_id: string | null;
  status: string | null;
  deleted: boolean;
  member: string | null;
}

// Objects referenced by the submission, and the live folders holding each document it replaces.
const LOOKUP_SQL = `
select 'DocumentEntry' as kind, entry_uuid as id, patient_id, status, deleted_at is not null as deleted, null::text as member from document_entries where entry_uuid = any($1::text[])
union all select 'Folder', entry_uuid, patient_id, status, deleted_at is not null, null from folders where entry_uuid = any($1::text[])
union all select 'SubmissionSet', entry_uuid, patient_id, status, deleted_at is not null, null from submission_sets where entry_uuid = any($1::text[])
union all select 'Association', entry_uuid, null, status, deleted_at is not null, null from associations where entry_uuid = any($1::text[])
union all select 'membership', a.source_uuid, null, null, false, a.target_uuid from associations a join folders f on f.entry_uuid = a.source_uuid
  where a.target_uuid = any($2::text[]) and a.association_type = '${ASSOCIATION_TYPE.hasMember}' and a.deleted_at is null and f.deleted_at is null`;

/** Registry objects by id, deleted ones included (flagged), with the folders of `membersOf` documents. */
export async function lookupObjects(db: Db, ids: string[], membersOf: string[] = []): Promise<{ objects: Map<string, KnownObject>; folders: Map<string, string[]> }> {
  const objects = new Map<string, KnownObject>();
  const folders = new Map<string, string[]>();
  if (!ids.length && !membersOf.length) return { objects, folders };
  const rows = await db.query<ObjectRow>(LOOKUP_SQL, [ids, membersOf], { prepare: true });
  for (const r of rows) {
    if (r.kind === 'membership') {
      const list = folders.get(r.member!) ?? [];
      list.push(r.id);
      folders.set(r.member!, list);
    } else {
      objects.set(r.id, { kind: r.kind, id: r.id, patientId: r.patient_id, status: r.status ?? '', deleted: r.deleted });
    }
  }
  return { objects, folders };
}

interface SubmittedObject {
  kind: ObjectKind;
  patientId: string | null;
}

/**
 * The lifecycle rules of a submission against the registry: every reference resolves to a live object;
 * RPLC, APND, XFRM and XFRM_RPLC target an Approved DocumentEntry of the same patient, each replaced once;
 * a HasMember from a Folder links a DocumentEntry of the folder's patient and is itself a member of the
 * SubmissionSet. Returns every error and, when there are none to act on, what the commit must change.
 */
export async function checkLifecycle(db: Db, metadata: SubmissionMetadata): Promise<{ errors: XdsError[]; plan: LifecyclePlan }> {
  const { submissionSet: ss, documentEntries, folders, associations } = metadata;
  const submitted = new Map<string, SubmittedObject>([
    [ss.id, { kind: 'SubmissionSet', patientId: ss.patientId }],
    ...documentEntries.map((d) => [d.id, { kind: 'DocumentEntry', patientId: d.patientId }] as const),
    ...folders.map((f) => [f.id, { kind: 'Folder', patientId: f.patientId }] as const),
    ...associations.map((a) => [a.id, { kind: 'Association', patientId: null }] as const),
  ]);
  const references = [...new Set(associations.flatMap((a) => [a.sourceObject, a.targetObject]))].filter((id) => !submitted.has(id));
  const replaced = associations.filter((a) => REPLACING.has(a.type) && !submitted.has(a.targetObject)).map((a) => a.targetObject);
  const { objects, folders: foldersOf } = await lookupObjects(db, references, replaced);

  const errors: XdsError[] = [];
  const resolve = (id: string): SubmittedObject | KnownObject | undefined => {
    const own = submitted.get(id);
    if (own) return own;
    const known = objects.get(id);
    return known && !known.deleted ? known : undefined;
  };
  for (const a of associations) {
    for (const end of new Set([a.sourceObject, a.targetObject])) {
      if (!resolve(end)) {
        errors.push(new XdsError('UnresolvedReferenceException', `Association ${a.submittedId} refers to ${end}, which is neither in the submission nor in the registry`, a.submittedId));
      }
    }
  }

  const plan: LifecyclePlan = { deprecate: [], folderMemberships: [] };
  const replacedBy = new Map<string, string>();
  const hasMemberTargets = new Set(associations.filter((a) => a.type === ASSOCIATION_TYPE.hasMember && a.sourceObject === ss.id).map((a) => a.targetObject));
  for (const a of associations) {
    const source = resolve(a.sourceObject);
    const target = resolve(a.targetObject);
    if (!source || !target) continue;
    if (RELATIONSHIPS.has(a.type)) checkRelationship(a, source, target, objects.get(a.targetObject), errors);
    if (REPLACING.has(a.type) && target.kind === 'DocumentEntry' && !submitted.has(a.targetObject)) {
      const first = replacedBy.get(a.targetObject);
      if (first !== undefined) {
        errors.push(new XdsError('XDSReplaceFailed', `Association ${a.submittedId}: DocumentEntry ${a.targetObject} is already replaced by association ${first} of this submission`, a.submittedId));
      } else {
        replacedBy.set(a.targetObject, a.submittedId);
        plan.deprecate.push(a.targetObject);
        for (const folder of foldersOf.get(a.targetObject) ?? []) plan.folderMemberships.push({ folder, document: a.sourceObject });
      }
    }
    if (a.type === ASSOCIATION_TYPE.hasMember && a.sourceObject !== ss.id) checkFolderMembership(a, source, target, hasMemberTargets, errors);
  }
  plan.folderMemberships = withoutSubmitted(plan.folderMemberships, associations);
  return { errors, plan };
}

function checkRelationship(a: Association, source: SubmittedObject | KnownObject, target: SubmittedObject | KnownObject, known: KnownObject | undefined, errors: XdsError[]): void {
  const name = a.type.split(':').pop();
  if (target.kind !== 'DocumentEntry') {
    const code = REPLACING.has(a.type) ? 'XDSReplaceFailed' : 'XDSRegistryMetadataError';
    errors.push(new XdsError(code, `Association ${a.submittedId}: the target of ${name} must be a DocumentEntry, ${a.targetObject} is a ${target.kind}`, a.submittedId));
    return;
  }
  if (known && known.status !== STATUS.approved) {
    errors.push(new XdsError('XDSRegistryDeprecatedDocumentError', `Association ${a.submittedId}: ${name} targets DocumentEntry ${a.targetObject}, which is Deprecated`, a.submittedId));
  }
  if (source.patientId && target.patientId && source.patientId !== target.patientId) {
    errors.push(
      new XdsError('XDSPatientIdDoesNotMatch', `Association ${a.submittedId}: ${name} links patient ${source.patientId} to DocumentEntry ${a.targetObject} of patient ${target.patientId}`, a.submittedId),
    );
  }
}

/** ITI TF-3 §4.2.2.1.2: Folder → DocumentEntry, same patient, the association a member of the SubmissionSet. */
function checkFolderMembership(a: Association, source: SubmittedObject | KnownObject, target: SubmittedObject | KnownObject, ssMembers: Set<string>, errors: XdsError[]): void {
  if (source.kind !== 'Folder' || target.kind !== 'DocumentEntry') {
    errors.push(new XdsError('XDSRegistryMetadataError', `Association ${a.submittedId}: a HasMember not from the SubmissionSet must go from a Folder to a DocumentEntry (found ${source.kind} to ${target.kind})`, a.submittedId));
    return;
  }
  if (!ssMembers.has(a.id)) {
    errors.push(new XdsError('XDSRegistryMetadataError', `Association ${a.submittedId}: adding a document to a folder needs a HasMember from the SubmissionSet to this association`, a.submittedId));
  }
  if (source.patientId && target.patientId && source.patientId !== target.patientId) {
    errors.push(new XdsError('XDSPatientIdDoesNotMatch', `Association ${a.submittedId}: Folder ${a.sourceObject} of patient ${source.patientId} cannot hold a document of patient ${target.patientId}`, a.submittedId));
  }
}

function withoutSubmitted(memberships: LifecyclePlan['folderMemberships'], associations: Association[]): LifecyclePlan['folderMemberships'] {
  const present = new Set(associations.filter((a) => a.type === ASSOCIATION_TYPE.hasMember).map((a) => `${a.sourceObject} ${a.targetObject}`));
  return memberships.filter((m) => !present.has(`${m.folder} ${m.document}`));
}

/** A concurrent commit changed a document this one relies on: SQLSTATE 40001 makes the commit run again. */
export class ConcurrentLifecycleChange extends Error {
  readonly code = '40001';
  constructor(message: string) {
    super(message);
    this.name = 'ConcurrentLifecycleChange';
  }
}

const hasMemberRim = (id: string, sourceObject: string, targetObject: string): RimObject => ({
  kind: 'Association',
  id,
  objectType: OBJECT_TYPE.association,
  associationType: ASSOCIATION_TYPE.hasMember,
  sourceObject,
  targetObject,
  name: [],
  description: [],
  slots: [],
  classifications: [],
  externalIdentifiers: [],
});

const ADD_MEMBERSHIPS_SQL = `
with input as materialized (select $1::text::jsonb as j),
ins as (insert into associations (entry_uuid, association_type, source_uuid, target_uuid, status, submission_set_uuid, rim)
  select r.entry_uuid, '${ASSOCIATION_TYPE.hasMember}', r.source_uuid, r.target_uuid, '${STATUS.approved}', $2, r.rim
  from jsonb_to_recordset((select j from input)) as r(entry_uuid text, source_uuid text, target_uuid text, rim jsonb))
update folders set last_update_time = $3 where entry_uuid in (select r.source_uuid from jsonb_to_recordset((select j from input)) as r(source_uuid text))`;

/**
 * Carries out a checked plan inside the commit transaction: originals deprecated (only if still
 * Approved: a concurrent replacement makes the commit run again and then fail its checks), and the
 * replacements added to their originals' folders, which are stamped `now`.
 */
export async function applyLifecycle(tx: Db, plan: LifecyclePlan, submissionSetId: string, now: string): Promise<void> {
  if (plan.deprecate.length) {
    const rows = await tx.query<{ entry_uuid: string }>(
      'update document_entries set status = $2 where entry_uuid = any($1::text[]) and status = $3 and deleted_at is null returning entry_uuid',
      [plan.deprecate, STATUS.deprecated, STATUS.approved],
    );
    if (rows.length !== new Set(plan.deprecate).size) throw new ConcurrentLifecycleChange('a replaced document changed status during the commit');
  }
  if (plan.folderMemberships.length) {
    const rows = plan.folderMemberships.map((m) => {
      const id = `urn:uuid:${randomUUID()}`;
      return { entry_uuid: id, source_uuid: m.folder, target_uuid: m.document, rim: hasMemberRim(id, m.folder, m.document) };
    });
    await tx.query(ADD_MEMBERSHIPS_SQL, [JSON.stringify(rows), submissionSetId, now]);
  }
}
