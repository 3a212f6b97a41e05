import { randomUUID } from 'node:crypto';
import { XdsError } from '../errors.js';
import type { XmlElement } from '../xml/tree.js';
import type {
  Association,
  Author,
  Code,
  DocumentEntry,
  Folder,
  RimClassification,
  RimExternalIdentifier,
  RimKind,
  RimLocalizedString,
  RimObject,
  RimSlot,
  SubmissionMetadata,
  SubmissionSet,
  SubmittedDocument,
} from './model.js';
import {
  ASSOCIATION_TYPE,
  CLASSIFICATION_NODE,
  DOCUMENT_ENTRY_SCHEME,
  FOLDER_SCHEME,
  NS,
  OBJECT_TYPE,
  SUBMISSION_SET_SCHEME,
} from './uuids.js';
import { isUuidUrn } from './values.js';

const XML_LANG = '{http://www.w3.org/XML/1998/namespace}lang';

const metadataError = (message: string, location?: string): XdsError => new XdsError('XDSRegistryMetadataError', message, location);

const describe = (el: XmlElement): string => (el.ns === NS.rim ? `rim:${el.local}` : `{${el.ns}}${el.local}`);

export interface ParsedObjectList {
  objects: RimObject[];
  /** Ids of rim:ObjectRef elements: registry objects the submission refers to. */
  objectRefs: string[];
  errors: XdsError[];
}

/**
 * Reads a rim:RegistryObjectList losslessly. Top-level Classifications (the SubmissionSet and Folder
 * node classifications) are attached to the object they classify. Never throws for bad input.
 */
export function parseRegistryObjectList(list: XmlElement): ParsedObjectList {
  const objects: RimObject[] = [];
  const objectRefs: string[] = [];
  const errors: XdsError[] = [];
  if (list.ns !== NS.rim || list.local !== 'RegistryObjectList') {
    errors.push(metadataError(`expected rim:RegistryObjectList, found ${describe(list)}`));
    return { objects, objectRefs, errors };
  }
  const topLevel: RimClassification[] = [];
  for (const el of list.children) {
    if (el.ns !== NS.rim) {
      errors.push(metadataError(`unexpected element ${describe(el)} in rim:RegistryObjectList`));
      continue;
    }
    switch (el.local) {
      case 'ExtrinsicObject':
      case 'RegistryPackage':
      case 'Association': {
        const o = parseRegistryObject(el, el.local, errors);
        if (o) objects.push(o);
        break;
      }
      case 'Classification': {
        const c = parseClassification(el, undefined, errors);
        if (c) topLevel.push(c);
        break;
      }
      case 'ObjectRef': {
        const id = el.attrs.id;
        if (!id) errors.push(metadataError('rim:ObjectRef has no id attribute'));
        else if (!isUuidUrn(id)) errors.push(metadataError(`rim:ObjectRef id '${id}' is not a urn:uuid of a registry object`, id));
        else objectRefs.push(id);
        break;
      }
      default:
        errors.push(metadataError(`unexpected element rim:${el.local} in rim:RegistryObjectList`, el.attrs.id));
    }
  }
  if (topLevel.length > 0) {
    const byId = new Map<string, RimObject>();
    for (const o of objects) if (!byId.has(o.id)) byId.set(o.id, o);
    for (const c of topLevel) {
      const target = byId.get(c.classifiedObject);
      if (target) target.classifications.push(c);
      else errors.push(metadataError(`rim:Classification '${c.id}' classifies '${c.classifiedObject}', which is not an object of this submission`, c.id));
    }
  }
  return { objects, objectRefs, errors };
}

