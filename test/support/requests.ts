import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ASSOCIATION_TYPE,
  CLASSIFICATION_NODE,
  DOCUMENT_ENTRY_SCHEME,
  NS,
  OBJECT_TYPE,
  SOAP_ACTION,
  SUBMISSION_SET_SCHEME,
} from '../../src/ebrim/uuids.js';
import { escapeXml } from '../../src/xml/tree.js';
import { cdaFacts, type AuthorSpec, type CdaFacts, type CodeSpec } from './cda-facts.js';
import { newMessageId, newOid, TEST_OID_ARC } from './ids.js';
import { labResultSample } from './cda-samples.js';

export { newOid, newPatientId, newMessageId, INS_NIR_OID, TEST_OID_ARC } from './ids.js';
export { cdaPatientId, sampleCda, makeLabResult, labResultSample, patientIdToII, hl7Time, SAMPLES_CDA_DIR, type LabResultOptions, type LabPatient } from './cda-samples.js';
export { cdaFacts, cdaTimeToUtc, type CdaFacts, type CodeSpec, type AuthorSpec, type PatientDemographics } from './cda-facts.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Where the builders address their requests unless told otherwise (the gateway's default port). */
export const DEFAULT_BASE_URL = 'http://localhost:8080';

export interface SlotSpec {
  name: string;
  values: string[];
}

/** One document of a submission; everything but the bytes has a default, taken from the CDA header when the bytes are one. */
export interface DocSpec {
  /** Symbolic id of the DocumentEntry and of its xdsb:Document (default Document01, Document02, ...). */
  id?: string;
  bytes: Buffer;
  mimeType?: string;
  uniqueId?: string;
  /** DocumentEntry.patientId (default: the submission's). */
  patientId?: string;
  /** Sent as the hash slot only when given. */
  hash?: string;
  /** Sent as the size slot only when given. */
  size?: number;
  typeCode?: CodeSpec;
  classCode?: CodeSpec;
  formatCode?: CodeSpec;
  confidentiality?: CodeSpec[];
  healthcareFacilityType?: CodeSpec;
  practiceSetting?: CodeSpec;
  eventCodes?: CodeSpec[];
  title?: string;
  creationTime?: string;
  serviceStartTime?: string;
  serviceStopTime?: string;
  languageCode?: string;
  legalAuthenticator?: string;
  sourcePatientId?: string;
  sourcePatientInfo?: string[];
  authors?: AuthorSpec[];
  repositoryUniqueId?: string;
  extraSlots?: SlotSpec[];
  /** Leave out these slots, classifications or external identifiers, by metadata name ('creationTime', 'classCode', 'uniqueId', ...). */
  omit?: string[];
}

export interface AssociationSpec {
  id?: string;
  /** Full association type, e.g. ASSOCIATION_TYPE.replace. */
  type: string;
  /** Symbolic id in this submission or urn:uuid of a registered object. */
  source: string;
  target: string;
  slots?: SlotSpec[];
}

export interface SubmissionSpec {
  patientId: string;
  documents: DocSpec[];
  submissionSetUniqueId?: string;
  sourceId?: string;
  submissionTime?: string;
  title?: string;
  contentTypeCode?: CodeSpec;
  /** SubmissionSet author (default: the first document's first author). */
  author?: AuthorSpec;
  intendedRecipients?: string[];
  /** Symbolic DocumentEntry ids whose xdsb:Document is left out (XDSMissingDocument). */
  omitDocumentBytesFor?: string[];
  /** xdsb:Document elements that no DocumentEntry describes (XDSMissingDocumentMetadata). */
  extraDocumentsWithoutMetadata?: { id: string; bytes: Buffer; mimeType?: string }[];
  /** Associations besides the HasMember ones, e.g. RPLC or signs. */
  associations?: AssociationSpec[];
  /** Leave out these SubmissionSet slots, classifications or external identifiers by name. */
  omit?: string[];
}

export interface SubmissionIds {
  submissionSet: string;
  documents: string[];
}

export interface BuiltRequest {
  contentType: string;
  body: Buffer;
  messageId: string;
}

export interface Iti41Request extends BuiltRequest {
  uniqueIds: SubmissionIds;
}

export interface EnvelopeOptions {
  messageId?: string;
  to?: string;
  /** Extra SOAP header blocks (WS-Security, SAML/VIHF), inserted as is. */
  headersXml?: string;
}

export const codeSpec = (code: string, scheme: string, display: string): CodeSpec => ({ code, scheme, display });

