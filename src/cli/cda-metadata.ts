import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ParseOption, XmlDocument, XmlLibError, type XmlElement } from 'libxml2-wasm';
import { detectType, type DocumentType, type MetadataCode } from '../cda/document-types.js';
import { iiToCx, iiToUniqueId, readHeader, tsToUtcDtm, type CdaHeader, type CdaIi } from '../cda/header.js';
import { attrOf, elementsAt, stringAt } from '../cda/xpath.js';
import type { RimClassification, RimExternalIdentifier, RimObject, RimSlot } from '../ebrim/model.js';
import { rimObjectXml } from '../ebrim/serialize.js';
import { ASSOCIATION_TYPE, CLASSIFICATION_NODE, DOCUMENT_ENTRY_SCHEME, NS, OBJECT_TYPE, SUBMISSION_SET_SCHEME } from '../ebrim/uuids.js';
import { isDocumentUniqueId, isOid } from '../ebrim/values.js';
import type { OutgoingAttachment } from '../soap/mtom.js';

/** A coded value of the metadata: code, coding scheme and the name shown to people. */
export interface CodedValue {
  code: string;
  codingScheme: string;
  displayName: string;
}

/** Values the CDA header does not carry, or that the submitter wants instead of the header's. */
export interface MetadataOptions {
  /** Assigning authority of the affinity domain: the recordTarget id used as patientId. */
  patientAuthority: string;
  sourceId: string;
  contentType?: CodedValue;
  healthcareFacilityType?: CodedValue;
  practiceSetting?: CodedValue;
  classCode?: CodedValue;
  formatCode?: CodedValue;
  /** Added to the header's confidentiality (e.g. MASQUE_PS of 1.2.250.1.213.1.1.4.13). */
  extraConfidentiality: CodedValue[];
}

interface AuthorValues {
  person?: string;
  institutions: string[];
  roles: string[];
  specialties: string[];
}

/** Everything an ITI-41 submission of one CDA document says about it, read from its header. */
export interface CdaSubmission {
  documentType?: string;
  uniqueId: string;
  patientId: string;
  title?: string;
  typeCode: CodedValue;
  classCode: CodedValue;
  formatCode: CodedValue;
  confidentiality: CodedValue[];
  healthcareFacilityType: CodedValue;
  practiceSetting: CodedValue;
  contentType: CodedValue;
  creationTime: string;
  serviceStartTime?: string;
  serviceStopTime?: string;
  languageCode: string;
  legalAuthenticator?: string;
  authors: AuthorValues[];
  sourcePatientInfo: string[];
  sourceId: string;
  bytes: Buffer;
}

export type MetadataResult = { submission: CdaSubmission; problems?: undefined } | { submission?: undefined; problems: string[] };

const PARSE_OPTIONS = ParseOption.XML_PARSE_NONET | ParseOption.XML_PARSE_NO_XXE | ParseOption.XML_PARSE_BIG_LINES;
const DOC = '/hl7:ClinicalDocument';
/** RPPS national identifiers of professionals: XCN identifier type IDNPS in the DMP. */
const RPPS_ROOT = '1.2.250.1.71.4.2.1';

/** Whether the bytes look like a CDA R2 document, before parsing them. */
export function looksLikeCda(bytes: Buffer): boolean {
  const head = bytes.subarray(0, 8192).toString('utf8');
  return /<(?:[\w.-]+:)?ClinicalDocument[\s/>]/.test(head) && head.includes('urn:hl7-org:v3');
}

/**
 * Reads the header of a CDA document and derives the DocumentEntry and SubmissionSet values the
 * gateway checks against it (patient, type, class and format, confidentiality, dates, authors,
 * legal authenticator), plus the coded values the header may carry (facility type, practice
 * setting, content type). Whatever cannot be derived is listed as a problem, never invented.
 */
export function metadataFromCda(bytes: Buffer, types: DocumentType[], opts: MetadataOptions): MetadataResult {
  let doc: XmlDocument;
  try {
    doc = XmlDocument.fromBuffer(bytes, { option: PARSE_OPTIONS });
  } catch (err) {
    if (err instanceof XmlLibError) return { problems: [`not well-formed XML: ${err.message.trim()}`] };
    throw err;
  }
  try {
    if (doc.root.namespaceUri !== NS.cda || doc.root.name !== 'ClinicalDocument') return { problems: ['not a CDA document (root element is not ClinicalDocument of urn:hl7-org:v3)'] };
    return fromHeader(doc, readHeader(doc), types, opts, bytes);
  } finally {
    doc.dispose();
  }
}

