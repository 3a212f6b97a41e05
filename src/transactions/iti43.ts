import type { GatewayContext } from '../context.js';
import { ContentNotFoundError } from '../content/store.js';
import { registryResponseXml } from '../ebrim/response.js';
import { NS } from '../ebrim/uuids.js';
import { XdsError } from '../errors.js';
import { retrieveRefusals } from '../policy/enforce.js';
import { escapeXml, type XmlElement } from '../xml/tree.js';
import { SoapFault } from '../soap/fault.js';
import type { TransactionResult } from './index.js';

export interface DocumentRequest {
  homeCommunityId?: string;
  repositoryUniqueId: string;
  documentUniqueId: string;
}

export interface RetrievedDocument {
  request: DocumentRequest;
  mimeType: string;
  bytes: Buffer;
  contentId: string;
}

interface PendingDocument {
  request: DocumentRequest;
  mimeType: string;
  bytes: Promise<Buffer | XdsError>;
}

/** Most DocumentRequests accepted in one ITI-43 request. */
const MAX_DOCUMENT_REQUESTS = 1000;

/**
 * ITI-43 Retrieve Document Set (ITI TF-2b §3.43): each requested document is looked up in the
 * registry (deprecated ones too) and returned byte-identical with its mimeType, as an MTOM part.
 * Unknown repository or document gives an error for that request and PartialSuccess for the rest.
 */
export async function retrieveDocumentSet(request: XmlElement, ctx: GatewayContext): Promise<TransactionResult> {
  const requests = parseRetrieveRequest(request);
  const errors: XdsError[] = [];
  const ours = requests.filter((r) => {
    if (r.repositoryUniqueId === ctx.config.repositoryUniqueId) return true;
    errors.push(new XdsError('XDSUnknownRepositoryId', `RepositoryUniqueId ${r.repositoryUniqueId} is not this repository (${ctx.config.repositoryUniqueId})`, r.documentUniqueId));
    return false;
  });

  const uniqueIds = [...new Set(ours.map((r) => r.documentUniqueId))];
  let found;
  let refused;
  try {
    // Independent reads, side by side: where the documents are, and which of them the caller may not see.
    [found, refused] = await Promise.all([
      ctx.registry.findDocumentsForRetrieve(uniqueIds),
      retrieveRefusals(ctx, uniqueIds, ctx.config.repositoryUniqueId),
    ]);
  } catch (err) {
    ctx.logger.error({ err: (err as Error).message }, 'registry unavailable during retrieve');
    return response([new XdsError('XDSRegistryNotAvailable', 'the registry database is not available')], []);
  }

  // Each request is an error or the read of its bytes; all reads run at once, the answer keeps the request order.
  const pending = ours.map((r): XdsError | PendingDocument => {
    const refusal = refused.get(r.documentUniqueId);
    if (refusal) return refusal;
    const entry = found.get(r.documentUniqueId);
    if (!entry || !entry.contentKey || entry.repositoryUniqueId !== ctx.config.repositoryUniqueId) {
      return new XdsError('XDSDocumentUniqueIdError', `document ${r.documentUniqueId} is not in repository ${r.repositoryUniqueId}`, r.documentUniqueId);
    }
    return { request: r, mimeType: entry.mimeType, bytes: readDocument(ctx, { contentKey: entry.contentKey, inline: entry.inline }, r.documentUniqueId) };
  });
  const documents: RetrievedDocument[] = [];
  for (const p of pending) {
    if (p instanceof XdsError) {
      errors.push(p);
      continue;
    }
    const bytes = await p.bytes;
    if (bytes instanceof XdsError) errors.push(bytes);
    else documents.push({ request: p.request, mimeType: p.mimeType, bytes, contentId: `doc${documents.length}@xds-gateway` });
  }
  // Refused documents too: the request was an attempt on their patients' records. One not found leaves the patients to the audit trail.
  const allFound = ours.length === requests.length && uniqueIds.every((id) => found.has(id));
  const patientIdsOfAnswer = allFound ? [...new Set([...found.values()].map((d) => d.patientId))] : undefined;
  return { ...response(errors, documents), patientIdsOfAnswer };
}

