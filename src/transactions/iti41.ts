import { validateSubmittedCda } from '../cda/validate-document.js';
import type { GatewayContext } from '../context.js';
import { hashBytes, ContentStoreFullError } from '../content/store.js';
import type { DocumentEntry, StoredDocument, SubmissionMetadata, SubmittedDocument } from '../ebrim/model.js';
import { parseProvideAndRegister } from '../ebrim/parse.js';
import { withRepositorySlots } from '../ebrim/repository-slots.js';
import { registryResponseXml } from '../ebrim/response.js';
import { validateSubmission } from '../ebrim/validate.js';
import { XdsError } from '../errors.js';
import { submissionRefusal } from '../policy/enforce.js';
import { verifySubmittedSignatures } from '../signature/submission.js';
import { resolveXop } from '../soap/mtom.js';
import type { SoapRequest } from '../soap/envelope.js';
import { checkAgainstRegistry, registerSubmission, unavailable } from './register.js';

/**
 * ITI-41 Provide and Register Document Set-b (ITI TF-2b §3.41), as the repository receives it:
 * parse the metadata and documents, validate them, compute hash and size, store the bytes
 * durably, then register the whole submission atomically and answer once it is registered.
 */
export async function provideAndRegisterDocumentSet(
  request: SoapRequest,
  attachments: Map<string, Buffer>,
  ctx: GatewayContext,
): Promise<string> {
  const parsed = parseProvideAndRegister(request.body, (el) => resolveXop(el, attachments));
  if (!parsed.metadata || parsed.errors.length) return registryResponseXml(parsed.errors);
  const { metadata, documents } = parsed;
  const refusal = await submissionRefusal(ctx, metadata).catch((err: unknown) => unavailable(err, ctx));
  if (refusal) return registryResponseXml([refusal]);

  const stored = describeDocuments(metadata.documentEntries, documents);
  const errors = validateSubmission(metadata, {
    documents: new Map(stored.bySubmittedId),
    repositoryUniqueId: ctx.config.repositoryUniqueId,
    patientAuthority: ctx.config.patientAuthority,
  });
  // The registry's checks are in flight while this thread validates the CDA documents (checkAgainstRegistry never rejects).
  const registryErrors = errors.length === 0 ? checkAgainstRegistry(metadata, stored.list, ctx) : Promise.resolve([]);
  const cdaErrors = validateSubmittedCda(metadata.documentEntries, documents, ctx.cda, ctx.metrics?.cdaReport);
  errors.push(...(await registryErrors), ...cdaErrors);
  if (errors.some((e) => e.severity === 'Error')) return registryResponseXml(errors);

  // Signature documents the submitter sent must verify before anything is stored.
  const signatureErrors = await verifySubmittedSignatures(metadata, documents, ctx);
  if (signatureErrors.length) return registryResponseXml(signatureErrors);

  const writeError = await storeDocuments(stored.blobs, ctx);
  if (writeError) return registryResponseXml([writeError]);

  // The gateway's own DSG signature is made by the worker as part of the commit (SIGNING on).
  const registered = await registerSubmission(withRepositoryFacts(metadata, stored.list, ctx), stored.list, ctx, { sign: ctx.config.signing });
  return registryResponseXml([...errors, ...registered]);
}

interface DescribedDocuments {
  list: StoredDocument[];
  bySubmittedId: [string, { sha1: string; size: number }][];
  blobs: { bytes: Buffer; key: string }[];
}

/** Hash and size of each document, tied to the DocumentEntry it belongs to. */
function describeDocuments(entries: DocumentEntry[], documents: SubmittedDocument[]): DescribedDocuments {
  const entryBySubmittedId = new Map(entries.map((e) => [e.submittedId, e]));
  const list: StoredDocument[] = [];
  const bySubmittedId: DescribedDocuments['bySubmittedId'] = [];
  const blobs: DescribedDocuments['blobs'] = [];
  for (const doc of documents) {
    const { sha256, sha1, size } = hashBytes(doc.bytes);
    bySubmittedId.push([doc.submittedId, { sha1, size }]);
    blobs.push({ bytes: doc.bytes, key: sha256 });
    const entry = entryBySubmittedId.get(doc.submittedId);
    if (entry) list.push({ entryId: entry.id, uniqueId: entry.uniqueId, contentKey: sha256, sha1, size, mimeType: entry.mimeType });
  }
  return { list, bySubmittedId, blobs };
}

async function storeDocuments(blobs: DescribedDocuments['blobs'], ctx: GatewayContext): Promise<XdsError | undefined> {
  try {
    await Promise.all(blobs.map((b) => ctx.content.put(b.bytes, b.key)));
    return undefined;
  } catch (err) {
    ctx.logger.error({ err: (err as Error).message }, 'content store write failed');
    if (err instanceof ContentStoreFullError) {
      return new XdsError('XDSRepositoryOutOfResources', 'the repository content store is full; nothing was registered');
    }
    return new XdsError('XDSRepositoryError', 'the repository could not write the documents durably; nothing was registered');
  }
}

function withRepositoryFacts(metadata: SubmissionMetadata, stored: StoredDocument[], ctx: GatewayContext): SubmissionMetadata {
  const byEntry = new Map(stored.map((s) => [s.entryId, s]));
  return {
    ...metadata,
    documentEntries: metadata.documentEntries.map((entry) => {
      const facts = byEntry.get(entry.id)!;
      return withRepositorySlots(entry, facts, ctx.config.repositoryUniqueId);
    }),
  };
}