function parseRegistryObject(el: XmlElement, kind: RimKind, errors: XdsError[]): RimObject | undefined {
  const a = el.attrs;
  const id = a.id;
  if (!id) {
    errors.push(metadataError(`rim:${kind} has no id attribute`));
    return undefined;
  }
  const o: RimObject = { kind, id, name: [], description: [], slots: [], classifications: [], externalIdentifiers: [] };
  if (a.lid !== undefined) o.lid = a.lid;
  if (a.objectType !== undefined) o.objectType = a.objectType;
  if (a.status !== undefined) o.status = a.status;
  if (a.home !== undefined) o.home = a.home;
  if (kind === 'ExtrinsicObject') {
    if (a.mimeType !== undefined) o.mimeType = a.mimeType;
    if (a.isOpaque !== undefined) o.isOpaque = a.isOpaque;
  }
  if (kind === 'Association') {
    for (const attr of ['associationType', 'sourceObject', 'targetObject'] as const) {
      const v = a[attr];
      if (v) o[attr] = v;
      else errors.push(metadataError(`rim:Association '${id}' has no ${attr} attribute`, id));
    }
  }
  for (const c of el.children) {
    if (c.ns !== NS.rim) {
      errors.push(metadataError(`unexpected element ${describe(c)} in rim:${kind} '${id}'`, id));
      continue;
    }
    switch (c.local) {
      case 'Slot': {
        const slot = parseSlot(c, id, errors);
        if (slot) o.slots.push(slot);
        break;
      }
      case 'Name':
        o.name = parseLocalizedStrings(c);
        break;
      case 'Description':
        o.description = parseLocalizedStrings(c);
        break;
      case 'VersionInfo':
        if (c.attrs.versionName !== undefined) o.versionName = c.attrs.versionName;
        break;
      case 'Classification': {
        const cl = parseClassification(c, id, errors);
        if (cl) o.classifications.push(cl);
        break;
      }
      case 'ExternalIdentifier': {
        const ei = parseExternalIdentifier(c, id, errors);
        if (ei) o.externalIdentifiers.push(ei);
        break;
      }
      case 'ContentVersionInfo':
        // Registry-assigned version of the content: nothing a submitter decides.
        break;
      default:
        errors.push(metadataError(`unexpected element rim:${c.local} in rim:${kind} '${id}'`, id));
    }
  }
  return o;
}

function parseSlot(el: XmlElement, owner: string, errors: XdsError[]): RimSlot | undefined {
  const name = el.attrs.name;
  if (!name) {
    errors.push(metadataError(`rim:Slot without a name attribute in '${owner}'`, owner));
    return undefined;
  }
  const values: string[] = [];
  for (const list of el.children) {
    if (list.ns !== NS.rim || list.local !== 'ValueList') {
      errors.push(metadataError(`unexpected element ${describe(list)} in rim:Slot '${name}' of '${owner}'`, owner));
      continue;
    }
    for (const v of list.children) {
      if (v.ns === NS.rim && v.local === 'Value') values.push(v.text);
      else errors.push(metadataError(`unexpected element ${describe(v)} in rim:ValueList of slot '${name}' of '${owner}'`, owner));
    }
  }
  const slot: RimSlot = { name, values };
  if (el.attrs.slotType !== undefined) slot.slotType = el.attrs.slotType;
  return slot;
}

function parseLocalizedStrings(el: XmlElement): RimLocalizedString[] {
  const out: RimLocalizedString[] = [];
  for (const c of el.children) {
    if (c.ns !== NS.rim || c.local !== 'LocalizedString') continue;
    const s: RimLocalizedString = { value: c.attrs.value ?? '' };
    const lang = c.attrs[XML_LANG];
    if (lang !== undefined) s.lang = lang;
    if (c.attrs.charset !== undefined) s.charset = c.attrs.charset;
    out.push(s);
  }
  return out;
}

