import type { StoredDocument, SubmissionMetadata } from '../ebrim/model.js';
import { XdsError, XdsFailure } from '../errors.js';
import { checkAgainstRegistry } from './checks.js';
import { asBuffer, sqlState, type Db } from './db.js';
import { deleteObjects, type DeletionRequest } from './deletion.js';
import { dtmNow, insertSubmission } from './insert.js';
import { applyLifecycle } from './lifecycle.js';
import { updateDocumentSet } from './update.js';
import { documentVersions, signaturesCovering, submissionSetMembers, type SignedEntry } from './signatures.js';

export { RegistryUnavailableError } from './db.js';

/** The commit was ready but its deadline had passed: rolled back, since the submitter was already told Failure. */
export class DeadlineExceededError extends Error {
  constructor(readonly deadline: number) {
    super(`submission deadline ${new Date(deadline).toISOString()} passed before commit; rolled back`);
    this.name = 'DeadlineExceededError';
  }
}

/** The submitter was answered Failure for this submission before its commit (abandonSubmission): rolled back. */
export class SubmissionAbandonedError extends Error {
  constructor(readonly submissionId: string) {
    super(`submission ${submissionId} was abandoned by the gateway (the submitter was answered Failure); rolled back`);
    this.name = 'SubmissionAbandonedError';
  }
}

/**
 * One submission at a time between a commit and an abandonment: both take this lock first, in their own
 * transaction, so each sees whether the other committed (read committed: every later statement of the
 * transaction has a fresh snapshot).
 */
async function lockSubmission(tx: Db, submissionId: string): Promise<void> {
  await tx.query('select pg_advisory_xact_lock(hashtextextended($1, 0))', [submissionId], { prepare: true });
}

export interface CommitInput {
  /** The gateway's job id: committing the same submission again is a no-op. */
  submissionId: string;
  metadata: SubmissionMetadata;
  /** Repository facts of each document; empty for ITI-42. */
  stored: StoredDocument[];
  /** Epoch ms; at or after it the transaction is rolled back instead of committed. */
  deadline?: number;
  /**
   * Objects the commit adds to the submission (the gateway's DSG signature), made on this thread while the
   * database runs the checks; they are the commit's own (fresh ids), so the checks need not see them.
   */
  complete?: (metadata: SubmissionMetadata, stored: StoredDocument[]) => { metadata: SubmissionMetadata; stored: StoredDocument[] };
}

export interface RetrievableDocument {
  uniqueId: string;
  entryUuid: string;
  patientId: string;
  contentKey: string | null;
  mimeType: string;
  repositoryUniqueId: string | null;
  size: number;
  hash: string | null;
  status: string;
  /** The bytes, for a document the registry keeps itself (inline_content). */
  inline?: Buffer;
}

export interface RegistryCounts {
  documentEntries: number;
  submissionSets: number;
  patients: number;
}

// A conflict with a concurrent commit (unique key taken meanwhile, deadlock): re-run, and the checks then see the winner.
const CONFLICT_STATES = new Set(['23505', '40P01', '40001']);
const MAX_ATTEMPTS = 3;

interface RetrieveRow {
  unique_id: string;
  entry_uuid: string;
  patient_id: string;
  content_key: string | null;
  mime_type: string;
  repository_unique_id: string | null;
  size: string | number | null;
  hash: string | null;
  status: string;
  inline_content: Uint8Array | null;
}

const RETRIEVE_SQL = `select unique_id, entry_uuid, patient_id, content_key, mime_type, repository_unique_id, size, hash, status, inline_content
  from document_entries where unique_id = any($1::text[]) and deleted_at is null order by version desc`;

/** The XDS registry's storage: patients, and submissions committed all-or-nothing. */
export class Registry {
  constructor(readonly db: Db) {}

  async registerPatient(patientId: string): Promise<'created' | 'exists'> {
    const rows = await this.db.query('insert into patients (patient_id) values ($1) on conflict (patient_id) do nothing returning patient_id', [patientId]);
    return rows.length ? 'created' : 'exists';
  }

  async patientExists(patientId: string): Promise<boolean> {
    const rows = await this.db.query('select 1 from patients where patient_id = $1', [patientId]);
    return rows.length > 0;
  }

  /**
   * Registers a whole submission in one transaction, or nothing: throws XdsFailure with every error found,
   * DeadlineExceededError when the deadline passed, RegistryUnavailableError when the database is unreachable.
   */
  async commitSubmission(input: CommitInput): Promise<'committed' | 'already-committed'> {
    return this.withConflictRetry((tx) => this.commitOnce(tx, input), input.metadata.submissionSet.submittedId);
  }

  /** ITI-57: new versions and status changes of registered objects, with the SubmissionSet, in one transaction. Throws XdsFailure. */
  async updateDocumentSet(submissionId: string, metadata: SubmissionMetadata): Promise<void> {
    await this.withConflictRetry((tx) => updateDocumentSet(tx, submissionId, metadata), metadata.submissionSet.submittedId);
  }

  /** ITI-62: logical deletion of the named objects, all or none; returns how many objects were marked deleted. Throws XdsFailure. */
  async deleteObjects(request: DeletionRequest): Promise<number> {
    return this.withConflictRetry((tx) => deleteObjects(tx, request));
  }