/** Code systems and codes of the French affinity domain (CI-SIS), as the defaults use them. */
export const DMP_CODES = {
  loinc: '2.16.840.1.113883.6.1',
  classCode: (c: string, display: string) => codeSpec(c, '1.2.250.1.213.1.1.4.1', display),
  ciSisFormat: (c: string, display: string) => codeSpec(c, '1.2.250.1.213.1.1.4.2.282', display),
  iheFormat: (c: string, display: string) => codeSpec(c, '1.3.6.1.4.1.19376.1.2.3', display),
  normal: codeSpec('N', '2.16.840.1.113883.5.25', 'Normal'),
  masquePs: codeSpec('MASQUE_PS', '1.2.250.1.213.1.1.4.13', 'Masqué aux professionnels de santé'),
  invisiblePatient: codeSpec('INVISIBLE_PATIENT', '1.2.250.1.213.1.1.4.13', 'Non visible par le patient'),
  etablissementPublic: codeSpec('SA01', '1.2.250.1.71.4.2.4', 'Etablissement public de santé'),
  laboratoire: codeSpec('SA25', '1.2.250.1.71.4.2.4', 'Laboratoire de biologie médicale'),
  etablissement: codeSpec('ETABLISSEMENT', '1.2.250.1.213.1.1.4.9', 'Etablissement de santé'),
  ambulatoire: codeSpec('AMBULATOIRE', '1.2.250.1.213.1.1.4.9', 'Ambulatoire'),
  hospitalisationDeJour: codeSpec('04', '1.2.250.1.213.2.2', 'Hospitalisation de jour'),
} as const;

const LAB_REPORT = codeSpec('11502-2', DMP_CODES.loinc, "CR d'examens biologiques");

/** classCode and formatCode that go with each CI-SIS document type (by LOINC typeCode). */
const DOCUMENT_TYPES: Record<string, { classCode: CodeSpec; formatCode: CodeSpec }> = {
  '11502-2': { classCode: DMP_CODES.classCode('10', 'Compte rendu'), formatCode: DMP_CODES.iheFormat('urn:ihe:lab:xd-lab:2008', 'CR de biologie') },
  '11490-0': { classCode: DMP_CODES.classCode('10', 'Compte rendu'), formatCode: DMP_CODES.ciSisFormat('urn:asip:ci-sis:ldl-ses:2017', 'Lettre de liaison à la sortie') },
  '74207-2': { classCode: DMP_CODES.classCode('11', 'Synthèse'), formatCode: DMP_CODES.ciSisFormat('urn:asip:ci-sis:dlu:2015', 'Dossier de liaison d\'urgence') },
  SYNTH: { classCode: DMP_CODES.classCode('11', 'Synthèse'), formatCode: DMP_CODES.ciSisFormat('urn:asip:ci-sis:vsm:2012', 'Volet de synthèse médicale') },
  '18748-4': {
    classCode: DMP_CODES.classCode('31', 'Imagerie médicale'),
    formatCode: DMP_CODES.iheFormat('urn:ihe:rad:CDA:ImagingReportStructuredHeadings:2013', 'CR d\'imagerie médicale'),
  },
};
const DEFAULT_CLASS = DMP_CODES.classCode('10', 'Compte rendu');
const UNSTRUCTURED_FORMAT: Record<string, CodeSpec> = {
  'application/pdf': DMP_CODES.iheFormat('urn:ihe:iti:xds-sd:pdf:2008', 'Document à corps non structuré en PDF'),
  'text/plain': DMP_CODES.iheFormat('urn:ihe:iti:xds-sd:text:2008', 'Document à corps non structuré en texte brut'),
};
const MIME_TYPE_SUFFICIENT = DMP_CODES.iheFormat('urn:ihe:iti:xds:2017:mimeTypeSufficient', 'Format défini par le type MIME');

/** The fictitious biologist of makeLabResult, author of every document that is not a CDA. */
const DEFAULT_AUTHOR: AuthorSpec = {
  person: '899700000011^VERNIER-ESSAI^Hélène^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS',
  institutions: ['Laboratoire de biologie médicale des Tilleuls (fictif)^^^^^&1.2.250.1.71.4.2.2&ISO^IDNST^^^1999000017'],
  roles: ['10^Médecin^1.2.250.1.71.1.2.7'],
  specialties: ['G15_10/SM03^Médecin - Biologie médicale (SM)^1.2.250.1.213.1.1.4.5'],
  telecommunications: [],
};
const DEFAULT_LEGAL_AUTHENTICATOR = DEFAULT_AUTHOR.person!;
const DEFAULT_SOURCE_ID = `${TEST_OID_ARC}.0.1`;