function parseClassification(el: XmlElement, parent: string | undefined, errors: XdsError[]): RimClassification | undefined {
  const a = el.attrs;
  const where = parent ? ` in '${parent}'` : '';
  if (!a.id) {
    errors.push(metadataError(`rim:Classification${where} has no id attribute`, parent));
    return undefined;
  }
  const classifiedObject = a.classifiedObject ?? parent;
  if (!classifiedObject) {
    errors.push(metadataError(`rim:Classification '${a.id}' has no classifiedObject attribute`, a.id));
    return undefined;
  }
  const c: RimClassification = { id: a.id, classifiedObject, name: [], description: [], slots: [] };
  if (a.classificationScheme !== undefined) c.classificationScheme = a.classificationScheme;
  if (a.classificationNode !== undefined) c.classificationNode = a.classificationNode;
  if (a.nodeRepresentation !== undefined) c.nodeRepresentation = a.nodeRepresentation;
  for (const child of el.children) {
    if (child.ns !== NS.rim) {
      errors.push(metadataError(`unexpected element ${describe(child)} in rim:Classification '${a.id}'`, parent ?? a.id));
      continue;
    }
    if (child.local === 'Slot') {
      const slot = parseSlot(child, a.id, errors);
      if (slot) c.slots.push(slot);
    } else if (child.local === 'Name') c.name = parseLocalizedStrings(child);
    else if (child.local === 'Description') c.description = parseLocalizedStrings(child);
    else errors.push(metadataError(`unexpected element rim:${child.local} in rim:Classification '${a.id}'`, parent ?? a.id));
  }
  return c;
}

function parseExternalIdentifier(el: XmlElement, parent: string, errors: XdsError[]): RimExternalIdentifier | undefined {
  const a = el.attrs;
  if (!a.id || !a.identificationScheme || a.value === undefined) {
    const missing = !a.id ? 'id' : !a.identificationScheme ? 'identificationScheme' : 'value';
    errors.push(metadataError(`rim:ExternalIdentifier${a.id ? ` '${a.id}'` : ''} in '${parent}' has no ${missing} attribute`, parent));
    return undefined;
  }
  const ei: RimExternalIdentifier = { id: a.id, identificationScheme: a.identificationScheme, registryObject: a.registryObject ?? parent, value: a.value, name: [] };
  for (const child of el.children) {
    if (child.ns === NS.rim && child.local === 'Name') ei.name = parseLocalizedStrings(child);
  }
  return ei;
}

const ASSOCIATION_SHORT_NAMES: Record<string, string> = { HasMember: ASSOCIATION_TYPE.hasMember };

/**
 * Sorts the ebRIM objects into the XDS objects, replaces symbolic ids by fresh `urn:uuid:` ids
 * everywhere they occur, and fills the typed fields. A reference to a symbolic id that no object
 * of the submission carries is left as written, for validation to report.
 */
export function toSubmissionMetadata(objects: RimObject[]): { metadata?: SubmissionMetadata; errors: XdsError[] } {
  const errors: XdsError[] = [];
  const ids = new IdMap();
  for (const o of objects) {
    ids.declare(o.id);
    for (const c of o.classifications) ids.declare(c.id);
    for (const e of o.externalIdentifiers) ids.declare(e.id);
  }

  const submissionSets: SubmissionSet[] = [];
  const documentEntries: DocumentEntry[] = [];
  const folders: Folder[] = [];
  const associations: Association[] = [];
  for (const submitted of objects) {
    const rim = withUuids(submitted, ids);
    switch (submitted.kind) {
      case 'ExtrinsicObject': {
        const entryType = submitted.objectType === OBJECT_TYPE.stableDocumentEntry ? 'stable' : submitted.objectType === OBJECT_TYPE.onDemandDocumentEntry ? 'on-demand' : undefined;
        if (entryType) documentEntries.push(toDocumentEntry(rim, submitted.id, entryType));
        else errors.push(metadataError(`rim:ExtrinsicObject '${submitted.id}' has objectType '${submitted.objectType ?? ''}', which is not a DocumentEntry type`, submitted.id));
        break;
      }
      case 'RegistryPackage': {
        const isSubmissionSet = hasNode(rim, CLASSIFICATION_NODE.submissionSet);
        const isFolder = hasNode(rim, CLASSIFICATION_NODE.folder);
        if (isSubmissionSet && isFolder) errors.push(metadataError(`rim:RegistryPackage '${submitted.id}' is classified both as SubmissionSet and as Folder`, submitted.id));
        else if (isSubmissionSet) submissionSets.push(toSubmissionSet(rim, submitted.id));
        else if (isFolder) folders.push(toFolder(rim, submitted.id));
        else errors.push(metadataError(`rim:RegistryPackage '${submitted.id}' is classified neither as SubmissionSet nor as Folder`, submitted.id));
        break;
      }
      case 'Association':
        associations.push(toAssociation(rim, submitted.id));
        break;
    }
  }

  const [submissionSet, ...extra] = submissionSets;
  for (const ss of extra) errors.push(metadataError(`more than one SubmissionSet in the submission: '${ss.submittedId}' besides '${submissionSet!.submittedId}'`, ss.submittedId));
  if (!submissionSet) {
    errors.push(metadataError('the submission has no SubmissionSet (a rim:RegistryPackage classified with urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd)'));
    return { errors };
  }
  return { metadata: { submissionSet, documentEntries, folders, associations }, errors };
}