function fromHeader(doc: XmlDocument, header: CdaHeader, types: DocumentType[], opts: MetadataOptions, bytes: Buffer): MetadataResult {
  const problems: string[] = [];
  const need = <T>(value: T | undefined, problem: string): T | undefined => {
    if (value === undefined) problems.push(problem);
    return value;
  };
  const type = detectType(types, header.templateIds, header.body.kind);

  const uniqueId = need(header.id && iiToUniqueId(header.id), 'ClinicalDocument/id is missing (DocumentEntry.uniqueId)');
  if (uniqueId !== undefined && !isDocumentUniqueId(uniqueId)) problems.push(`ClinicalDocument/id ${uniqueId} is not a valid document uniqueId (an OID, or OID^extension of at most 128 characters)`);
  const patient = header.patientIds.find((p) => p.root === opts.patientAuthority && p.extension);
  const found = header.patientIds.map(iiToCx).join(', ') || 'none';
  need(patient, `recordTarget/patientRole/id has no id of the affinity domain's authority ${opts.patientAuthority} (found: ${found})`);
  const typeCode = need(header.code && coded(header.code.code, header.code.codeSystem, header.code.displayName ?? header.title), 'ClinicalDocument/code is missing (DocumentEntry.typeCode)');
  const creationTime = need(header.effectiveTime && tsToUtcDtm(header.effectiveTime), 'ClinicalDocument/effectiveTime is missing or not an HL7 time stamp (DocumentEntry.creationTime)');
  const languageCode = need(header.languageCode, 'ClinicalDocument/languageCode is missing (DocumentEntry.languageCode)');
  const serviceStartTime = header.serviceStartTime && convertTime(header.serviceStartTime, 'low', problems);
  const serviceStopTime = header.serviceStopTime && convertTime(header.serviceStopTime, 'high', problems);
  const typeName = type ? `${type.type} document` : 'document of a type cda-templates/ does not describe';
  const classCode = need(opts.classCode ?? codeForType(type?.classCode, type && DEFAULTS.types[type.type]?.classCode), `the class code of a ${typeName} is not known: give --class-code`);
  const formatCode = need(opts.formatCode ?? codeForType(formatCodesOf(type, header), type && DEFAULTS.types[type.type]?.formatCode), `the format code of a ${typeName} is not known: give --format-code`);
  const facility = need(
    opts.healthcareFacilityType ?? codeAt(doc, `${DOC}/hl7:componentOf/hl7:encompassingEncounter/hl7:location/hl7:healthCareFacility/hl7:code`),
    'componentOf/encompassingEncounter/location/healthCareFacility/code is missing (healthcareFacilityTypeCode): give --facility-type',
  );
  const practice = need(opts.practiceSetting ?? practiceSettingOf(doc), 'no representedOrganization/standardIndustryClassCode in the header (practiceSettingCode): give --practice-setting');
  const contentType = need(
    opts.contentType ?? codeAt(doc, `${DOC}/hl7:componentOf/hl7:encompassingEncounter/hl7:code`),
    'componentOf/encompassingEncounter/code is missing (SubmissionSet.contentTypeCode): give --content-type',
  );
  if (header.confidentialityCodes.length === 0 && opts.extraConfidentiality.length === 0) problems.push('ClinicalDocument/confidentialityCode is missing (DocumentEntry.confidentialityCode)');
  if (problems.length) return { problems };

  const patientId = iiToCx(patient!);
  return {
    submission: {
      documentType: type?.type,
      uniqueId: uniqueId!,
      patientId,
      title: header.title,
      typeCode: typeCode!,
      classCode: classCode!,
      formatCode: formatCode!,
      confidentiality: [...header.confidentialityCodes.map((c) => coded(c.code, c.codeSystem, c.displayName)), ...opts.extraConfidentiality],
      healthcareFacilityType: facility!,
      practiceSetting: practice!,
      contentType: contentType!,
      creationTime: creationTime!,
      ...(serviceStartTime ? { serviceStartTime } : {}),
      ...(serviceStopTime ? { serviceStopTime } : {}),
      languageCode: languageCode!,
      legalAuthenticator: elementsAt(doc, `${DOC}/hl7:legalAuthenticator/hl7:assignedEntity`).map(xcn).find((x) => x !== undefined),
      authors: elementsAt(doc, `${DOC}/hl7:author`).map(authorOf),
      sourcePatientInfo: sourcePatientInfo(doc, patientId),
      sourceId: opts.sourceId,
      bytes,
    },
  };
}

