import type { RimClassification, RimObject } from '../ebrim/model.js';
import { slotValue, slotValues } from '../ebrim/model.js';
import { parseRegistryObjectList } from '../ebrim/parse.js';
import { DOCUMENT_ENTRY_SCHEME, NS } from '../ebrim/uuids.js';
import { resolveXop } from '../soap/mtom.js';
import { child, childrenOf, type XmlElement } from '../xml/tree.js';
import { CliError, EXIT } from './exit.js';

/** One rs:RegistryError: the XDS code, its message (codeContext), the object concerned. */
export interface RegistryErrorView {
  code: string;
  message: string;
  location?: string;
  severity: 'Error' | 'Warning';
}

export interface RegistryOutcome {
  status: 'Success' | 'Failure' | 'PartialSuccess';
  errors: RegistryErrorView[];
}

const shortName = (urn: string | undefined): string => (urn ?? '').split(':').pop() ?? '';

function unexpectedBody(el: XmlElement, expected: string): CliError {
  return new CliError(`the gateway answered <${el.local}> where ${expected} was expected`, EXIT.unexpectedAnswer);
}

/** Status and errors of rs:RegistryResponse, or of a response element that carries them itself (query:AdhocQueryResponse). */
export function registryOutcome(el: XmlElement): RegistryOutcome {
  const response = el.attrs.status !== undefined ? el : child(el, NS.rs, 'RegistryResponse');
  if (!response) throw unexpectedBody(el, 'a RegistryResponse');
  const status = shortName(response.attrs.status);
  if (status !== 'Success' && status !== 'Failure' && status !== 'PartialSuccess') {
    throw new CliError(`the gateway answered the unknown response status '${response.attrs.status ?? ''}'`, EXIT.unexpectedAnswer);
  }
  const list = child(response, NS.rs, 'RegistryErrorList');
  const errors = (list ? childrenOf(list, NS.rs, 'RegistryError') : []).map((e) => ({
    code: e.attrs.errorCode ?? '',
    message: e.attrs.codeContext ?? e.text.trim(),
    ...(e.attrs.location ? { location: e.attrs.location } : {}),
    severity: shortName(e.attrs.severity) === 'Warning' ? ('Warning' as const) : ('Error' as const),
  }));
  return { status, errors };
}

export interface CodeView {
  code: string;
  codingScheme?: string;
  displayName?: string;
}

/** A DocumentEntry as a query shows it. */
export interface DocumentSummary {
  entryUUID: string;
  uniqueId?: string;
  patientId?: string;
  status: string;
  mimeType?: string;
  title?: string;
  creationTime?: string;
  serviceStartTime?: string;
  serviceStopTime?: string;
  languageCode?: string;
  size?: number;
  hash?: string;
  repositoryUniqueId?: string;
  typeCode?: CodeView;
  classCode?: CodeView;
  formatCode?: CodeView;
  practiceSettingCode?: CodeView;
  healthcareFacilityTypeCode?: CodeView;
  confidentialityCodes: CodeView[];
  authors: string[];
}

export interface QueryResult extends RegistryOutcome {
  documents: DocumentSummary[];
  /** ObjectRef answers: the entryUUIDs only. */
  references: string[];
}

/** query:AdhocQueryResponse read into document summaries (LeafClass) or references (ObjectRef). */
export function queryResult(el: XmlElement): QueryResult {
  if (el.ns !== NS.query || el.local !== 'AdhocQueryResponse') throw unexpectedBody(el, 'query:AdhocQueryResponse');
  const outcome = registryOutcome(el);
  const list = child(el, NS.rim, 'RegistryObjectList');
  if (!list) return { ...outcome, documents: [], references: [] };
  const parsed = parseRegistryObjectList(list);
  const documents = parsed.objects.filter((o) => o.kind === 'ExtrinsicObject').map(documentSummary);
  return { ...outcome, documents, references: parsed.objectRefs };
}