/** Now as an XDS DTM (UTC, seconds). */
export function dtmNow(offsetMs = 0): string {
  return new Date(Date.now() + offsetMs).toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

/** A complete DocumentEntry, every default filled in. */
interface ResolvedEntry {
  id: string;
  bytes: Buffer;
  mimeType: string;
  uniqueId: string;
  patientId: string;
  title: string;
  slots: SlotSpec[];
  classCode: CodeSpec;
  typeCode: CodeSpec;
  formatCode: CodeSpec;
  confidentiality: CodeSpec[];
  healthcareFacilityType: CodeSpec;
  practiceSetting: CodeSpec;
  eventCodes: CodeSpec[];
  authors: AuthorSpec[];
  omit: Set<string>;
}

/** Control characters other than tab, line feed and carriage return. */
const isControl = (c: number): boolean => c < 32 && c !== 9 && c !== 10 && c !== 13;

function guessMimeType(bytes: Buffer, facts: CdaFacts | undefined): string {
  if (facts) return 'text/xml';
  if (bytes.subarray(0, 5).toString('latin1') === '%PDF-') return 'application/pdf';
  if (isUtf8(bytes) && !bytes.some(isControl)) return 'text/plain';
  return 'application/octet-stream';
}

function sourcePatientInfo(patientId: string, facts: CdaFacts | undefined): string[] {
  const p = facts?.patient;
  const info = [`PID-3|${patientId}`];
  info.push(`PID-5|${p?.family ?? 'ESSAI-LABO'}^${p?.given ?? 'Camille'}^^^^^L`);
  info.push(`PID-7|${p?.birthTime ?? '19850612'}`);
  info.push(`PID-8|${p?.gender ?? 'F'}`);
  return info;
}

function resolveEntry(doc: DocSpec, index: number, spec: SubmissionSpec): ResolvedEntry {
  const facts = cdaFacts(doc.bytes);
  const patientId = doc.patientId ?? spec.patientId;
  const typeCode = doc.typeCode ?? facts?.typeCode ?? LAB_REPORT;
  const known = DOCUMENT_TYPES[typeCode.code];
  const mimeType = doc.mimeType ?? guessMimeType(doc.bytes, facts);
  const formatCode =
    doc.formatCode ??
    (facts?.nonXmlMediaType ? UNSTRUCTURED_FORMAT[facts.nonXmlMediaType] : undefined) ??
    (facts ? known?.formatCode : undefined) ??
    MIME_TYPE_SUFFICIENT;
  const creationTime = doc.creationTime ?? facts?.creationTime ?? dtmNow();
  const slots: SlotSpec[] = [
    { name: 'creationTime', values: [creationTime] },
    ...(doc.hash !== undefined ? [{ name: 'hash', values: [doc.hash] }] : []),
    { name: 'languageCode', values: [doc.languageCode ?? facts?.languageCode ?? 'fr-FR'] },
    { name: 'legalAuthenticator', values: [doc.legalAuthenticator ?? facts?.legalAuthenticator ?? DEFAULT_LEGAL_AUTHENTICATOR] },
    ...(doc.repositoryUniqueId !== undefined ? [{ name: 'repositoryUniqueId', values: [doc.repositoryUniqueId] }] : []),
    { name: 'serviceStartTime', values: [doc.serviceStartTime ?? facts?.serviceStartTime ?? dtmNow(-3600_000)] },
    // A header with a start and no end (an event still open) gets no stop time rather than an invented one.
    ...[doc.serviceStopTime ?? facts?.serviceStopTime ?? (facts?.serviceStartTime ? undefined : creationTime)].flatMap((v) => (v ? [{ name: 'serviceStopTime', values: [v] }] : [])),
    ...(doc.size !== undefined ? [{ name: 'size', values: [String(doc.size)] }] : []),
    { name: 'sourcePatientId', values: [doc.sourcePatientId ?? patientId] },
    { name: 'sourcePatientInfo', values: doc.sourcePatientInfo ?? sourcePatientInfo(doc.sourcePatientId ?? patientId, facts) },
    ...(doc.extraSlots ?? []),
  ];
  const authors = doc.authors ?? (facts?.authors.length ? facts.authors : [DEFAULT_AUTHOR]);
  return {
    id: doc.id ?? `Document${String(index + 1).padStart(2, '0')}`,
    bytes: doc.bytes,
    mimeType,
    uniqueId: doc.uniqueId ?? facts?.documentId ?? newOid(),
    patientId,
    title: doc.title ?? facts?.title ?? 'Document de test (fictif)',
    slots,
    classCode: doc.classCode ?? known?.classCode ?? DEFAULT_CLASS,
    typeCode,
    formatCode,
    confidentiality: doc.confidentiality ?? (facts?.confidentiality.length ? facts.confidentiality : [DMP_CODES.normal]),
    healthcareFacilityType: doc.healthcareFacilityType ?? facts?.healthcareFacilityType ?? DMP_CODES.etablissementPublic,
    practiceSetting: doc.practiceSetting ?? facts?.practiceSetting ?? DMP_CODES.etablissement,
    eventCodes: doc.eventCodes ?? [],
    authors,
    omit: new Set(doc.omit ?? []),
  };
}

/** Writes ebRIM elements with fresh, message-unique ids (cl01, ei01, as01, ...). */
class RimWriter {
  private n = { cl: 0, ei: 0, as: 0 };

  nextId(kind: 'cl' | 'ei' | 'as'): string {
    return `${kind}${String(++this.n[kind]).padStart(2, '0')}`;
  }

  slot(s: SlotSpec, pad: string): string {
    const values = s.values.map((v) => `${pad}    <rim:Value>${escapeXml(v)}</rim:Value>\n`).join('');
    return `${pad}<rim:Slot name="${escapeXml(s.name)}">\n${pad}  <rim:ValueList>\n${values}${pad}  </rim:ValueList>\n${pad}</rim:Slot>\n`;
  }

  name(value: string, pad: string): string {
    return `${pad}<rim:Name>\n${pad}  <rim:LocalizedString xml:lang="fr-FR" value="${escapeXml(value)}"/>\n${pad}</rim:Name>\n`;
  }

  coded(scheme: string, objectId: string, c: CodeSpec, pad: string): string {
    return (
      `${pad}<rim:Classification id="${this.nextId('cl')}" classificationScheme="${scheme}" classifiedObject="${escapeXml(objectId)}" nodeRepresentation="${escapeXml(c.code)}">\n` +
      this.slot({ name: 'codingScheme', values: [c.scheme] }, pad + '  ') +
      this.name(c.display, pad + '  ') +
      `${pad}</rim:Classification>\n`
    );
  }

  author(scheme: string, objectId: string, a: AuthorSpec, pad: string): string {
    const slots: SlotSpec[] = [
      ...(a.person ? [{ name: 'authorPerson', values: [a.person] }] : []),
      ...(a.institutions?.length ? [{ name: 'authorInstitution', values: a.institutions }] : []),
      ...(a.roles?.length ? [{ name: 'authorRole', values: a.roles }] : []),
      ...(a.specialties?.length ? [{ name: 'authorSpecialty', values: a.specialties }] : []),
      ...(a.telecommunications?.length ? [{ name: 'authorTelecommunication', values: a.telecommunications }] : []),
    ];
    return (
      `${pad}<rim:Classification id="${this.nextId('cl')}" classificationScheme="${scheme}" classifiedObject="${escapeXml(objectId)}" nodeRepresentation="">\n` +
      slots.map((s) => this.slot(s, pad + '  ')).join('') +
      `${pad}</rim:Classification>\n`
    );
  }

  externalId(scheme: string, objectId: string, value: string, label: string, pad: string): string {
    return (
      `${pad}<rim:ExternalIdentifier id="${this.nextId('ei')}" identificationScheme="${scheme}" registryObject="${escapeXml(objectId)}" value="${escapeXml(value)}">\n` +
      this.name(label, pad + '  ') +
      `${pad}</rim:ExternalIdentifier>\n`
    );
  }

  association(a: AssociationSpec, pad: string): string {
    const slots = (a.slots ?? []).map((s) => this.slot(s, pad + '  ')).join('');
    const open = `${pad}<rim:Association id="${escapeXml(a.id ?? this.nextId('as'))}" associationType="${escapeXml(a.type)}" sourceObject="${escapeXml(a.source)}" targetObject="${escapeXml(a.target)}" objectType="${OBJECT_TYPE.association}"`;
    return slots ? `${open}>\n${slots}${pad}</rim:Association>\n` : `${open}/>\n`;
  }
}

function documentEntryXml(w: RimWriter, e: ResolvedEntry, pad: string): string {
  const p = pad + '  ';
  const keep = (name: string) => !e.omit.has(name);
  const S = DOCUMENT_ENTRY_SCHEME;
  return (
    `${pad}<rim:ExtrinsicObject id="${escapeXml(e.id)}" mimeType="${escapeXml(e.mimeType)}" objectType="${OBJECT_TYPE.stableDocumentEntry}">\n` +
    e.slots.filter((s) => keep(s.name)).map((s) => w.slot(s, p)).join('') +
    (keep('title') ? w.name(e.title, p) : '') +
    (keep('author') ? e.authors.map((a) => w.author(S.author, e.id, a, p)).join('') : '') +
    (keep('classCode') ? w.coded(S.classCode, e.id, e.classCode, p) : '') +
    (keep('confidentialityCode') ? e.confidentiality.map((c) => w.coded(S.confidentialityCode, e.id, c, p)).join('') : '') +
    (keep('eventCodeList') ? e.eventCodes.map((c) => w.coded(S.eventCodeList, e.id, c, p)).join('') : '') +
    (keep('formatCode') ? w.coded(S.formatCode, e.id, e.formatCode, p) : '') +
    (keep('healthcareFacilityTypeCode') ? w.coded(S.healthcareFacilityTypeCode, e.id, e.healthcareFacilityType, p) : '') +
    (keep('practiceSettingCode') ? w.coded(S.practiceSettingCode, e.id, e.practiceSetting, p) : '') +
    (keep('typeCode') ? w.coded(S.typeCode, e.id, e.typeCode, p) : '') +
    (keep('patientId') ? w.externalId(S.patientId, e.id, e.patientId, 'XDSDocumentEntry.patientId', p) : '') +
    (keep('uniqueId') ? w.externalId(S.uniqueId, e.id, e.uniqueId, 'XDSDocumentEntry.uniqueId', p) : '') +
    `${pad}</rim:ExtrinsicObject>\n`
  );
}

const SUBMISSION_SET_ID = 'SubmissionSet01';

function submissionSetXml(w: RimWriter, spec: SubmissionSpec, entries: ResolvedEntry[], uniqueId: string, pad: string): string {
  const p = pad + '  ';
  const omit = new Set(spec.omit ?? []);
  const keep = (name: string) => !omit.has(name);
  const S = SUBMISSION_SET_SCHEME;
  const id = SUBMISSION_SET_ID;
  const slots: SlotSpec[] = [
    { name: 'submissionTime', values: [spec.submissionTime ?? dtmNow()] },
    ...(spec.intendedRecipients?.length ? [{ name: 'intendedRecipient', values: spec.intendedRecipients }] : []),
  ];
  const author = spec.author ?? entries[0]?.authors[0] ?? DEFAULT_AUTHOR;
  return (
    `${pad}<rim:RegistryPackage id="${id}" objectType="${OBJECT_TYPE.registryPackage}">\n` +
    slots.filter((s) => keep(s.name)).map((s) => w.slot(s, p)).join('') +
    (keep('title') ? w.name(spec.title ?? 'Soumission de test (fictive)', p) : '') +
    (keep('author') ? w.author(S.author, id, author, p) : '') +
    (keep('contentTypeCode') ? w.coded(S.contentTypeCode, id, spec.contentTypeCode ?? DMP_CODES.hospitalisationDeJour, p) : '') +
    (keep('uniqueId') ? w.externalId(S.uniqueId, id, uniqueId, 'XDSSubmissionSet.uniqueId', p) : '') +
    (keep('sourceId') ? w.externalId(S.sourceId, id, spec.sourceId ?? DEFAULT_SOURCE_ID, 'XDSSubmissionSet.sourceId', p) : '') +
    (keep('patientId') ? w.externalId(S.patientId, id, spec.patientId, 'XDSSubmissionSet.patientId', p) : '') +
    `${pad}</rim:RegistryPackage>\n` +
    (keep('classificationNode')
      ? `${pad}<rim:Classification id="${w.nextId('cl')}" classifiedObject="${id}" classificationNode="${CLASSIFICATION_NODE.submissionSet}"/>\n`
      : '')
  );
}

interface BuiltSubmission {
  xml: string;
  entries: ResolvedEntry[];
  uniqueIds: SubmissionIds;
}

function buildSubmission(spec: SubmissionSpec, pad = ''): BuiltSubmission {
  const entries = spec.documents.map((d, i) => resolveEntry(d, i, spec));
  const submissionSet = spec.submissionSetUniqueId ?? newOid();
  const w = new RimWriter();
  const list = pad + '    ';
  const associations: AssociationSpec[] = [
    ...entries.map((e) => ({ type: ASSOCIATION_TYPE.hasMember, source: SUBMISSION_SET_ID, target: e.id, slots: [{ name: 'SubmissionSetStatus', values: ['Original'] }] })),
    ...(spec.associations ?? []),
  ];
  const xml =
    `${pad}<lcm:SubmitObjectsRequest xmlns:lcm="${NS.lcm}" xmlns:rim="${NS.rim}">\n` +
    `${pad}  <rim:RegistryObjectList>\n` +
    submissionSetXml(w, spec, entries, submissionSet, list) +
    entries.map((e) => documentEntryXml(w, e, list)).join('') +
    associations.map((a) => w.association(a, list)).join('') +
    `${pad}  </rim:RegistryObjectList>\n` +
    `${pad}</lcm:SubmitObjectsRequest>`;
  return { xml, entries, uniqueIds: { submissionSet, documents: entries.map((e) => e.uniqueId) } };
}

/** lcm:SubmitObjectsRequest with a full metadata set (one SubmissionSet, its DocumentEntries, HasMember associations). */
export function buildSubmitObjectsRequestXml(spec: SubmissionSpec): string {
  return buildSubmission(spec).xml;
}

/** The same, with the uniqueIds it chose. */
export function buildSubmitObjects(spec: SubmissionSpec): { xml: string; uniqueIds: SubmissionIds } {
  const { xml, uniqueIds } = buildSubmission(spec);
  return { xml, uniqueIds };
}

/** A SOAP 1.2 envelope with the WS-Addressing headers IHE requires. */
export function soapEnvelope(action: string, bodyXml: string, opts: EnvelopeOptions = {}): string {
  const messageId = opts.messageId ?? newMessageId();
  const to = opts.to ?? `${DEFAULT_BASE_URL}/xds`;
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<soap:Envelope xmlns:soap="${NS.soap12}" xmlns:wsa="${NS.wsa}">\n` +
    `  <soap:Header>\n` +
    `    <wsa:Action soap:mustUnderstand="1">${escapeXml(action)}</wsa:Action>\n` +
    `    <wsa:MessageID>${escapeXml(messageId)}</wsa:MessageID>\n` +
    `    <wsa:ReplyTo>\n` +
    `      <wsa:Address>http://www.w3.org/2005/08/addressing/anonymous</wsa:Address>\n` +
    `    </wsa:ReplyTo>\n` +
    `    <wsa:To soap:mustUnderstand="1">${escapeXml(to)}</wsa:To>\n` +
    (opts.headersXml ? `    ${opts.headersXml}\n` : '') +
    `  </soap:Header>\n` +
    `  <soap:Body>\n` +
    `${bodyXml}\n` +
    `  </soap:Body>\n` +
    `</soap:Envelope>\n`
  );
}

