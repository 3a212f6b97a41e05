import type { Author, Code, DocumentEntry, StoredDocument, SubmissionMetadata } from '../ebrim/model.js';
import { rimObjectTemplate } from '../ebrim/serialize.js';
import { ASSOCIATION_TYPE, OBJECT_TYPE, STATUS } from '../ebrim/uuids.js';
import type { Db } from './db.js';
import { documentHash, storedById } from './checks.js';

type Row = Record<string, unknown>;

const AUTHOR_COLUMNS = { entry_uuid: 'text', person: 'text', institutions: 'text[]', roles: 'text[]', specialties: 'text[]' };

/** Every table a submission writes, with the columns and types its JSON rows are read as. */
const TABLES = {
  submission_sets: {
    entry_uuid: 'text',
    unique_id: 'text',
    submission_id: 'text',
    patient_id: 'text',
    source_id: 'text',
    submission_time: 'text',
    content_type_code: 'text',
    content_type_scheme: 'text',
    status: 'text',
    rim: 'jsonb',
    leaf_xml: 'text',
  },
  submission_set_authors: AUTHOR_COLUMNS,
  document_entries: {
    entry_uuid: 'text',
    logical_id: 'text',
    version: 'int',
    unique_id: 'text',
    patient_id: 'text',
    status: 'text',
    object_type: 'text',
    mime_type: 'text',
    hash: 'text',
    size: 'bigint',
    repository_unique_id: 'text',
    content_key: 'text',
    class_code: 'text',
    class_scheme: 'text',
    type_code: 'text',
    type_scheme: 'text',
    format_code: 'text',
    format_scheme: 'text',
    practice_setting_code: 'text',
    practice_setting_scheme: 'text',
    healthcare_facility_type_code: 'text',
    healthcare_facility_type_scheme: 'text',
    creation_time: 'text',
    service_start_time: 'text',
    service_stop_time: 'text',
    language_code: 'text',
    title: 'text',
    submission_set_uuid: 'text',
    rim: 'jsonb',
    leaf_xml: 'text',
    // bytea from JSON text in its hex input form (\x...).
    inline_content: 'bytea',
  },
  document_entry_codes: { entry_uuid: 'text', kind: 'text', code: 'text', scheme: 'text' },
  document_entry_authors: AUTHOR_COLUMNS,
  folders: { entry_uuid: 'text', unique_id: 'text', patient_id: 'text', status: 'text', last_update_time: 'text', rim: 'jsonb', leaf_xml: 'text' },
  folder_codes: { entry_uuid: 'text', code: 'text', scheme: 'text' },
  associations: {
    entry_uuid: 'text',
    association_type: 'text',
    source_uuid: 'text',
    target_uuid: 'text',
    status: 'text',
    submission_set_uuid: 'text',
    rim: 'jsonb',
    leaf_xml: 'text',
  },
} satisfies Record<string, Record<string, string>>;

type Table = keyof typeof TABLES;
type SubmissionRows = Record<Table, Row[]> & { touched_folders: string[] };

/**
 * The whole submission in one statement and one round trip: the rows travel as a single JSON parameter,
 * each table's rows spread into columns by jsonb_to_recordset (text[] and jsonb included), and existing
 * folders that receive a document are stamped with `$2`. The SQL is built once from the constant table list.
 */
const INSERT_SQL = [
  'with input as materialized (select $1::text::jsonb as j)',
  ...Object.entries(TABLES).map(([table, columns]) => {
    const names = Object.keys(columns);
    const defs = names.map((n) => `${n} ${(columns as Record<string, string>)[n]}`).join(', ');
    return `, ins_${table} as (insert into ${table} (${names.join(', ')}) select * from jsonb_to_recordset((select j -> '${table}' from input)) as r(${defs}))`;
  }),
  `, touch as (update folders set last_update_time = $2 where entry_uuid in (select jsonb_array_elements_text((select j -> 'touched_folders' from input))))`,
  'select 1 as done',
].join('\n');

/** Current UTC time as an XDS DTM (YYYYMMDDhhmmss). */
export const dtmNow = (now = new Date()): string => now.toISOString().replace(/[-:T]/g, '').slice(0, 14);

const code = (c: Code | undefined): [string | null, string | null] => [c?.code ?? null, c?.codingScheme ?? null];

const authorRows = (entryUuid: string, authors: Author[]): Row[] =>
  authors.map((a) => ({ entry_uuid: entryUuid, person: a.person ?? null, institutions: a.institutions, roles: a.roles, specialties: a.specialties }));

const codeRows = (entryUuid: string, kind: 'event' | 'confidentiality', codes: Code[]): Row[] =>
  codes.map((c) => ({ entry_uuid: entryUuid, kind, code: c.code, scheme: c.codingScheme }));

