import type { StoredDocument, SubmissionMetadata } from '../ebrim/model.js';
import type { XdsError } from '../errors.js';

export const INDEX_QUEUE = 'index';

/**
 * One submission: check that each document's bytes are in the content store (`stored`, empty for ITI-42
 * and ITI-57), then commit the whole submission in one transaction, unless the deadline has passed.
 */
export interface IndexJobData {
  submissionId: string;
  metadata: SubmissionMetadata;
  stored: StoredDocument[];
  /** Epoch ms after which the submitter has been told Failure: committing then would break atomicity. */
  deadline: number;
  /** ITI-41 with SIGNING on: the worker adds the gateway's DSG signature of the stored documents to the commit. */
  sign?: boolean;
}

export interface IndexJobResult {
  status: 'committed' | 'already-committed';
}

/** How a job failure carries XDS errors back to the waiting HTTP handler (BullMQ keeps only a message string). */
const MARK = 'XDS_ERRORS:';

export function encodeJobErrors(errors: XdsError[]): string {
  return MARK + JSON.stringify(errors);
}

export function decodeJobErrors(message: string | undefined): ReturnType<XdsError['toJSON']>[] | undefined {
  if (!message) return undefined;
  const at = message.indexOf(MARK);
  if (at === -1) return undefined;
  try {
    const parsed = JSON.parse(message.slice(at + MARK.length)) as unknown;
    return Array.isArray(parsed) ? (parsed as ReturnType<XdsError['toJSON']>[]) : undefined;
  } catch {
    return undefined;
  }
}
