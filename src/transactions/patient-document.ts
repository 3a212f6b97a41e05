import { randomUUID } from 'node:crypto';
import type { GatewayContext } from '../context.js';
import { ASSOCIATION_TYPE, CLASSIFICATION_NODE, DOCUMENT_ENTRY_SCHEME, NS, OBJECT_TYPE, SOAP_ACTION, SUBMISSION_SET_SCHEME } from '../ebrim/uuids.js';
import { provideAndRegisterDocumentSet } from './iti41.js';
import { escapeXml, parseXml, type XmlElement } from '../xml/tree.js';
import type { PatientCaller } from '../policy/caller.js';

/** A document the patient adds to their own record. */
export interface PatientDocument {
  title: string;
  mimeType: string;
  bytes: Buffer;
}

interface Code {
  code: string;
  scheme: string;
  display: string;
}

/** Metadata codes of a document the patient adds themselves (data, not logic: the affinity domain may change them). */
export const PATIENT_DOCUMENT_CODES = {
  classCode: { code: '90', scheme: '1.2.250.1.213.1.1.4.1', display: 'Document du patient' },
  typeCode: { code: '51855-5', scheme: '2.16.840.1.113883.6.1', display: 'Note du patient' },
  confidentialityCode: { code: 'N', scheme: '2.16.840.1.113883.5.25', display: 'Normal' },
  healthcareFacilityTypeCode: { code: 'SA07', scheme: '1.2.250.1.71.4.2.4', display: 'Patient (domicile)' },
  practiceSettingCode: { code: 'AUTRE', scheme: '1.2.250.1.213.1.1.4.9', display: 'Autre' },
  contentTypeCode: { code: '04', scheme: '1.2.250.1.213.2.2', display: 'Document du patient' },
  authorRole: 'PATIENT^Patient^1.2.250.1.213.1.1.4.6',
  format: {
    'application/pdf': { code: 'urn:ihe:iti:xds-sd:pdf:2008', scheme: '1.3.6.1.4.1.19376.1.2.3', display: 'Document PDF' },
    'text/plain': { code: 'urn:ihe:iti:xds-sd:text:2008', scheme: '1.3.6.1.4.1.19376.1.2.3', display: 'Document texte' },
  } as Record<string, Code>,
  otherFormat: { code: 'urn:ihe:iti:xds:2017:mimeTypeSufficient', scheme: '1.3.6.1.4.1.19376.1.2.3', display: 'Format défini par le type MIME' },
} as const;

/** A UUID-derived OID (ITU-T X.667: 2.25.<the UUID as one integer>), fit for a uniqueId. */
const uuidOid = (): string => `2.25.${BigInt(`0x${randomUUID().replace(/-/g, '')}`).toString()}`;

const dtm = (d: Date): string => d.toISOString().replace(/[-:T]/g, '').slice(0, 14);

/**
 * Adds a patient's own document to their record through the ITI-41 transaction itself (validation, the
 * write check with the patient as caller, signing, storage, registration): the metadata is that of an
 * ordinary submission, authored by the patient (XCN with their INS).
 */
export async function addPatientDocument(
  ctx: GatewayContext,
  patient: PatientCaller,
  doc: PatientDocument,
  now: Date,
): Promise<{ uniqueId: string; errors: { code: string; message: string }[] }> {
  const uniqueId = uuidOid();
  const body = parseXml(provideAndRegisterXml(patient.patientId, doc, uniqueId, ctx.config.repositoryUniqueId, now));
  const answer = await provideAndRegisterDocumentSet(
    { action: SOAP_ACTION.iti41, messageId: `urn:uuid:${randomUUID()}`, body },
    new Map(),
    { ...ctx, caller: patient },
  );
  return { uniqueId, errors: registryErrors(parseXml(answer)) };
}

/** The errors (not warnings) of a rs:RegistryResponse. */
function registryErrors(response: XmlElement): { code: string; message: string }[] {
  const list = response.children.find((c) => c.ns === NS.rs && c.local === 'RegistryErrorList');
  return (list?.children ?? [])
    .filter((e) => !(e.attrs.severity ?? '').endsWith(':Warning'))
    .map((e) => ({ code: e.attrs.errorCode ?? '', message: e.attrs.codeContext ?? '' }));
}

function classification(scheme: string, objectId: string, c: Code): string {
  return (
    `<rim:Classification id="urn:uuid:${randomUUID()}" classificationScheme="${scheme}" classifiedObject="${objectId}" nodeRepresentation="${escapeXml(c.code)}">` +
    `<rim:Slot name="codingScheme"><rim:ValueList><rim:Value>${escapeXml(c.scheme)}</rim:Value></rim:ValueList></rim:Slot>` +
    `<rim:Name><rim:LocalizedString value="${escapeXml(c.display)}"/></rim:Name></rim:Classification>`
  );
}