/** Content-Type of a plain (non-MTOM) SOAP 1.2 request. */
export const soapContentType = (action: string): string => `application/soap+xml; charset=UTF-8; action="${action}"`;

const CID_DOMAIN = 'xds-gateway.test';

/**
 * ITI-41 Provide and Register Document Set-b. MTOM: a multipart/related body whose binary parts
 * are the raw bytes, referenced by xop:Include with URL-encoded cids; inline: base64 in xdsb:Document.
 */
export function buildIti41Request(spec: SubmissionSpec, mode: 'mtom' | 'inline', opts: EnvelopeOptions = {}): Iti41Request {
  const messageId = opts.messageId ?? newMessageId();
  const pad = '    ';
  const submission = buildSubmission(spec, pad + '  ');
  const omitted = new Set(spec.omitDocumentBytesFor ?? []);
  const parts: { id: string; bytes: Buffer; mimeType: string }[] = [
    ...submission.entries.filter((e) => !omitted.has(e.id)).map((e) => ({ id: e.id, bytes: e.bytes, mimeType: e.mimeType })),
    ...(spec.extraDocumentsWithoutMetadata ?? []).map((d) => ({ id: d.id, bytes: d.bytes, mimeType: d.mimeType ?? 'application/octet-stream' })),
  ];
  const run = randomUUID();
  const cids = parts.map((_, i) => `${i + 1}.urn:uuid:${run}@${CID_DOMAIN}`);
  const documents = parts
    .map((d, i) => {
      const content =
        mode === 'mtom' ? `<xop:Include xmlns:xop="${NS.xop}" href="cid:${encodeURIComponent(cids[i]!)}"/>` : d.bytes.toString('base64');
      return `${pad}  <xdsb:Document id="${escapeXml(d.id)}">${content}</xdsb:Document>\n`;
    })
    .join('');
  const body =
    `${pad}<xdsb:ProvideAndRegisterDocumentSetRequest xmlns:xdsb="${NS.xdsb}">\n` +
    `${submission.xml}\n` +
    documents +
    `${pad}</xdsb:ProvideAndRegisterDocumentSetRequest>`;
  const envelope = soapEnvelope(SOAP_ACTION.iti41, body, { ...opts, messageId, to: opts.to ?? `${DEFAULT_BASE_URL}/xds/iti41` });
  if (mode === 'inline') {
    return { contentType: soapContentType(SOAP_ACTION.iti41), body: Buffer.from(envelope, 'utf8'), messageId, uniqueIds: submission.uniqueIds };
  }
  const { contentType, body: multipart } = mtomBody(
    envelope,
    parts.map((d, i) => ({ cid: cids[i]!, mimeType: d.mimeType, bytes: d.bytes })),
    SOAP_ACTION.iti41,
    run,
  );
  return { contentType, body: multipart, messageId, uniqueIds: submission.uniqueIds };
}

