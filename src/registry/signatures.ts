import { asBuffer, type Db } from './db.js';

/** A document entry as the DSG verification sees it: its bytes and the submission set it came in. */
export interface SignedEntry {
  entryUuid: string;
  uniqueId: string;
  contentKey: string | null;
  formatCode: string | null;
  submissionSetUuid: string;
  submissionSetUniqueId: string;
  /** The bytes, when the registry keeps them itself (the gateway's DSG signatures). */
  inline?: Buffer;
}

interface EntryRow {
  entry_uuid: string;
  unique_id: string;
  content_key: string | null;
  format_code: string | null;
  submission_set_uuid: string;
  submission_set_unique_id: string;
  inline_content: Uint8Array | null;
}

const COLUMNS = `d.entry_uuid, d.unique_id, d.content_key, d.format_code, d.submission_set_uuid, s.unique_id as submission_set_unique_id, d.inline_content, d.created_at
  from document_entries d join submission_sets s on s.entry_uuid = d.submission_set_uuid`;

const VERSIONS_SQL = `select ${COLUMNS} where d.unique_id = $1 order by d.version desc`;

// Signature documents submitted in the same set as one of the versions, or `signs`-associated to one of them or to
// their submission sets (for a SubmissionSet signature the signs association is optional, DSG §5.5.6.4). Two
// indexed lookups (by submission set, by association target), not an OR the planner could only scan for.
const SIGNATURES_SQL = `select * from (
    select ${COLUMNS} where d.format_code = $3 and d.submission_set_uuid = any($4::text[])
    union
    select ${COLUMNS} where d.format_code = $3 and d.entry_uuid in (
      select a.source_uuid from associations a where a.association_type = $1 and a.target_uuid = any($2::text[]))
  ) found order by found.created_at, found.unique_id`;

const MEMBERS_SQL = `select ${COLUMNS} where d.submission_set_uuid = $1`;

function toEntry(r: EntryRow): SignedEntry {
  const entry: SignedEntry = {
    entryUuid: r.entry_uuid,
    uniqueId: r.unique_id,
    contentKey: r.content_key,
    formatCode: r.format_code,
    submissionSetUuid: r.submission_set_uuid,
    submissionSetUniqueId: r.submission_set_unique_id,
  };
  if (r.inline_content) entry.inline = asBuffer(r.inline_content);
  return entry;
}

/** Every version of a document, latest first (an ITI-57 update makes a new version in another submission set). */
export async function documentVersions(db: Db, uniqueId: string): Promise<SignedEntry[]> {
  return (await db.query<EntryRow>(VERSIONS_SQL, [uniqueId])).map(toEntry);
}

/** The signature entries (of this format code) that cover any of these versions. */
export async function signaturesCovering(db: Db, versions: SignedEntry[], signsAssociationType: string, signatureFormatCode: string): Promise<SignedEntry[]> {
  const sets = [...new Set(versions.map((v) => v.submissionSetUuid))];
  const targets = [...versions.map((v) => v.entryUuid), ...sets];
  return (await db.query<EntryRow>(SIGNATURES_SQL, [signsAssociationType, targets, signatureFormatCode, sets])).map(toEntry);
}

export async function submissionSetMembers(db: Db, submissionSetUuid: string): Promise<SignedEntry[]> {
  return (await db.query<EntryRow>(MEMBERS_SQL, [submissionSetUuid])).map(toEntry);
}