function code(c: RimClassification | undefined): CodeView | undefined {
  if (!c?.nodeRepresentation) return undefined;
  const scheme = slotValue(c.slots, 'codingScheme');
  const display = c.name[0]?.value;
  return { code: c.nodeRepresentation, ...(scheme ? { codingScheme: scheme } : {}), ...(display ? { displayName: display } : {}) };
}

function documentSummary(o: RimObject): DocumentSummary {
  const classified = (scheme: string) => o.classifications.filter((c) => c.classificationScheme === scheme);
  const identifier = (scheme: string) => o.externalIdentifiers.find((e) => e.identificationScheme === scheme)?.value;
  const size = slotValue(o.slots, 'size');
  const summary: DocumentSummary = {
    entryUUID: o.id,
    uniqueId: identifier(DOCUMENT_ENTRY_SCHEME.uniqueId),
    patientId: identifier(DOCUMENT_ENTRY_SCHEME.patientId),
    status: shortName(o.status),
    mimeType: o.mimeType,
    title: o.name[0]?.value,
    creationTime: slotValue(o.slots, 'creationTime'),
    serviceStartTime: slotValue(o.slots, 'serviceStartTime'),
    serviceStopTime: slotValue(o.slots, 'serviceStopTime'),
    languageCode: slotValue(o.slots, 'languageCode'),
    size: size === undefined ? undefined : Number(size),
    hash: slotValue(o.slots, 'hash'),
    repositoryUniqueId: slotValue(o.slots, 'repositoryUniqueId'),
    typeCode: code(classified(DOCUMENT_ENTRY_SCHEME.typeCode)[0]),
    classCode: code(classified(DOCUMENT_ENTRY_SCHEME.classCode)[0]),
    formatCode: code(classified(DOCUMENT_ENTRY_SCHEME.formatCode)[0]),
    practiceSettingCode: code(classified(DOCUMENT_ENTRY_SCHEME.practiceSettingCode)[0]),
    healthcareFacilityTypeCode: code(classified(DOCUMENT_ENTRY_SCHEME.healthcareFacilityTypeCode)[0]),
    confidentialityCodes: classified(DOCUMENT_ENTRY_SCHEME.confidentialityCode).flatMap((c) => code(c) ?? []),
    authors: classified(DOCUMENT_ENTRY_SCHEME.author).flatMap((c) => slotValues(c.slots, 'authorPerson')),
  };
  return JSON.parse(JSON.stringify(summary)) as DocumentSummary;
}

export interface RetrievedDocument {
  repositoryUniqueId: string;
  documentUniqueId: string;
  mimeType: string;
  bytes: Buffer;
}

/** xdsb:RetrieveDocumentSetResponse: its status and errors, and each document's bytes from its MTOM part. */
export function retrieveResult(el: XmlElement, attachments: Map<string, Buffer>): RegistryOutcome & { documents: RetrievedDocument[] } {
  if (el.ns !== NS.xdsb || el.local !== 'RetrieveDocumentSetResponse') throw unexpectedBody(el, 'xdsb:RetrieveDocumentSetResponse');
  const outcome = registryOutcome(el);
  const documents = childrenOf(el, NS.xdsb, 'DocumentResponse').map((d) => {
    const text = (local: string) => child(d, NS.xdsb, local)?.text.trim() ?? '';
    const document = child(d, NS.xdsb, 'Document');
    if (!document) throw new CliError(`the DocumentResponse for ${text('DocumentUniqueId')} has no Document`, EXIT.unexpectedAnswer);
    let bytes: Buffer;
    try {
      bytes = resolveXop(document, attachments);
    } catch (err) {
      throw new CliError(`the document ${text('DocumentUniqueId')} cannot be read from the answer: ${(err as Error).message}`, EXIT.unexpectedAnswer);
    }
    return { repositoryUniqueId: text('RepositoryUniqueId'), documentUniqueId: text('DocumentUniqueId'), mimeType: text('mimeType'), bytes };
  });
  return { ...outcome, documents };
}

/** `XDSUnknownPatientId: patient ... is not registered`: how errors are shown to people. */
export const formatRegistryError = (e: RegistryErrorView): string => `${e.severity === 'Warning' ? 'warning ' : ''}${e.code}: ${e.message}`;