/** Symbolic id → fresh `urn:uuid:`; UUID ids map to themselves. */
class IdMap {
  private readonly fresh = new Map<string, string>();

  declare(id: string): void {
    if (!isUuidUrn(id) && !this.fresh.has(id)) this.fresh.set(id, `urn:uuid:${randomUUID()}`);
  }

  /** A reference: resolved when declared, else left as written. */
  ref(id: string): string {
    return this.fresh.get(id) ?? id;
  }

  /** An id the submission itself defines (a lid naming no object gets its own fresh UUID). */
  own(id: string): string {
    this.declare(id);
    return this.ref(id);
  }
}

function withUuids(o: RimObject, ids: IdMap): RimObject {
  const out: RimObject = {
    ...o,
    id: ids.ref(o.id),
    classifications: o.classifications.map((c) => ({ ...c, id: ids.ref(c.id), classifiedObject: ids.ref(c.classifiedObject) })),
    externalIdentifiers: o.externalIdentifiers.map((e) => ({ ...e, id: ids.ref(e.id), registryObject: ids.ref(e.registryObject) })),
  };
  if (o.lid !== undefined) out.lid = ids.own(o.lid);
  if (o.sourceObject !== undefined) out.sourceObject = ids.ref(o.sourceObject);
  if (o.targetObject !== undefined) out.targetObject = ids.ref(o.targetObject);
  if (o.associationType !== undefined) out.associationType = ASSOCIATION_SHORT_NAMES[o.associationType] ?? o.associationType;
  return out;
}

const hasNode = (o: RimObject, node: string): boolean => o.classifications.some((c) => c.classificationNode === node && c.classifiedObject === o.id);

/** Slots by name, first occurrence (duplicates are reported by validation). */
function slotIndex(slots: RimSlot[]): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const s of slots) if (!m.has(s.name)) m.set(s.name, s.values);
  return m;
}

function classificationIndex(o: RimObject): Map<string, RimClassification[]> {
  const m = new Map<string, RimClassification[]>();
  for (const c of o.classifications) {
    if (c.classificationScheme === undefined) continue;
    const list = m.get(c.classificationScheme);
    if (list) list.push(c);
    else m.set(c.classificationScheme, [c]);
  }
  return m;
}

const externalId = (o: RimObject, scheme: string): string => o.externalIdentifiers.find((e) => e.identificationScheme === scheme)?.value ?? '';

function toCode(c: RimClassification): Code {
  const code: Code = { code: c.nodeRepresentation ?? '', codingScheme: c.slots.find((s) => s.name === 'codingScheme')?.values[0] ?? '' };
  const display = c.name[0]?.value;
  if (display !== undefined) code.displayName = display;
  return code;
}