function documentRow(d: DocumentEntry, stored: StoredDocument | undefined, hash: string | null, submissionSetUuid: string, version: number): Row {
  const [classCode, classScheme] = code(d.classCode);
  const [typeCode, typeScheme] = code(d.typeCode);
  const [formatCode, formatScheme] = code(d.formatCode);
  const [practiceCode, practiceScheme] = code(d.practiceSettingCode);
  const [facilityCode, facilityScheme] = code(d.healthcareFacilityTypeCode);
  const submittedSize = d.size !== undefined && /^[0-9]{1,15}$/.test(d.size) ? Number(d.size) : null;
  return {
    entry_uuid: d.id,
    logical_id: d.lid || d.id,
    version,
    unique_id: d.uniqueId,
    patient_id: d.patientId,
    status: STATUS.approved,
    object_type: d.entryType === 'on-demand' ? OBJECT_TYPE.onDemandDocumentEntry : OBJECT_TYPE.stableDocumentEntry,
    mime_type: stored?.mimeType ?? d.mimeType,
    hash,
    size: stored?.size ?? submittedSize,
    repository_unique_id: d.repositoryUniqueId ?? null,
    content_key: stored?.contentKey ?? null,
    class_code: classCode,
    class_scheme: classScheme,
    type_code: typeCode,
    type_scheme: typeScheme,
    format_code: formatCode,
    format_scheme: formatScheme,
    practice_setting_code: practiceCode,
    practice_setting_scheme: practiceScheme,
    healthcare_facility_type_code: facilityCode,
    healthcare_facility_type_scheme: facilityScheme,
    creation_time: d.creationTime ?? null,
    service_start_time: d.serviceStartTime ?? null,
    service_stop_time: d.serviceStopTime ?? null,
    language_code: d.languageCode ?? null,
    title: d.title ?? null,
    submission_set_uuid: submissionSetUuid,
    rim: d.rim,
    leaf_xml: rimObjectTemplate(d.rim),
    inline_content: stored?.inline === undefined ? null : `\\x${stored.inline.toString('hex')}`,
  };
}

/**
 * Writes a checked submission: every object Approved, documents with the repository's facts
 * (content key, hash, size, mime type), folders stamped with `now`, and existing folders that
 * receive a document in this submission stamped too. `versions` gives the version of DocumentEntries
 * that update a registered one (ITI-57); the others are version 1. Every object is stored with its LeafClass
 * template (rimObjectTemplate), which stored queries complete instead of re-rendering `rim`. Run inside the commit transaction.
 */
export async function insertSubmission(
  tx: Db,
  submissionId: string,
  metadata: SubmissionMetadata,
  stored: StoredDocument[],
  now: string,
  versions: Map<string, number> = new Map(),
): Promise<void> {
  const rows = submissionRows(submissionId, metadata, stored, now, versions);
  await tx.query(INSERT_SQL, [JSON.stringify(rows), now], { prepare: true });
}

function submissionRows(submissionId: string, metadata: SubmissionMetadata, stored: StoredDocument[], now: string, versions: Map<string, number>): SubmissionRows {
  const { submissionSet: ss, documentEntries: docs, folders, associations } = metadata;
  const byId = storedById(stored);
  const [contentTypeCode, contentTypeScheme] = code(ss.contentTypeCode);
  const newContainers = new Set([ss.id, ...folders.map((f) => f.id)]);
  return {
    submission_sets: [
      {
        entry_uuid: ss.id,
        unique_id: ss.uniqueId,
        submission_id: submissionId,
        patient_id: ss.patientId,
        source_id: ss.sourceId,
        submission_time: ss.submissionTime ?? null,
        content_type_code: contentTypeCode,
        content_type_scheme: contentTypeScheme,
        status: STATUS.approved,
        rim: ss.rim,
        leaf_xml: rimObjectTemplate(ss.rim),
      },
    ],
    submission_set_authors: authorRows(ss.id, ss.authors),
    document_entries: docs.map((d) => documentRow(d, byId.get(d.id), documentHash(d.id, d.hash, byId), ss.id, versions.get(d.id) ?? 1)),
    document_entry_codes: docs.flatMap((d) => [...codeRows(d.id, 'event', d.eventCodes), ...codeRows(d.id, 'confidentiality', d.confidentialityCodes)]),
    document_entry_authors: docs.flatMap((d) => authorRows(d.id, d.authors)),
    folders: folders.map((f) => ({ entry_uuid: f.id, unique_id: f.uniqueId, patient_id: f.patientId, status: STATUS.approved, last_update_time: now, rim: f.rim, leaf_xml: rimObjectTemplate(f.rim) })),
    folder_codes: folders.flatMap((f) => f.codeList.map((c) => ({ entry_uuid: f.id, code: c.code, scheme: c.codingScheme }))),
    associations: associations.map((a) => ({
      entry_uuid: a.id,
      association_type: a.type,
      source_uuid: a.sourceObject,
      target_uuid: a.targetObject,
      status: STATUS.approved,
      submission_set_uuid: ss.id,
      rim: a.rim,
      leaf_xml: rimObjectTemplate(a.rim),
    })),
    // HasMember from an object already registered: a folder of the registry receiving a document.
    touched_folders: [
      ...new Set(associations.filter((a) => a.type === ASSOCIATION_TYPE.hasMember && !newContainers.has(a.sourceObject)).map((a) => a.sourceObject)),
    ],
  };
}