/** The bytes of one document, or the repository error that answers for it. */
async function readDocument(ctx: GatewayContext, at: { contentKey: string; inline: Buffer | undefined }, uniqueId: string): Promise<Buffer | XdsError> {
  try {
    return await ctx.content.bytesOf(at);
  } catch (err) {
    if (!(err instanceof ContentNotFoundError)) ctx.logger.error({ err: (err as Error).message, uniqueId }, 'content read failed');
    return new XdsError('XDSRepositoryError', `the bytes of document ${uniqueId} could not be read`, uniqueId);
  }
}

function parseRetrieveRequest(el: XmlElement): DocumentRequest[] {
  if (el.ns !== NS.xdsb || el.local !== 'RetrieveDocumentSetRequest') {
    throw new SoapFault('Sender', `expected xdsb:RetrieveDocumentSetRequest in the Body, found {${el.ns}}${el.local}`);
  }
  const requests = el.children.filter((c) => c.ns === NS.xdsb && c.local === 'DocumentRequest');
  if (requests.length === 0) throw new SoapFault('Sender', 'RetrieveDocumentSetRequest has no DocumentRequest');
  if (requests.length > MAX_DOCUMENT_REQUESTS) throw new SoapFault('Sender', `RetrieveDocumentSetRequest has more than ${MAX_DOCUMENT_REQUESTS} DocumentRequest elements`);
  return requests.map((r, i) => {
    const field = (name: string): string | undefined => r.children.find((c) => c.ns === NS.xdsb && c.local === name)?.text.trim() || undefined;
    const repositoryUniqueId = field('RepositoryUniqueId');
    const documentUniqueId = field('DocumentUniqueId');
    if (!repositoryUniqueId) throw new SoapFault('Sender', `DocumentRequest[${i + 1}] has no RepositoryUniqueId`);
    if (!documentUniqueId) throw new SoapFault('Sender', `DocumentRequest[${i + 1}] has no DocumentUniqueId`);
    return { homeCommunityId: field('HomeCommunityId'), repositoryUniqueId, documentUniqueId };
  });
}

function response(errors: XdsError[], documents: RetrievedDocument[]): TransactionResult {
  const partial = documents.length > 0 && errors.length > 0;
  // Per-document errors stay errors in a PartialSuccess (ITI TF-2b §3.43.4.2.3): the status says the rest succeeded.
  const registryResponse = registryResponseXml(errors, { partialSuccess: partial });
  const parts = documents.map((d) => {
    const home = d.request.homeCommunityId ? `<xdsb:HomeCommunityId>${escapeXml(d.request.homeCommunityId)}</xdsb:HomeCommunityId>` : '';
    return (
      `<xdsb:DocumentResponse>${home}` +
      `<xdsb:RepositoryUniqueId>${escapeXml(d.request.repositoryUniqueId)}</xdsb:RepositoryUniqueId>` +
      `<xdsb:DocumentUniqueId>${escapeXml(d.request.documentUniqueId)}</xdsb:DocumentUniqueId>` +
      `<xdsb:mimeType>${escapeXml(d.mimeType)}</xdsb:mimeType>` +
      `<xdsb:Document><xop:Include xmlns:xop="${NS.xop}" href="cid:${encodeURIComponent(d.contentId)}"/></xdsb:Document>` +
      `</xdsb:DocumentResponse>`
    );
  });
  return {
    bodyXml: `<xdsb:RetrieveDocumentSetResponse xmlns:xdsb="${NS.xdsb}" xmlns:rs="${NS.rs}">${registryResponse}${parts.join('')}</xdsb:RetrieveDocumentSetResponse>`,
    attachments: documents.map((d) => ({ contentId: d.contentId, contentType: d.mimeType, body: d.bytes })),
  };
}