/** A multipart/related XOP package: the envelope as root part, then each attachment as raw bytes. */
export function mtomBody(
  envelope: string,
  attachments: { cid: string; mimeType: string; bytes: Buffer }[],
  action: string,
  run: string = randomUUID(),
): { contentType: string; body: Buffer } {
  const root = `0.urn:uuid:${run}@${CID_DOMAIN}`;
  const envelopeBytes = Buffer.from(envelope, 'utf8');
  let boundary: string;
  do boundary = `MIMEBoundary_${randomBytes(16).toString('hex')}`;
  while ([envelopeBytes, ...attachments.map((a) => a.bytes)].some((b) => b.includes(boundary)));
  const chunks: Buffer[] = [
    Buffer.from(
      `--${boundary}\r\n` +
        `Content-Type: application/xop+xml; charset=UTF-8; type="application/soap+xml"\r\n` +
        `Content-Transfer-Encoding: 8bit\r\n` +
        `Content-ID: <${root}>\r\n\r\n`,
      'utf8',
    ),
    envelopeBytes,
  ];
  for (const a of attachments) {
    chunks.push(
      Buffer.from(`\r\n--${boundary}\r\nContent-Type: ${a.mimeType}\r\nContent-Transfer-Encoding: binary\r\nContent-ID: <${a.cid}>\r\n\r\n`, 'utf8'),
      a.bytes,
    );
  }
  chunks.push(Buffer.from(`\r\n--${boundary}--\r\n`, 'utf8'));
  const contentType =
    `multipart/related; type="application/xop+xml"; start="<${root}>"; start-info="application/soap+xml"; ` +
    `action="${action}"; boundary="${boundary}"`;
  return { contentType, body: Buffer.concat(chunks) };
}

