import type { GatewayContext } from '../context.js';
import { ContentNotFoundError } from '../content/store.js';
import { isCdaDocument } from '../cda/validate-document.js';
import { parseCx } from '../ebrim/cx.js';
import type { AdhocQuery } from '../ebrim/query-request.js';
import { STATUS } from '../ebrim/uuids.js';
import type { XdsError } from '../errors.js';
import type { ProfessionalCaller } from '../policy/caller.js';
import { queryVisibility, retrieveRefusals } from '../policy/enforce.js';
import { filterQueryAnswer, queryPatientIds } from '../policy/query-filter.js';
import { runStoredQuery } from '../registry/stored-queries/run.js';
import { documentSignatures, type DocumentSignatures } from '../signature/on-demand.js';
import { auditAsTransaction, type ConsoleRequest } from './audit.js';
import { NarrativeError, renderCdaNarrative, type RenderedNarrative } from './narrative.js';
import { codeChoices, documentByUniqueId, documentSummaries, replacementChain, type DocumentSummary, type Replacement, type ShownCode } from './reads.js';

const FIND_DOCUMENTS = 'urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d';
/** Most documents one search lists; past it the professional narrows the search. */
const MAX_LISTED = 500;
const STATUSES = { approved: [STATUS.approved], deprecated: [STATUS.deprecated], all: [STATUS.approved, STATUS.deprecated] } as const;

export type StatusFilter = keyof typeof STATUSES;

/** The search form of the professional view, checked. */
export interface DocumentFilters {
  patientId: string;
  /** `code^^scheme`, as FindDocuments takes it. */
  classCode?: string;
  typeCode?: string;
  /** Creation date, from and to (both included), YYYY-MM-DD. */
  from?: string;
  to?: string;
  status: StatusFilter;
}

