import type { RimObject } from '../ebrim/model.js';
import { ASSOCIATION_TYPE, DOCUMENT_ENTRY_SCHEME } from '../ebrim/uuids.js';
import type { Db } from '../registry/db.js';
import { SIGNATURE_ENTRY } from '../signature/dsg.js';

/** A coded value as the console shows it. */
export interface ShownCode {
  code: string;
  scheme: string;
  display?: string;
}

/** What the console lists of a DocumentEntry. */
export interface DocumentSummary {
  entryUuid: string;
  uniqueId: string;
  patientId: string;
  status: 'approved' | 'deprecated' | 'other';
  title: string | null;
  mimeType: string;
  creationTime: string | null;
  classCode?: ShownCode;
  typeCode?: ShownCode;
  /** An IHE DSG signature document: shown as the signature status of what it signs, not in lists. */
  isSignature: boolean;
  confidentiality: ShownCode[];
  /** Author persons (XCN) and institutions (XON), as submitted. */
  authors: { person: string | null; institutions: string[] }[];
  version: number;
}

interface SummaryRow {
  entry_uuid: string;
  unique_id: string;
  patient_id: string;
  status: string;
  title: string | null;
  mime_type: string;
  creation_time: string | null;
  class_code: string | null;
  class_scheme: string | null;
  type_code: string | null;
  type_scheme: string | null;
  format_code: string | null;
  version: number;
  rim: RimObject;
  authors: { person: string | null; institutions: string[] }[] | null;
  confidentiality: { code: string; scheme: string }[] | null;
}

const STATUS_SUFFIX = { Approved: 'approved', Deprecated: 'deprecated' } as const;

/** Summaries of these DocumentEntries (by entryUUID), newest creation first. */
export async function documentSummaries(db: Db, entryUuids: string[]): Promise<DocumentSummary[]> {
  if (!entryUuids.length) return [];
  const rows = await db.query<SummaryRow>(
    `select d.entry_uuid, d.unique_id, d.patient_id, d.status, d.title, d.mime_type, d.creation_time, d.class_code, d.class_scheme,
        d.type_code, d.type_scheme, d.format_code, d.version, d.rim,
        (select json_agg(json_build_object('person', a.person, 'institutions', a.institutions)) from document_entry_authors a where a.entry_uuid = d.entry_uuid) as authors,
        (select json_agg(json_build_object('code', c.code, 'scheme', c.scheme)) from document_entry_codes c
          where c.entry_uuid = d.entry_uuid and c.kind = 'confidentiality') as confidentiality
       from document_entries d where d.entry_uuid = any($1::text[]) and d.deleted_at is null
      order by d.creation_time desc nulls last, d.unique_id`,
    [entryUuids],
  );
  return rows.map((r) => ({
    entryUuid: r.entry_uuid,
    uniqueId: r.unique_id,
    patientId: r.patient_id,
    status: STATUS_SUFFIX[r.status.split(':').pop() as keyof typeof STATUS_SUFFIX] ?? 'other',
    title: r.title,
    mimeType: r.mime_type,
    creationTime: r.creation_time,
    classCode: shownCode(r.rim, DOCUMENT_ENTRY_SCHEME.classCode, r.class_code, r.class_scheme),
    typeCode: shownCode(r.rim, DOCUMENT_ENTRY_SCHEME.typeCode, r.type_code, r.type_scheme),
    isSignature: r.format_code === SIGNATURE_ENTRY.formatCode.code,
    confidentiality: (r.confidentiality ?? []).map((c) => ({ ...c, display: displayName(r.rim, DOCUMENT_ENTRY_SCHEME.confidentialityCode, c.code) })),
    authors: r.authors ?? [],
    version: r.version,
  }));
}

function shownCode(rim: RimObject, scheme: string, code: string | null, codingScheme: string | null): ShownCode | undefined {
  if (!code) return undefined;
  return { code, scheme: codingScheme ?? '', display: displayName(rim, scheme, code) };
}

/** The display name the submitter gave a code (the classification's Name). */
function displayName(rim: RimObject, scheme: string, code: string): string | undefined {
  const c = rim.classifications?.find((x) => x.classificationScheme === scheme && x.nodeRepresentation === code);
  return c?.name?.[0]?.value || undefined;
}