/** ITI-42 Register Document Set-b: the metadata alone, with the hash, size and repositoryUniqueId a repository would add. */
export function buildIti42Request(spec: SubmissionSpec, repositoryUniqueId: string, opts: EnvelopeOptions = {}): Iti41Request {
  const messageId = opts.messageId ?? newMessageId();
  const documents = spec.documents.map((d) => ({
    ...d,
    hash: d.hash ?? createHash('sha1').update(d.bytes).digest('hex'),
    size: d.size ?? d.bytes.length,
    repositoryUniqueId: d.repositoryUniqueId ?? repositoryUniqueId,
  }));
  const submission = buildSubmission({ ...spec, documents }, '    ');
  const envelope = soapEnvelope(SOAP_ACTION.iti42, submission.xml, { ...opts, messageId, to: opts.to ?? `${DEFAULT_BASE_URL}/xds/iti42` });
  return { contentType: soapContentType(SOAP_ACTION.iti42), body: Buffer.from(envelope, 'utf8'), messageId, uniqueIds: submission.uniqueIds };
}

export interface DocumentRequestSpec {
  repositoryUniqueId: string;
  documentUniqueId: string;
  homeCommunityId?: string;
}

/** ITI-43 Retrieve Document Set (plain SOAP 1.2; the response comes back as MTOM). */
export function buildIti43Request(requests: DocumentRequestSpec[], opts: EnvelopeOptions = {}): BuiltRequest {
  const messageId = opts.messageId ?? newMessageId();
  const pad = '    ';
  const items = requests
    .map(
      (r) =>
        `${pad}  <xdsb:DocumentRequest>\n` +
        (r.homeCommunityId ? `${pad}    <xdsb:HomeCommunityId>${escapeXml(r.homeCommunityId)}</xdsb:HomeCommunityId>\n` : '') +
        `${pad}    <xdsb:RepositoryUniqueId>${escapeXml(r.repositoryUniqueId)}</xdsb:RepositoryUniqueId>\n` +
        `${pad}    <xdsb:DocumentUniqueId>${escapeXml(r.documentUniqueId)}</xdsb:DocumentUniqueId>\n` +
        `${pad}  </xdsb:DocumentRequest>\n`,
    )
    .join('');
  const body = `${pad}<xdsb:RetrieveDocumentSetRequest xmlns:xdsb="${NS.xdsb}">\n${items}${pad}</xdsb:RetrieveDocumentSetRequest>`;
  const envelope = soapEnvelope(SOAP_ACTION.iti43, body, { ...opts, messageId, to: opts.to ?? `${DEFAULT_BASE_URL}/xds/iti43` });
  return { contentType: soapContentType(SOAP_ACTION.iti43), body: Buffer.from(envelope, 'utf8'), messageId };
}

