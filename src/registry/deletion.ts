import { XdsError, XdsFailure } from '../errors.js';
import type { Db } from './db.js';
import { ConcurrentLifecycleChange, lookupObjects, type KnownObject } from './lifecycle.js';

/** Who sends a request, as authentication (SAML/VIHF) established it; empty when nobody is authenticated. */
export interface Caller {
  /** Identifier of the caller's organisation (the IDNST of the VIHF structure). */
  organisationId?: string;
}

export interface DeletionRequest {
  /** entryUUIDs of the objects to remove (lcm:RemoveObjectsRequest ObjectRefs). */
  objectRefs: string[];
  caller: Caller;
  /** DELETE_WITHOUT_CALLER_IDENTITY: no authenticated caller may still delete. */
  allowWithoutCaller: boolean;
  /** wsa:MessageID of the request, kept with the deletion record. */
  messageId?: string;
}

/**
 * The organisation id of an XON author institution: XON.10 (organization identifier), else XON.3
 * (the older ID number component), e.g. `CHU^^^^^&1.2.250.1.71.4.2.2&ISO^IDNST^^^1999000017` → 1999000017.
 */
export function xonOrganisationId(xon: string): string | undefined {
  const parts = xon.split('^');
  const id = parts[9]?.trim() || parts[2]?.trim();
  return id || undefined;
}

/**
 * DMP rule: only the author's organisation deletes a document. Returns the refusal, if any: with an
 * authenticated caller, its organisation must be one of the document authors' institutions; without
 * one, deletion is refused unless `allowWithoutCaller`.
 */
export function deletionRefusal(caller: Caller, authorInstitutions: string[], allowWithoutCaller: boolean, documentId: string): XdsError | undefined {
  if (!caller.organisationId) {
    if (allowWithoutCaller) return undefined;
    return new XdsError(
      'XDSRegistryError',
      `DocumentEntry ${documentId}: no authenticated caller, and only the author's organisation may delete a document (set DELETE_WITHOUT_CALLER_IDENTITY=true to allow deletion without identity)`,
      documentId,
    );
  }
  const organisations = new Set(authorInstitutions.map(xonOrganisationId).filter((id): id is string => id !== undefined));
  if (organisations.has(caller.organisationId)) return undefined;
  return new XdsError(
    'XDSRegistryError',
    `DocumentEntry ${documentId}: organisation ${caller.organisationId} is not an author's organisation of this document; only the author's organisation may delete it`,
    documentId,
  );
}

interface ReferenceRow {
  entry_uuid: string;
  source_uuid: string;
  target_uuid: string;
}

interface DocumentRow {
  entry_uuid: string;
  logical_id: string;
  institutions: string[] | null;
}

const TABLE: Record<KnownObject['kind'], string> = {
  DocumentEntry: 'document_entries',
  Folder: 'folders',
  SubmissionSet: 'submission_sets',
  Association: 'associations',
};

/**
 * ITI-62 in the registry, inside one transaction: every ObjectRef must name a live object
 * (UnresolvedReferenceException), no live association left out of the request may point at one of them
 * (ReferencesExistException), and the caller must be allowed to delete each DocumentEntry. Deletion is
 * logical: `deleted_at` is set on the objects (on every version of a DocumentEntry, and on the
 * associations of its other versions) and each is recorded in `deletions`. Throws XdsFailure.
 */