function toAuthor(c: RimClassification): Author {
  const slots = slotIndex(c.slots);
  const author: Author = {
    institutions: slots.get('authorInstitution') ?? [],
    roles: slots.get('authorRole') ?? [],
    specialties: slots.get('authorSpecialty') ?? [],
    telecommunications: slots.get('authorTelecommunication') ?? [],
  };
  const person = slots.get('authorPerson')?.[0];
  if (person !== undefined) author.person = person;
  return author;
}

/** Sets `target[key]` only when the value exists, so typed objects carry no undefined keys. */
function put<T, K extends keyof T>(target: T, key: K, value: T[K] | undefined): void {
  if (value !== undefined) target[key] = value;
}

function toDocumentEntry(rim: RimObject, submittedId: string, entryType: DocumentEntry['entryType']): DocumentEntry {
  const slots = slotIndex(rim.slots);
  const codes = classificationIndex(rim);
  const first = (scheme: string): Code | undefined => {
    const c = codes.get(scheme)?.[0];
    return c && toCode(c);
  };
  const entry: DocumentEntry = {
    id: rim.id,
    submittedId,
    lid: rim.lid ?? rim.id,
    entryType,
    uniqueId: externalId(rim, DOCUMENT_ENTRY_SCHEME.uniqueId),
    patientId: externalId(rim, DOCUMENT_ENTRY_SCHEME.patientId),
    mimeType: rim.mimeType ?? '',
    confidentialityCodes: (codes.get(DOCUMENT_ENTRY_SCHEME.confidentialityCode) ?? []).map(toCode),
    eventCodes: (codes.get(DOCUMENT_ENTRY_SCHEME.eventCodeList) ?? []).map(toCode),
    authors: (codes.get(DOCUMENT_ENTRY_SCHEME.author) ?? []).map(toAuthor),
    sourcePatientInfo: slots.get('sourcePatientInfo') ?? [],
    referenceIdList: slots.get('referenceIdList') ?? [],
    rim,
  };
  put(entry, 'status', rim.status);
  put(entry, 'title', rim.name[0]?.value);
  put(entry, 'comments', rim.description[0]?.value);
  put(entry, 'classCode', first(DOCUMENT_ENTRY_SCHEME.classCode));
  put(entry, 'typeCode', first(DOCUMENT_ENTRY_SCHEME.typeCode));
  put(entry, 'formatCode', first(DOCUMENT_ENTRY_SCHEME.formatCode));
  put(entry, 'practiceSettingCode', first(DOCUMENT_ENTRY_SCHEME.practiceSettingCode));
  put(entry, 'healthcareFacilityTypeCode', first(DOCUMENT_ENTRY_SCHEME.healthcareFacilityTypeCode));
  for (const key of ['creationTime', 'serviceStartTime', 'serviceStopTime', 'languageCode', 'sourcePatientId', 'legalAuthenticator', 'hash', 'size', 'repositoryUniqueId'] as const) {
    put(entry, key, slots.get(key)?.[0]);
  }
  return entry;
}

function toSubmissionSet(rim: RimObject, submittedId: string): SubmissionSet {
  const slots = slotIndex(rim.slots);
  const codes = classificationIndex(rim);
  const ss: SubmissionSet = {
    id: rim.id,
    submittedId,
    uniqueId: externalId(rim, SUBMISSION_SET_SCHEME.uniqueId),
    sourceId: externalId(rim, SUBMISSION_SET_SCHEME.sourceId),
    patientId: externalId(rim, SUBMISSION_SET_SCHEME.patientId),
    authors: (codes.get(SUBMISSION_SET_SCHEME.author) ?? []).map(toAuthor),
    intendedRecipients: slots.get('intendedRecipient') ?? [],
    rim,
  };
  put(ss, 'submissionTime', slots.get('submissionTime')?.[0]);
  put(ss, 'title', rim.name[0]?.value);
  put(ss, 'comments', rim.description[0]?.value);
  const contentType = codes.get(SUBMISSION_SET_SCHEME.contentTypeCode)?.[0];
  put(ss, 'contentTypeCode', contentType && toCode(contentType));
  return ss;
}