  private async withConflictRetry<T>(fn: (tx: Db) => Promise<T>, location?: string): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.db.transaction(fn);
      } catch (err) {
        const state = sqlState(err);
        if (state === undefined || !CONFLICT_STATES.has(state)) throw err;
        if (attempt < MAX_ATTEMPTS) continue;
        if (state !== '23505') throw err;
        const constraint = (err as { constraint?: string }).constraint ?? 'unique key';
        throw new XdsFailure([new XdsError('XDSRegistryError', `the request conflicts with registry content (${constraint})`, location)]);
      }
    }
  }

  private async commitOnce(tx: Db, input: CommitInput): Promise<'committed' | 'already-committed'> {
    const { submissionId, deadline } = input;
    await lockSubmission(tx, submissionId);
    const abandoned = await tx.query('select 1 from abandoned_submissions where submission_id = $1', [submissionId], { prepare: true });
    if (abandoned.length) throw new SubmissionAbandonedError(submissionId);
    const checking = checkAgainstRegistry(tx, input.metadata, input.stored, submissionId);
    let completed;
    try {
      completed = input.complete ? input.complete(input.metadata, input.stored) : input;
    } finally {
      // Whatever happened here, the statement in flight ends before the transaction does.
      await checking.catch(() => undefined);
    }
    const check = await checking;
    if (check.committed) return 'already-committed';
    if (check.errors.length) throw new XdsFailure(check.errors);
    const { metadata, stored } = completed;
    const now = dtmNow();
    await insertSubmission(tx, submissionId, metadata, stored, now);
    await applyLifecycle(tx, check.plan, metadata.submissionSet.id, now);
    if (deadline !== undefined && Date.now() >= deadline) throw new DeadlineExceededError(deadline);
    return 'committed';
  }

  /** The commit's checks, read-only and without locks: a fast answer before the submission is queued. */
  async checkSubmission(metadata: SubmissionMetadata, stored: StoredDocument[]): Promise<XdsError[]> {
    return (await checkAgainstRegistry(this.db, metadata, stored, null)).errors;
  }

  async isSubmissionCommitted(submissionId: string, db: Db = this.db): Promise<boolean> {
    const rows = await db.query('select 1 from submission_sets where submission_id = $1', [submissionId], { prepare: true });
    return rows.length > 0;
  }

  /**
   * Settles a submission whose job the gateway lost track of (the queue failed, or no answer in time):
   * 'committed' if its commit happened, otherwise it is marked abandoned, and a commit that comes later
   * (the job was in Redis after all) rolls back with SubmissionAbandonedError. The answer is final.
   */
  async abandonSubmission(submissionId: string): Promise<'committed' | 'abandoned'> {
    return this.db.transaction(async (tx) => {
      await lockSubmission(tx, submissionId);
      if (await this.isSubmissionCommitted(submissionId, tx)) return 'committed';
      await tx.query('insert into abandoned_submissions (submission_id) values ($1) on conflict do nothing', [submissionId], { prepare: true });
      return 'abandoned';
    });
  }

  /** Abandonment marks older than `olderThanMs` (their jobs are long past their deadline); returns how many went. */
  async purgeAbandonedSubmissions(olderThanMs: number): Promise<number> {
    const rows = await this.db.query('delete from abandoned_submissions where abandoned_at < now() - make_interval(secs => $1) returning 1', [olderThanMs / 1000]);
    return rows.length;
  }

  /** Documents by uniqueId, Deprecated ones included, deleted ones not; of several versions, the latest. */
  async findDocumentsForRetrieve(uniqueIds: string[]): Promise<Map<string, RetrievableDocument>> {
    const found = new Map<string, RetrievableDocument>();
    if (!uniqueIds.length) return found;
    const rows = await this.db.query<RetrieveRow>(RETRIEVE_SQL, [uniqueIds], { prepare: true });
    for (const r of rows) {
      if (found.has(r.unique_id)) continue;
      const doc: RetrievableDocument = {
        uniqueId: r.unique_id,
        entryUuid: r.entry_uuid,
        patientId: r.patient_id,
        contentKey: r.content_key,
        mimeType: r.mime_type,
        repositoryUniqueId: r.repository_unique_id,
        size: r.size === null ? 0 : Number(r.size),
        hash: r.hash,
        status: r.status,
      };
      if (r.inline_content) doc.inline = asBuffer(r.inline_content);
      found.set(r.unique_id, doc);
    }
    return found;
  }

  /** Which of these content-store keys the registry still points to (the orphan sweeper keeps those). */
  async referencedContentKeys(keys: string[]): Promise<Set<string>> {
    if (!keys.length) return new Set();
    const rows = await this.db.query<{ content_key: string }>(
      'select distinct content_key from document_entries where content_key = any($1::text[])',
      [keys],
    );
    return new Set(rows.map((r) => r.content_key));
  }

  /** Every version of a document, latest first, and the DSG signature entries that cover one of them. */
  async signatureCoverage(uniqueId: string, signsAssociationType: string, signatureFormatCode: string): Promise<{ versions: SignedEntry[]; signatures: SignedEntry[] }> {
    const versions = await documentVersions(this.db, uniqueId);
    if (!versions.length) return { versions, signatures: [] };
    return { versions, signatures: await signaturesCovering(this.db, versions, signsAssociationType, signatureFormatCode) };
  }

  /** The document entries submitted in one submission set. */
  async submissionSetDocuments(submissionSetUuid: string): Promise<SignedEntry[]> {
    return submissionSetMembers(this.db, submissionSetUuid);
  }

  async counts(): Promise<RegistryCounts> {
    const [row] = await this.db.query<RegistryCounts>(`select
      (select count(*) from document_entries)::int as "documentEntries",
      (select count(*) from submission_sets)::int as "submissionSets",
      (select count(*) from patients)::int as patients`);
    return row ?? { documentEntries: 0, submissionSets: 0, patients: 0 };
  }
}