export async function deleteObjects(tx: Db, request: DeletionRequest): Promise<number> {
  const refs = [...new Set(request.objectRefs)];
  if (!refs.length) throw new XdsFailure([new XdsError('InvalidRequestException', 'lcm:RemoveObjectsRequest names no object (empty ObjectRefList)')]);
  if (!request.caller.organisationId && !request.allowWithoutCaller) {
    throw new XdsFailure([
      new XdsError('XDSRegistryError', "no authenticated caller: only the author's organisation may delete, and deletion without identity is off (DELETE_WITHOUT_CALLER_IDENTITY=false)"),
    ]);
  }
  const { objects } = await lookupObjects(tx, refs);
  const errors: XdsError[] = [];
  for (const id of refs) {
    const o = objects.get(id);
    if (!o || o.deleted) errors.push(new XdsError('UnresolvedReferenceException', `${id} is not an object of the registry`, id));
  }
  if (errors.length) throw new XdsFailure(errors);

  const inRequest = new Set(refs);
  const dangling = await tx.query<ReferenceRow>(
    `select entry_uuid, source_uuid, target_uuid from associations
      where (source_uuid = any($1::text[]) or target_uuid = any($1::text[])) and deleted_at is null and not (entry_uuid = any($1::text[]))`,
    [refs],
  );
  for (const a of dangling) {
    const end = inRequest.has(a.source_uuid) ? a.source_uuid : a.target_uuid;
    errors.push(new XdsError('ReferencesExistException', `association ${a.entry_uuid} refers to ${end} and is not in the request: remove it too`, end));
  }

  const documentIds = refs.filter((id) => objects.get(id)!.kind === 'DocumentEntry');
  const documents = documentIds.length
    ? await tx.query<DocumentRow>(
        `select d.entry_uuid, d.logical_id, (select array_agg(i) from document_entry_authors a, unnest(a.institutions) i where a.entry_uuid = d.entry_uuid) as institutions
           from document_entries d where d.entry_uuid = any($1::text[])`,
        [documentIds],
      )
    : [];
  for (const d of documents) {
    const refusal = deletionRefusal(request.caller, d.institutions ?? [], request.allowWithoutCaller, d.entry_uuid);
    if (refusal) errors.push(refusal);
  }
  if (errors.length) throw new XdsFailure(errors);

  const deleted: { id: string; kind: KnownObject['kind'] }[] = [];
  for (const kind of ['Association', 'Folder', 'SubmissionSet'] as const) {
    const ids = refs.filter((id) => objects.get(id)!.kind === kind);
    if (!ids.length) continue;
    const rows = await tx.query<{ entry_uuid: string }>(
      `update ${TABLE[kind]} set deleted_at = now() where entry_uuid = any($1::text[]) and deleted_at is null returning entry_uuid`,
      [ids],
    );
    if (rows.length !== ids.length) throw new ConcurrentLifecycleChange('an object was deleted by a concurrent request');
    deleted.push(...rows.map((r) => ({ id: r.entry_uuid, kind })));
  }
  if (documents.length) {
    // A document is one logical object: every version goes, with the associations of the versions not named.
    const versions = await tx.query<{ entry_uuid: string }>(
      'update document_entries set deleted_at = now() where logical_id = any($1::text[]) and deleted_at is null returning entry_uuid',
      [documents.map((d) => d.logical_id)],
    );
    if (!documentIds.every((id) => versions.some((v) => v.entry_uuid === id))) throw new ConcurrentLifecycleChange('a document was deleted by a concurrent request');
    deleted.push(...versions.map((r) => ({ id: r.entry_uuid, kind: 'DocumentEntry' as const })));
    const cascaded = await tx.query<{ entry_uuid: string }>(
      `update associations set deleted_at = now() where (source_uuid = any($1::text[]) or target_uuid = any($1::text[])) and deleted_at is null returning entry_uuid`,
      [versions.map((v) => v.entry_uuid)],
    );
    deleted.push(...cascaded.map((r) => ({ id: r.entry_uuid, kind: 'Association' as const })));
  }
  await tx.query(
    `insert into deletions (entry_uuid, object_kind, organisation_id, message_id)
     select r.id, r.kind, $2, $3 from jsonb_to_recordset($1::text::jsonb) as r(id text, kind text)`,
    [JSON.stringify(deleted), request.caller.organisationId ?? null, request.messageId ?? null],
  );
  return deleted.length;
}