function convertTime(ts: string, end: 'low' | 'high', problems: string[]): string | undefined {
  const dtm = tsToUtcDtm(ts);
  if (!dtm) problems.push(`documentationOf/serviceEvent/effectiveTime/${end} ${ts} is not an HL7 time stamp`);
  return dtm;
}

const coded = (code: string, codingScheme: string, displayName?: string): CodedValue => ({ code, codingScheme, displayName: displayName || code });

interface MetadataDefaults {
  /** classCode and formatCode of the document types whose cda-templates/ file leaves them open. */
  types: Record<string, { classCode?: MetadataCode; formatCode?: MetadataCode }>;
  /** Names of the class and format codes, by coding scheme then code: cda-templates/ holds codes only. */
  displayNames: Record<string, Record<string, string>>;
}

const DEFAULTS = JSON.parse(readFileSync(new URL('./metadata-defaults.json', import.meta.url), 'utf8')) as MetadataDefaults;

/** The first code a document type accepts (cda-templates/), else this client's default for the type, with its name. */
function codeForType(table: MetadataCode[] | undefined, fallback: MetadataCode | undefined): CodedValue | undefined {
  const c = table?.[0] ?? fallback;
  return c && coded(c.code, c.codingScheme, DEFAULTS.displayNames[c.codingScheme]?.[c.code]);
}

function formatCodesOf(type: DocumentType | undefined, header: CdaHeader): MetadataCode[] | undefined {
  if (!type) return undefined;
  if (type.body === 'structured') return type.formatCode;
  return (type.mediaTypes ?? []).filter((m) => m.mediaType === header.body.mediaType).map((m) => m.formatCode);
}

function codeOf(el: XmlElement | undefined): CodedValue | undefined {
  const c = el && attrOf(el, 'code');
  const system = el && attrOf(el, 'codeSystem');
  return c && system ? coded(c, system, attrOf(el, 'displayName')) : undefined;
}

const codeAt = (doc: XmlDocument, expression: string): CodedValue | undefined => codeOf(elementsAt(doc, expression)[0]);

/** The first standardIndustryClassCode of the performer's, an author's or the legal authenticator's organisation. */
function practiceSettingOf(doc: XmlDocument): CodedValue | undefined {
  const organisations = [
    `${DOC}/hl7:documentationOf/hl7:serviceEvent/hl7:performer/hl7:assignedEntity/hl7:representedOrganization`,
    `${DOC}/hl7:author/hl7:assignedAuthor/hl7:representedOrganization`,
    `${DOC}/hl7:legalAuthenticator/hl7:assignedEntity/hl7:representedOrganization`,
  ];
  for (const o of organisations) {
    const c = codeAt(doc, `${o}/hl7:standardIndustryClassCode`);
    if (c) return c;
  }
  return undefined;
}

function ii(el: XmlElement | undefined): CdaIi | undefined {
  const root = el && attrOf(el, 'root');
  if (!el || !root) return undefined;
  const extension = attrOf(el, 'extension');
  return extension ? { root, extension } : { root };
}

/** XCN as the DMP writes a professional: `id^FAMILY^Given^^^^^^&OID&ISO^D^^^IDNPS`. */
function xcn(entity: XmlElement): string | undefined {
  const id = ii(elementsAt(entity, 'hl7:id')[0]);
  if (!id?.extension) return undefined;
  const family = stringAt(entity, 'hl7:assignedPerson/hl7:name/hl7:family');
  const given = stringAt(entity, 'hl7:assignedPerson/hl7:name/hl7:given');
  return `${id.extension}^${family}^${given}^^^^^^&${id.root}&ISO^D^^^${id.root === RPPS_ROOT ? 'IDNPS' : 'EI'}`;
}

/** XON as the DMP writes an organisation: `Name^^^^^&OID&ISO^IDNST^^^id`. */
function xon(org: XmlElement | undefined): string | undefined {
  const name = org && stringAt(org, 'hl7:name');
  if (!org || !name) return undefined;
  const id = ii(elementsAt(org, 'hl7:id')[0]);
  return id?.extension ? `${name}^^^^^&${id.root}&ISO^IDNST^^^${id.extension}` : name;
}

const ce = (c: CodedValue | undefined): string[] => (c ? [`${c.code}^${c.displayName}^${c.codingScheme}`] : []);

function authorOf(author: XmlElement): AuthorValues {
  const assigned = elementsAt(author, 'hl7:assignedAuthor')[0];
  const institution = xon(assigned && elementsAt(assigned, 'hl7:representedOrganization')[0]);
  return {
    person: assigned && xcn(assigned),
    institutions: institution ? [institution] : [],
    roles: ce(codeOf(elementsAt(author, 'hl7:functionCode')[0])),
    specialties: ce(codeOf(assigned && elementsAt(assigned, 'hl7:code')[0])),
  };
}