/** Why a search form was refused: a message key of the console's table and the field. */
export interface FilterProblem {
  field: 'patientId' | 'classCode' | 'typeCode' | 'from' | 'to' | 'status';
  message: 'invalidPatientId' | 'invalidCode' | 'invalidDate' | 'datesReversed' | 'invalidStatus';
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const CODE = /^[^^'\s][^^']*\^\^[0-2](\.(0|[1-9]\d*))+$/;

/** Reads the search form; every problem is reported, none is guessed around. */
export function parseFilters(input: Record<string, unknown>, patientAuthority: string): { filters?: DocumentFilters; problems: FilterProblem[] } {
  const text = (name: string): string | undefined => (typeof input[name] === 'string' && (input[name] as string).trim() ? (input[name] as string).trim() : undefined);
  const problems: FilterProblem[] = [];
  const patientId = text('patientId') ?? '';
  const cx = parseCx(patientId);
  if (!cx || cx.authority !== patientAuthority) problems.push({ field: 'patientId', message: 'invalidPatientId' });
  const classCode = text('classCode');
  if (classCode && !CODE.test(classCode)) problems.push({ field: 'classCode', message: 'invalidCode' });
  const typeCode = text('typeCode');
  if (typeCode && !CODE.test(typeCode)) problems.push({ field: 'typeCode', message: 'invalidCode' });
  const from = text('from');
  if (from && !validDate(from)) problems.push({ field: 'from', message: 'invalidDate' });
  const to = text('to');
  if (to && !validDate(to)) problems.push({ field: 'to', message: 'invalidDate' });
  if (from && to && validDate(from) && validDate(to) && from > to) problems.push({ field: 'to', message: 'datesReversed' });
  const status = text('status') ?? 'approved';
  if (!(status in STATUSES)) problems.push({ field: 'status', message: 'invalidStatus' });
  if (problems.length) return { problems };
  return { filters: { patientId, classCode, typeCode, from, to, status: status as StatusFilter }, problems };
}

function validDate(s: string): boolean {
  const m = DATE.exec(s);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.toISOString().slice(0, 10) === s;
}

const quoted = (v: string): string => `'${v.replace(/'/g, "''")}'`;
const list = (values: readonly string[]): string => `(${values.map(quoted).join(',')})`;
const dtmDay = (isoDate: string, addDays = 0): string => {
  const d = new Date(`${isoDate}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + addDays);
  return d.toISOString().slice(0, 10).replace(/-/g, '');
};

/** The FindDocuments stored query (ITI-18) these filters stand for. */
export function findDocumentsQuery(f: DocumentFilters): AdhocQuery {
  const slots = [
    { name: '$XDSDocumentEntryPatientId', values: [quoted(f.patientId)] },
    { name: '$XDSDocumentEntryStatus', values: [list(STATUSES[f.status])] },
  ];
  if (f.classCode) slots.push({ name: '$XDSDocumentEntryClassCode', values: [list([f.classCode])] });
  if (f.typeCode) slots.push({ name: '$XDSDocumentEntryTypeCode', values: [list([f.typeCode])] });
  if (f.from) slots.push({ name: '$XDSDocumentEntryCreationTimeFrom', values: [dtmDay(f.from)] });
  // The stored query's upper bound is exclusive: the day after the last one asked for.
  if (f.to) slots.push({ name: '$XDSDocumentEntryCreationTimeTo', values: [dtmDay(f.to, 1)] });
  return { queryId: FIND_DOCUMENTS, returnType: 'ObjectRef', slots };
}

export interface FoundDocuments {
  /** The record-level refusal that replaces the whole answer (same rule as ITI-18). */
  refusal?: XdsError;
  /** Errors of the stored query itself. */
  errors: XdsError[];
  documents: DocumentSummary[];
  /** Set when more documents match than a page lists: how many (signatures included). */
  tooMany?: number;
  /** Codes of the documents of this patient the professional may see, to filter on. */
  classCodes: ShownCode[];
  typeCodes: ShownCode[];
}

/**
 * The professional's search: FindDocuments run by the registry, then the answer filtered by the access policy
 * exactly as ITI-18 filters it (filterQueryAnswer), audited as an ITI-18 query. A second, unfiltered run
 * of the same query gives the codes to offer in the form, from visible documents only. Past MAX_LISTED
 * documents nothing is listed and the professional is asked to narrow the search.
 */
export async function findDocuments(ctx: GatewayContext, caller: ProfessionalCaller, f: DocumentFilters, request: ConsoleRequest): Promise<FoundDocuments> {
  const asCaller: GatewayContext = { ...ctx, caller };
  const query = findDocumentsQuery(f);
  const visible = async (q: AdhocQuery): Promise<{ refusal?: XdsError; errors: XdsError[]; ids: string[] }> => {
    const answer = await runStoredQuery(ctx.registry.db, q, { maxResults: ctx.config.storedQueryMaxResults, homeCommunityId: ctx.config.homeCommunityId });
    const shown = await filterQueryAnswer(asCaller, queryPatientIds(q.slots), answer.objects);
    return { refusal: shown.refusal, errors: answer.errors, ids: shown.objects.filter((o) => o.kind === 'document').map((o) => o.id) };
  };
  const found = await visible(query);
  const unfiltered = !f.classCode && !f.typeCode && !f.from && !f.to && f.status === 'all';
  const all = found.refusal || unfiltered ? found : await visible(findDocumentsQuery({ patientId: f.patientId, status: 'all' }));
  const tooMany = found.ids.length > MAX_LISTED ? found.ids.length : undefined;
  // Signature documents are shown as the signature status of what they sign, not as documents of their own.
  const documents = found.refusal || tooMany ? [] : (await documentSummaries(ctx.registry.db, found.ids)).filter((d) => !d.isSignature);
  await auditAsTransaction(ctx, 'ITI-18', caller, request, {
    patientIds: [f.patientId],
    documentIds: documents.map((d) => d.uniqueId),
    outcome: found.refusal || found.errors.some((e) => e.severity === 'Error') ? 4 : 0,
    description: found.refusal?.message,
    query: { id: FIND_DOCUMENTS, text: query.slots.map((s) => `${s.name}=${s.values.join(',')}`).join('\n') },
  });
  return {
    refusal: found.refusal,
    errors: found.errors,
    documents,
    tooMany,
    ...(all.refusal ? { classCodes: [], typeCodes: [] } : await codeChoices(ctx.registry.db, all.ids)),
  };
}

export type OpenedDocument =
  | { status: 'refused'; error: XdsError }
  | { status: 'not-found' }
  | {
      status: 'ok';
      summary: DocumentSummary;
      narrative?: RenderedNarrative;
      /** Why the document is not shown as a CDA narrative (not XML, not a ClinicalDocument, malformed). */
      notRendered?: { reason: 'not-cda' } | { reason: 'malformed'; detail: string };
      signatures: DocumentSignatures | { unavailable: true };
      history: { chain: Replacement[]; documents: Map<string, DocumentSummary> };
    };

/**
 * Opens one document for a professional, as ITI-43 would give it: the read check of ITI-43
 * (retrieveRefusals; a document they may not see is answered as unknown), the bytes from the content store,
 * then what the console adds — the CDA narrative, the signature status, the replacement history (each
 * document of it shown only if the policy lets this professional see it). Audited as an ITI-43 retrieve.
 */
export async function openDocument(ctx: GatewayContext, caller: ProfessionalCaller, uniqueId: string, request: ConsoleRequest): Promise<OpenedDocument> {
  const asCaller: GatewayContext = { ...ctx, caller };
  const repository = ctx.config.repositoryUniqueId;
  const refusal = (await retrieveRefusals(asCaller, [uniqueId], repository)).get(uniqueId);
  const entry = refusal ? undefined : (await ctx.registry.findDocumentsForRetrieve([uniqueId])).get(uniqueId);
  const owner = await documentByUniqueId(ctx.registry.db, uniqueId);
  const audit = (outcome: 0 | 4, description?: string): Promise<void> =>
    auditAsTransaction(ctx, 'ITI-43', caller, request, { patientIds: owner ? [owner.patientId] : [], documentIds: [uniqueId], outcome, description });
  if (refusal) {
    await audit(4, refusal.message);
    return refusal.code === 'XDSDocumentUniqueIdError' ? { status: 'not-found' } : { status: 'refused', error: refusal };
  }
  if (!entry?.contentKey || entry.repositoryUniqueId !== repository || !owner) {
    await audit(4, `document ${uniqueId} is not in repository ${repository}`);
    return { status: 'not-found' };
  }
  let bytes: Buffer;
  try {
    bytes = await ctx.content.bytesOf({ contentKey: entry.contentKey, inline: entry.inline });
  } catch (err) {
    if (!(err instanceof ContentNotFoundError)) throw err;
    await audit(4, `the bytes of document ${uniqueId} could not be read`);
    return { status: 'not-found' };
  }
  await audit(0);
  const [summary] = await documentSummaries(ctx.registry.db, [entry.entryUuid]);
  return {
    status: 'ok',
    summary: summary!,
    ...narrativeOf(bytes, entry.mimeType),
    signatures: await signatureStatus(ctx, uniqueId),
    history: await visibleHistory(asCaller, owner.patientId, entry.entryUuid),
  };
}

/** The signature status of GET /api/documents/{uniqueId}/signature; unavailable when it cannot be verified now. */
async function signatureStatus(ctx: GatewayContext, uniqueId: string): Promise<DocumentSignatures | { unavailable: true }> {
  try {
    return (await documentSignatures(uniqueId, ctx)) ?? { unavailable: true };
  } catch (err) {
    ctx.logger.error({ err: (err as Error).message, uniqueId }, 'signature status unavailable in the console');
    return { unavailable: true };
  }
}

/** XML media types a CDA document may be declared with. */
const XML_TYPES = /^(text\/xml|application\/xml|application\/[\w.+-]+\+xml)$/;

function narrativeOf(bytes: Buffer, mimeType: string): Pick<OpenedDocument & { status: 'ok' }, 'narrative' | 'notRendered'> {
  const base = mimeType.split(';')[0]!.trim().toLowerCase();
  if (!XML_TYPES.test(base) || !isCdaDocument(bytes, 'text/xml')) return { notRendered: { reason: 'not-cda' } };
  try {
    // The page's own headings go down to h2 (Content): the document's sections start at h3.
    return { narrative: renderCdaNarrative(bytes, { headingLevel: 3 }) };
  } catch (err) {
    if (err instanceof NarrativeError) return { notRendered: { reason: 'malformed', detail: err.message } };
    throw err;
  }
}

/** The replacement chain with the documents this caller may see (the others are named by nothing). */
async function visibleHistory(asCaller: GatewayContext, patientId: string, entryUuid: string): Promise<{ chain: Replacement[]; documents: Map<string, DocumentSummary> }> {
  const chain = await replacementChain(asCaller.registry.db, entryUuid);
  if (!chain.length) return { chain, documents: new Map() };
  const summaries = await documentSummaries(asCaller.registry.db, [...new Set(chain.flatMap((c) => [c.replaced, c.by]))]);
  const { visible } = await queryVisibility(asCaller, patientId, summaries.map((s) => s.uniqueId));
  return { chain, documents: new Map(summaries.filter((s) => visible.has(s.uniqueId)).map((s) => [s.entryUuid, s])) };
}