export interface StoredQuerySpec {
  /** Stored query id, e.g. urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d (FindDocuments). */
  queryId: string;
  /** Parameter values as they go into rim:Value, already quoted: see queryString and queryList. */
  params: Record<string, string | string[]>;
  returnType?: 'LeafClass' | 'ObjectRef';
  homeCommunityId?: string;
}

/** A stored query string parameter: 'value'. */
export const queryString = (v: string): string => `'${v.replace(/'/g, "''")}'`;
/** A stored query list parameter: ('a','b'). */
export const queryList = (...values: string[]): string => `(${values.map(queryString).join(',')})`;

/** ITI-18 Registry Stored Query. */
export function buildIti18Request(query: StoredQuerySpec, opts: EnvelopeOptions = {}): BuiltRequest {
  const messageId = opts.messageId ?? newMessageId();
  const pad = '    ';
  const w = new RimWriter();
  const slots = Object.entries(query.params)
    .map(([name, v]) => w.slot({ name, values: Array.isArray(v) ? v : [v] }, pad + '    '))
    .join('');
  const home = query.homeCommunityId ? ` home="${escapeXml(query.homeCommunityId)}"` : '';
  const body =
    `${pad}<query:AdhocQueryRequest xmlns:query="${NS.query}" xmlns:rim="${NS.rim}">\n` +
    `${pad}  <query:ResponseOption returnComposedObjects="true" returnType="${query.returnType ?? 'LeafClass'}"/>\n` +
    `${pad}  <rim:AdhocQuery id="${escapeXml(query.queryId)}"${home}>\n` +
    slots +
    `${pad}  </rim:AdhocQuery>\n` +
    `${pad}</query:AdhocQueryRequest>`;
  const envelope = soapEnvelope(SOAP_ACTION.iti18, body, { ...opts, messageId, to: opts.to ?? `${DEFAULT_BASE_URL}/xds/iti18` });
  return { contentType: soapContentType(SOAP_ACTION.iti18), body: Buffer.from(envelope, 'utf8'), messageId };
}