/** PID-3, PID-5, PID-7 and PID-8 of the patient, as sourcePatientInfo carries them. */
function sourcePatientInfo(doc: XmlDocument, patientId: string): string[] {
  const patient = `${DOC}/hl7:recordTarget/hl7:patientRole/hl7:patient`;
  const birthName = (part: string) => stringAt(doc, `${patient}/hl7:name/hl7:${part}[@qualifier='BR']`) || stringAt(doc, `${patient}/hl7:name/hl7:${part}`);
  const info = [`PID-3|${patientId}`];
  const family = birthName('family');
  if (family) info.push(`PID-5|${family}^${birthName('given')}^^^^^L`);
  const birth = stringAt(doc, `${patient}/hl7:birthTime/@value`);
  if (birth) info.push(`PID-7|${birth}`);
  const gender = stringAt(doc, `${patient}/hl7:administrativeGenderCode/@code`);
  if (gender) info.push(`PID-8|${gender}`);
  return info;
}

/** A fresh OID from a random UUID (ITU-T X.667): a SubmissionSet uniqueId no other source can take. */
export function newUuidOid(): string {
  return `2.25.${BigInt(`0x${randomUUID().replaceAll('-', '')}`).toString()}`;
}

/** The ITI-41 request body for one document and its MTOM part. */
export interface ProvideAndRegister {
  bodyXml: string;
  attachments: OutgoingAttachment[];
  submissionSetUniqueId: string;
}

const SUBMISSION_SET = 'SubmissionSet01';
const DOCUMENT = 'Document01';

/** xdsb:ProvideAndRegisterDocumentSetRequest with one SubmissionSet, the DocumentEntry of the document and their HasMember association. */
export function provideAndRegister(s: CdaSubmission, submissionTime: Date = new Date()): ProvideAndRegister {
  const ids = new IdCounter();
  const submissionSetUniqueId = newUuidOid();
  const objects = [submissionSetObject(s, submissionSetUniqueId, submissionTime, ids), documentEntryObject(s, ids), hasMember(ids)];
  const contentId = `document01.${randomUUID()}@xdsgw`;
  const bodyXml =
    `<xdsb:ProvideAndRegisterDocumentSetRequest xmlns:xdsb="${NS.xdsb}">` +
    `<lcm:SubmitObjectsRequest xmlns:lcm="${NS.lcm}" xmlns:rim="${NS.rim}"><rim:RegistryObjectList>` +
    objects.map((o) => rimObjectXml(o)).join('') +
    `</rim:RegistryObjectList></lcm:SubmitObjectsRequest>` +
    `<xdsb:Document id="${DOCUMENT}"><xop:Include xmlns:xop="${NS.xop}" href="cid:${encodeURIComponent(contentId)}"/></xdsb:Document>` +
    `</xdsb:ProvideAndRegisterDocumentSetRequest>`;
  return { bodyXml, attachments: [{ contentId, contentType: 'text/xml', body: s.bytes }], submissionSetUniqueId };
}

class IdCounter {
  private n = 0;
  next(prefix: string): string {
    return `${prefix}${String(++this.n).padStart(2, '0')}`;
  }
}

const slot = (name: string, ...values: (string | undefined)[]): RimSlot[] => {
  const present = values.filter((v): v is string => v !== undefined && v !== '');
  return present.length ? [{ name, values: present }] : [];
};

function classification(ids: IdCounter, scheme: string, objectId: string, c: CodedValue): RimClassification {
  return {
    id: ids.next('cl'),
    classificationScheme: scheme,
    classifiedObject: objectId,
    nodeRepresentation: c.code,
    name: [{ value: c.displayName }],
    description: [],
    slots: [{ name: 'codingScheme', values: [c.codingScheme] }],
  };
}

function authorClassification(ids: IdCounter, scheme: string, objectId: string, a: AuthorValues): RimClassification {
  return {
    id: ids.next('cl'),
    classificationScheme: scheme,
    classifiedObject: objectId,
    nodeRepresentation: '',
    name: [],
    description: [],
    slots: [...slot('authorPerson', a.person), ...slot('authorInstitution', ...a.institutions), ...slot('authorRole', ...a.roles), ...slot('authorSpecialty', ...a.specialties)],
  };
}

function externalIdentifier(ids: IdCounter, scheme: string, objectId: string, value: string, name: string): RimExternalIdentifier {
  return { id: ids.next('ei'), identificationScheme: scheme, registryObject: objectId, value, name: [{ value: name }] };
}