function toFolder(rim: RimObject, submittedId: string): Folder {
  const folder: Folder = {
    id: rim.id,
    submittedId,
    uniqueId: externalId(rim, FOLDER_SCHEME.uniqueId),
    patientId: externalId(rim, FOLDER_SCHEME.patientId),
    codeList: (classificationIndex(rim).get(FOLDER_SCHEME.codeList) ?? []).map(toCode),
    rim,
  };
  put(folder, 'title', rim.name[0]?.value);
  put(folder, 'comments', rim.description[0]?.value);
  put(folder, 'lastUpdateTime', slotIndex(rim.slots).get('lastUpdateTime')?.[0]);
  return folder;
}

function toAssociation(rim: RimObject, submittedId: string): Association {
  const association: Association = {
    id: rim.id,
    submittedId,
    type: rim.associationType ?? '',
    sourceObject: rim.sourceObject ?? '',
    targetObject: rim.targetObject ?? '',
    rim,
  };
  put(association, 'submissionSetStatus', slotIndex(rim.slots).get('SubmissionSetStatus')?.[0]);
  return association;
}

export interface ParsedProvideAndRegister {
  metadata?: SubmissionMetadata;
  documents: SubmittedDocument[];
  errors: XdsError[];
}

/**
 * ITI-41 request body (xdsb:ProvideAndRegisterDocumentSetRequest): the metadata, and each
 * xdsb:Document's bytes through `resolveDocument` (XOP or inline base64, the SOAP layer's job;
 * its exceptions propagate).
 */
export function parseProvideAndRegister(body: XmlElement, resolveDocument: (documentEl: XmlElement) => Buffer): ParsedProvideAndRegister {
  const documents: SubmittedDocument[] = [];
  if (body.ns !== NS.xdsb || body.local !== 'ProvideAndRegisterDocumentSetRequest') {
    return { documents, errors: [metadataError(`expected xdsb:ProvideAndRegisterDocumentSetRequest, found ${describe(body)}`)] };
  }
  const request = body.children.find((c) => c.ns === NS.lcm && c.local === 'SubmitObjectsRequest');
  if (!request) return { documents, errors: [metadataError('xdsb:ProvideAndRegisterDocumentSetRequest has no lcm:SubmitObjectsRequest')] };
  const { metadata, errors } = parseSubmitObjects(request);

  const seen = new Set<string>();
  for (const el of body.children) {
    if (el.ns !== NS.xdsb || el.local !== 'Document') continue;
    const id = el.attrs.id;
    if (!id) {
      errors.push(metadataError('xdsb:Document has no id attribute'));
      continue;
    }
    if (seen.has(id)) {
      errors.push(metadataError(`xdsb:Document id '${id}' appears more than once`, id));
      continue;
    }
    seen.add(id);
    documents.push({ submittedId: id, bytes: resolveDocument(el) });
  }
  return metadata ? { metadata, documents, errors } : { documents, errors };
}

/** ITI-42 request body (lcm:SubmitObjectsRequest): the same metadata, no documents. */
export function parseRegisterDocumentSet(body: XmlElement): { metadata?: SubmissionMetadata; errors: XdsError[] } {
  if (body.ns !== NS.lcm || body.local !== 'SubmitObjectsRequest') {
    return { errors: [metadataError(`expected lcm:SubmitObjectsRequest, found ${describe(body)}`)] };
  }
  return parseSubmitObjects(body);
}

function parseSubmitObjects(request: XmlElement): { metadata?: SubmissionMetadata; errors: XdsError[] } {
  const list = request.children.find((c) => c.ns === NS.rim && c.local === 'RegistryObjectList');
  if (!list) return { errors: [metadataError('lcm:SubmitObjectsRequest has no rim:RegistryObjectList')] };
  const parsed = parseRegistryObjectList(list);
  const converted = toSubmissionMetadata(parsed.objects);
  const errors = [...parsed.errors, ...converted.errors];
  return converted.metadata ? { metadata: converted.metadata, errors } : { errors };
}