/** A document's entryUUID and patient by uniqueId (latest version, not deleted). */
export async function documentByUniqueId(db: Db, uniqueId: string): Promise<{ entryUuid: string; patientId: string } | undefined> {
  const [row] = await db.query<{ entry_uuid: string; patient_id: string }>(
    'select entry_uuid, patient_id from document_entries where unique_id = $1 and deleted_at is null order by version desc limit 1',
    [uniqueId],
  );
  return row ? { entryUuid: row.entry_uuid, patientId: row.patient_id } : undefined;
}

/** One link of a replacement chain: `replaced` was replaced by `by` (RPLC or XFRM_RPLC). */
export interface Replacement {
  replaced: string;
  by: string;
  type: 'RPLC' | 'XFRM_RPLC';
}

/**
 * The replacement history around a document: every RPLC / XFRM_RPLC association reachable from it, towards
 * the documents it replaced and those that replaced it, by entryUUID.
 */
export async function replacementChain(db: Db, entryUuid: string): Promise<Replacement[]> {
  const rows = await db.query<{ source_uuid: string; target_uuid: string; association_type: string }>(
    `with recursive chain(source_uuid, target_uuid, association_type) as (
        select a.source_uuid, a.target_uuid, a.association_type from associations a
         where a.association_type = any($2::text[]) and a.deleted_at is null and (a.source_uuid = $1 or a.target_uuid = $1)
        union
        select a.source_uuid, a.target_uuid, a.association_type from associations a join chain c
          on a.source_uuid in (c.source_uuid, c.target_uuid) or a.target_uuid in (c.source_uuid, c.target_uuid)
         where a.association_type = any($2::text[]) and a.deleted_at is null
      ) select source_uuid, target_uuid, association_type from chain`,
    [entryUuid, [ASSOCIATION_TYPE.replace, ASSOCIATION_TYPE.transformAndReplace]],
  );
  return rows.map((r) => ({ replaced: r.target_uuid, by: r.source_uuid, type: r.association_type === ASSOCIATION_TYPE.replace ? 'RPLC' : 'XFRM_RPLC' }));
}

/** Which of these documents (by uniqueId) are IHE DSG signature documents. */
export async function signatureDocuments(db: Db, uniqueIds: string[]): Promise<Set<string>> {
  if (!uniqueIds.length) return new Set();
  const rows = await db.query<{ unique_id: string }>('select distinct unique_id from document_entries where unique_id = any($1::text[]) and format_code = $2', [
    uniqueIds,
    SIGNATURE_ENTRY.formatCode.code,
  ]);
  return new Set(rows.map((r) => r.unique_id));
}

/**
 * The class and type codes of these DocumentEntries (signature documents left out), with the display names
 * their submitters gave, for the search form. Read in the database: a patient may have thousands of documents.
 */
export async function codeChoices(db: Db, entryUuids: string[]): Promise<{ classCodes: ShownCode[]; typeCodes: ShownCode[] }> {
  if (!entryUuids.length) return { classCodes: [], typeCodes: [] };
  const rows = await db.query<{ kind: 'class' | 'type'; code: string; scheme: string | null; display: string | null }>(
    `select distinct k.kind, k.code, k.scheme,
        (select c->'name'->0->>'value' from jsonb_array_elements(d.rim->'classifications') c
          where c->>'classificationScheme' = k.classification and c->>'nodeRepresentation' = k.code limit 1) as display
       from document_entries d
       cross join lateral (values ('class', d.class_code, d.class_scheme, $2::text), ('type', d.type_code, d.type_scheme, $3::text)) as k(kind, code, scheme, classification)
      where d.entry_uuid = any($1::text[]) and d.deleted_at is null and k.code is not null and d.format_code is distinct from $4`,
    [entryUuids, DOCUMENT_ENTRY_SCHEME.classCode, DOCUMENT_ENTRY_SCHEME.typeCode, SIGNATURE_ENTRY.formatCode.code],
  );
  const codes = (kind: 'class' | 'type'): ShownCode[] => {
    const byKey = new Map<string, ShownCode>();
    for (const r of rows) {
      if (r.kind !== kind || byKey.has(`${r.code}^^${r.scheme ?? ''}`)) continue;
      byKey.set(`${r.code}^^${r.scheme ?? ''}`, { code: r.code, scheme: r.scheme ?? '', display: r.display ?? undefined });
    }
    return [...byKey.values()].sort((a, b) => (a.display ?? a.code).localeCompare(b.display ?? b.code));
  };
  return { classCodes: codes('class'), typeCodes: codes('type') };
}