const slot = (name: string, ...values: string[]): string =>
  `<rim:Slot name="${name}"><rim:ValueList>${values.map((v) => `<rim:Value>${escapeXml(v)}</rim:Value>`).join('')}</rim:ValueList></rim:Slot>`;

const externalIdentifier = (scheme: string, objectId: string, value: string, name: string): string =>
  `<rim:ExternalIdentifier id="urn:uuid:${randomUUID()}" identificationScheme="${scheme}" registryObject="${objectId}" value="${escapeXml(value)}">` +
  `<rim:Name><rim:LocalizedString value="${name}"/></rim:Name></rim:ExternalIdentifier>`;

function provideAndRegisterXml(patientId: string, doc: PatientDocument, uniqueId: string, sourceId: string, now: Date): string {
  const codes = PATIENT_DOCUMENT_CODES;
  const [ins, , , authority] = patientId.split('^');
  const oid = authority?.split('&')[1] ?? '';
  const authorPerson = `${ins}^^^^^^^^&${oid}&ISO`;
  const author = (scheme: string, objectId: string): string =>
    `<rim:Classification id="urn:uuid:${randomUUID()}" classificationScheme="${scheme}" classifiedObject="${objectId}" nodeRepresentation="">` +
    slot('authorPerson', authorPerson) +
    slot('authorRole', codes.authorRole) +
    `</rim:Classification>`;
  const entry = 'urn:uuid:' + randomUUID();
  const set = 'urn:uuid:' + randomUUID();
  const format = codes.format[doc.mimeType] ?? codes.otherFormat;
  return (
    `<xdsb:ProvideAndRegisterDocumentSetRequest xmlns:xdsb="${NS.xdsb}" xmlns:lcm="${NS.lcm}" xmlns:rim="${NS.rim}">` +
    `<lcm:SubmitObjectsRequest><rim:RegistryObjectList>` +
    `<rim:ExtrinsicObject id="${entry}" mimeType="${escapeXml(doc.mimeType)}" objectType="${OBJECT_TYPE.stableDocumentEntry}">` +
    slot('creationTime', dtm(now)) +
    slot('languageCode', 'fr-FR') +
    slot('sourcePatientId', patientId) +
    `<rim:Name><rim:LocalizedString value="${escapeXml(doc.title)}"/></rim:Name>` +
    author(DOCUMENT_ENTRY_SCHEME.author, entry) +
    classification(DOCUMENT_ENTRY_SCHEME.classCode, entry, codes.classCode) +
    classification(DOCUMENT_ENTRY_SCHEME.confidentialityCode, entry, codes.confidentialityCode) +
    classification(DOCUMENT_ENTRY_SCHEME.formatCode, entry, format) +
    classification(DOCUMENT_ENTRY_SCHEME.healthcareFacilityTypeCode, entry, codes.healthcareFacilityTypeCode) +
    classification(DOCUMENT_ENTRY_SCHEME.practiceSettingCode, entry, codes.practiceSettingCode) +
    classification(DOCUMENT_ENTRY_SCHEME.typeCode, entry, codes.typeCode) +
    externalIdentifier(DOCUMENT_ENTRY_SCHEME.patientId, entry, patientId, 'XDSDocumentEntry.patientId') +
    externalIdentifier(DOCUMENT_ENTRY_SCHEME.uniqueId, entry, uniqueId, 'XDSDocumentEntry.uniqueId') +
    `</rim:ExtrinsicObject>` +
    `<rim:RegistryPackage id="${set}">` +
    slot('submissionTime', dtm(now)) +
    author(SUBMISSION_SET_SCHEME.author, set) +
    classification(SUBMISSION_SET_SCHEME.contentTypeCode, set, codes.contentTypeCode) +
    externalIdentifier(SUBMISSION_SET_SCHEME.uniqueId, set, uuidOid(), 'XDSSubmissionSet.uniqueId') +
    externalIdentifier(SUBMISSION_SET_SCHEME.sourceId, set, sourceId, 'XDSSubmissionSet.sourceId') +
    externalIdentifier(SUBMISSION_SET_SCHEME.patientId, set, patientId, 'XDSSubmissionSet.patientId') +
    `</rim:RegistryPackage>` +
    `<rim:Classification id="urn:uuid:${randomUUID()}" classifiedObject="${set}" classificationNode="${CLASSIFICATION_NODE.submissionSet}"/>` +
    `<rim:Association id="urn:uuid:${randomUUID()}" associationType="${ASSOCIATION_TYPE.hasMember}" sourceObject="${set}" targetObject="${entry}">` +
    slot('SubmissionSetStatus', 'Original') +
    `</rim:Association>` +
    `</rim:RegistryObjectList></lcm:SubmitObjectsRequest>` +
    `<xdsb:Document id="${entry}">${doc.bytes.toString('base64')}</xdsb:Document>` +
    `</xdsb:ProvideAndRegisterDocumentSetRequest>`
  );
}