const rimObject = (o: Partial<RimObject> & Pick<RimObject, 'kind' | 'id'>): RimObject => ({ name: [], description: [], slots: [], classifications: [], externalIdentifiers: [], ...o });

function submissionSetObject(s: CdaSubmission, uniqueId: string, at: Date, ids: IdCounter): RimObject {
  const author = s.authors[0];
  return rimObject({
    kind: 'RegistryPackage',
    id: SUBMISSION_SET,
    objectType: OBJECT_TYPE.registryPackage,
    slots: slot('submissionTime', at.toISOString().replace(/[-:T]/g, '').slice(0, 14)),
    classifications: [
      { id: ids.next('cl'), classifiedObject: SUBMISSION_SET, classificationNode: CLASSIFICATION_NODE.submissionSet, name: [], description: [], slots: [] },
      ...(author ? [authorClassification(ids, SUBMISSION_SET_SCHEME.author, SUBMISSION_SET, author)] : []),
      classification(ids, SUBMISSION_SET_SCHEME.contentTypeCode, SUBMISSION_SET, s.contentType),
    ],
    externalIdentifiers: [
      externalIdentifier(ids, SUBMISSION_SET_SCHEME.uniqueId, SUBMISSION_SET, uniqueId, 'XDSSubmissionSet.uniqueId'),
      externalIdentifier(ids, SUBMISSION_SET_SCHEME.sourceId, SUBMISSION_SET, s.sourceId, 'XDSSubmissionSet.sourceId'),
      externalIdentifier(ids, SUBMISSION_SET_SCHEME.patientId, SUBMISSION_SET, s.patientId, 'XDSSubmissionSet.patientId'),
    ],
  });
}

function documentEntryObject(s: CdaSubmission, ids: IdCounter): RimObject {
  const S = DOCUMENT_ENTRY_SCHEME;
  return rimObject({
    kind: 'ExtrinsicObject',
    id: DOCUMENT,
    objectType: OBJECT_TYPE.stableDocumentEntry,
    mimeType: 'text/xml',
    slots: [
      ...slot('creationTime', s.creationTime),
      ...slot('hash', createHash('sha1').update(s.bytes).digest('hex')),
      ...slot('languageCode', s.languageCode),
      ...slot('legalAuthenticator', s.legalAuthenticator),
      ...slot('serviceStartTime', s.serviceStartTime),
      ...slot('serviceStopTime', s.serviceStopTime),
      ...slot('size', String(s.bytes.length)),
      ...slot('sourcePatientId', s.patientId),
      ...slot('sourcePatientInfo', ...s.sourcePatientInfo),
    ],
    name: s.title ? [{ value: s.title }] : [],
    classifications: [
      ...s.authors.map((a) => authorClassification(ids, S.author, DOCUMENT, a)),
      classification(ids, S.classCode, DOCUMENT, s.classCode),
      ...s.confidentiality.map((c) => classification(ids, S.confidentialityCode, DOCUMENT, c)),
      classification(ids, S.formatCode, DOCUMENT, s.formatCode),
      classification(ids, S.healthcareFacilityTypeCode, DOCUMENT, s.healthcareFacilityType),
      classification(ids, S.practiceSettingCode, DOCUMENT, s.practiceSetting),
      classification(ids, S.typeCode, DOCUMENT, s.typeCode),
    ],
    externalIdentifiers: [
      externalIdentifier(ids, S.patientId, DOCUMENT, s.patientId, 'XDSDocumentEntry.patientId'),
      externalIdentifier(ids, S.uniqueId, DOCUMENT, s.uniqueId, 'XDSDocumentEntry.uniqueId'),
    ],
  });
}

function hasMember(ids: IdCounter): RimObject {
  return rimObject({
    kind: 'Association',
    id: ids.next('as'),
    objectType: OBJECT_TYPE.association,
    associationType: ASSOCIATION_TYPE.hasMember,
    sourceObject: SUBMISSION_SET,
    targetObject: DOCUMENT,
    slots: [{ name: 'SubmissionSetStatus', values: ['Original'] }],
  });
}

/** `CODE^DISPLAY^SCHEME` from the command line (the CE form ITI-18 uses too); the scheme must be an OID. */
export function parseCodedValue(text: string): CodedValue | undefined {
  const [code, display, scheme, ...rest] = text.split('^');
  if (!code || !scheme || rest.length || !isOid(scheme)) return undefined;
  return { code, codingScheme: scheme, displayName: display || code };
}
