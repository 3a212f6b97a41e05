import { randomUUID } from 'node:crypto';
import type { GatewayContext } from '../context.js';
import type { StoredDocument, SubmissionMetadata } from '../ebrim/model.js';
import { parseRegisterDocumentSet } from '../ebrim/parse.js';
import { registryResponseXml } from '../ebrim/response.js';
import type { ValidationContext } from '../ebrim/validate.js';
import { XdsError } from '../errors.js';
import { submissionRefusal } from '../policy/enforce.js';
import type { XmlElement } from '../xml/tree.js';
import { QueueUnavailableError } from '../queue/submissions.js';
import { RegistryUnavailableError } from '../registry/db.js';

/** Extra wait past the deadline, for a commit that started just before it to report back. */
const DEADLINE_GRACE_MS = 3000;

/**
 * The registration step shared by ITI-41 and ITI-42: unknown patient, uniqueIds already registered,
 * lifecycle targets (RPLC, APND, XFRM, folders): answered before anything is written.
 */
export async function checkAgainstRegistry(metadata: SubmissionMetadata, stored: StoredDocument[], ctx: GatewayContext): Promise<XdsError[]> {
  try {
    return await ctx.registry.checkSubmission(metadata, stored);
  } catch (err) {
    return [unavailable(err, ctx)];
  }
}

/**
 * Hands the submission to the workers and waits, bounded, until it is registered
 * in one transaction. `stored` is empty for ITI-42: the bytes are in another repository.
 */
export async function registerSubmission(
  metadata: SubmissionMetadata,
  stored: StoredDocument[],
  ctx: GatewayContext,
  options: { sign?: boolean } = {},
): Promise<XdsError[]> {
  const submissionId = randomUUID();
  const deadline = Date.now() + ctx.config.submissionTimeoutMs;
  const job = { submissionId, metadata, stored, deadline, ...(options.sign ? { sign: true } : {}) };
  const outcome = await ctx.queue.submit(job, ctx.config.submissionTimeoutMs + DEADLINE_GRACE_MS);
  if (outcome.status === 'committed') return [];
  if (outcome.status === 'rejected') return outcome.errors;
  // No answer in time, or the queue failed with the job perhaps in Redis: the job may still run. The registry
  // settles it for good: committed, or abandoned (a later commit rolls back).
  try {
    if ((await ctx.registry.abandonSubmission(submissionId)) === 'committed') return [];
  } catch (err) {
    // The database cannot settle it either: past the job's deadline no worker commits (workers check it).
    const wait = deadline + DEADLINE_GRACE_MS - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    return [unavailable(err, ctx)];
  }
  if (outcome.status === 'lost') return [unavailable(outcome.error, ctx)];
  return [new XdsError('XDSRegistryBusy', `the submission was not registered within ${ctx.config.submissionTimeoutMs} ms; nothing was registered`)];
}

/** A backend that does not answer, as the XDS error the submitter gets. */
export function unavailable(err: unknown, ctx: GatewayContext): XdsError {
  ctx.logger.error({ err: (err as Error).message }, 'backend unavailable');
  if (err instanceof RegistryUnavailableError) return new XdsError('XDSRegistryNotAvailable', 'the registry database is not available; nothing was registered');
  if (err instanceof QueueUnavailableError) return new XdsError('XDSRepositoryError', 'the repository queue (Redis) is not available; nothing was registered');
  return new XdsError('XDSRepositoryError', 'the repository could not process the submission; nothing was registered');
}

/**
 * The first steps of a registry-side submission (ITI-42, ITI-57): parse the SubmitObjectsRequest and
 * check that the caller may write for its patients. Gives the metadata, or the answer that ends it.
 */
export async function readRegistrySubmission(body: XmlElement, ctx: GatewayContext): Promise<{ metadata: SubmissionMetadata } | { response: string }> {
  const parsed = parseRegisterDocumentSet(body);
  if (!parsed.metadata || parsed.errors.length) return { response: registryResponseXml(parsed.errors) };
  const refusal = await submissionRefusal(ctx, parsed.metadata).catch((err: unknown) => unavailable(err, ctx));
  if (refusal) return { response: registryResponseXml([refusal]) };
  return { metadata: parsed.metadata };
}

/** How metadata without bytes is validated: hash, size and repositoryUniqueId come from the submitter. */
export function registryValidation(ctx: GatewayContext): ValidationContext {
  return {
    documents: undefined,
    repositoryUniqueId: ctx.config.repositoryUniqueId,
    patientAuthority: ctx.config.patientAuthority,
    knownRepositoryIds: ctx.config.knownRepositoryIds,
  };
}