export const IHE_SAMPLE_ITI41 = path.resolve(ROOT, '../shared/samples/xds/ProvideAndRegisterDocumentSet-bRequest_SOAP.xml');

/**
 * The IHE sample ITI-41 request, with only what a second submission must change: the registry
 * patientId of the DocumentEntry and of the SubmissionSet (ExternalIdentifiers), the DocumentEntry
 * and SubmissionSet uniqueIds (fresh OIDs) and the wsa:MessageID. sourcePatientId and
 * sourcePatientInfo stay as they are: they name the patient in the source's own domain. The sample's
 * sourceId (3670984664) is not an OID: `sourceId` replaces it when given, otherwise it is kept.
 */
export function replayIheSample(opts: { patientId: string; sourceId?: string }): Iti41Request {
  let text = readFileSync(IHE_SAMPLE_ITI41, 'utf8');
  const messageId = newMessageId();
  let replaced = false;
  text = text.replace(/(<(\w+:)?MessageID>)[^<]*(<\/\2MessageID>)/, (_m, open: string, _p, close: string) => {
    replaced = true;
    return `${open}${messageId}${close}`;
  });
  if (!replaced) throw new Error('IHE sample has no wsa:MessageID');
  const submissionSet = newOid();
  const documents: string[] = [];
  const patient = escapeXml(opts.patientId);
  text = text.replace(/<(\w+:)?ExternalIdentifier\b[^>]*>/g, (tag) => {
    const scheme = /identificationScheme="([^"]*)"/.exec(tag)?.[1];
    let value: string | undefined;
    if (scheme === DOCUMENT_ENTRY_SCHEME.patientId || scheme === SUBMISSION_SET_SCHEME.patientId) value = patient;
    else if (scheme === SUBMISSION_SET_SCHEME.uniqueId) value = submissionSet;
    else if (scheme === SUBMISSION_SET_SCHEME.sourceId && opts.sourceId !== undefined) value = escapeXml(opts.sourceId);
    else if (scheme === DOCUMENT_ENTRY_SCHEME.uniqueId) {
      value = newOid();
      documents.push(value);
    }
    return value === undefined ? tag : tag.replace(/\bvalue="[^"]*"/, `value="${value}"`);
  });
  return { contentType: soapContentType(SOAP_ACTION.iti41), body: Buffer.from(text, 'utf8'), messageId, uniqueIds: { submissionSet, documents } };
}

/** The patient, ids and repository of samples/xds: those of samples/cda/cr-bio-45k.xml and of the default configuration. */
export const XDS_SAMPLE = {
  patientId: '282059999900181^^^&1.2.250.1.213.1.4.8&ISO',
  documentUniqueId: '1.2.250.1.999.9.1.1.1',
  submissionSetUniqueId: '1.2.250.1.999.9.1.1.2',
  repositoryUniqueId: '1.2.250.1.999.1.1.1',
} as const;

/** samples/xds/*.xml exactly (a test keeps them in step with the builders). */
export function xdsSampleRequests(): Record<'iti41-request.xml' | 'iti43-request.xml', Buffer> {
  const iti41 = buildIti41Request(
    {
      patientId: XDS_SAMPLE.patientId,
      submissionSetUniqueId: XDS_SAMPLE.submissionSetUniqueId,
      submissionTime: '20240603095000',
      documents: [{ bytes: labResultSample(), uniqueId: XDS_SAMPLE.documentUniqueId }],
    },
    'inline',
    { messageId: 'urn:uuid:6f0b2a3e-8c1d-4e59-9a7b-2d4c6e8f0a11' },
  );
  const iti43 = buildIti43Request([{ repositoryUniqueId: XDS_SAMPLE.repositoryUniqueId, documentUniqueId: XDS_SAMPLE.documentUniqueId }], {
    messageId: 'urn:uuid:0c9e7d5b-3a1f-4b2c-8d6e-5f4a3b2c1d0e',
  });
  return { 'iti41-request.xml': iti41.body, 'iti43-request.xml': iti43.body };
}
