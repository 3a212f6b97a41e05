import { createHash } from 'node:crypto';
import type { XdsError } from '../../src/errors.js';
import type { SubmissionMetadata, SubmittedDocument } from '../../src/ebrim/model.js';
import { parseProvideAndRegister, parseRegisterDocumentSet } from '../../src/ebrim/parse.js';
import { ASSOCIATION_TYPE, CLASSIFICATION_NODE, DOCUMENT_ENTRY_SCHEME, FOLDER_SCHEME, NS, OBJECT_TYPE, SUBMISSION_SET_SCHEME } from '../../src/ebrim/uuids.js';
import { validateSubmission, type ValidationContext } from '../../src/ebrim/validate.js';
import { escapeXml, parseXml } from '../../src/xml/tree.js';

/** INS test authority (CI-SIS): the affinity domain of the fixtures. */
export const PATIENT_AUTHORITY = '1.2.250.1.213.1.4.10';
export const PATIENT_ID = `248039263001064^^^&${PATIENT_AUTHORITY}&ISO^NH`;
export const REPOSITORY_ID = '1.2.250.1.999.2.1';

export interface FixtureOptions {
  /** How many DocumentEntries (each with its xdsb:Document), default 1. */
  entries?: number;
  /** ITI-42: a bare lcm:SubmitObjectsRequest whose entries carry hash, size and repositoryUniqueId, no documents. */
  register?: boolean;
  /** Add a Folder holding the first entry. */
  folder?: boolean;
}

export const entryId = (i: number): string => `Document${String(i).padStart(2, '0')}`;
export const entryUniqueId = (i: number): string => `1.2.250.1.999.1.1.${i}`;
export const documentBytes = (i: number): Buffer => Buffer.from(`<ClinicalDocument xmlns="urn:hl7-org:v3"><id root="1.2.250.1.999.1.1.${i}"/></ClinicalDocument>`);
export const sha1Of = (b: Buffer): string => createHash('sha1').update(b).digest('hex');

const slot = (name: string, ...values: string[]): string =>
  `<rim:Slot name="${name}"><rim:ValueList>${values.map((v) => `<rim:Value>${escapeXml(v)}</rim:Value>`).join('')}</rim:ValueList></rim:Slot>`;

const name = (value: string): string => `<rim:Name><rim:LocalizedString value="${escapeXml(value)}" xml:lang="fr-FR" charset="UTF-8"/></rim:Name>`;

function code(id: string, scheme: string, object: string, value: string, codingScheme: string, display: string): string {
  return (
    `<rim:Classification id="${id}" classificationScheme="${scheme}" classifiedObject="${object}" nodeRepresentation="${escapeXml(value)}">` +
    `${slot('codingScheme', codingScheme)}${name(display)}</rim:Classification>`
  );
}

function externalIdentifier(id: string, scheme: string, object: string, value: string, label: string): string {
  return `<rim:ExternalIdentifier id="${id}" identificationScheme="${scheme}" registryObject="${object}" value="${escapeXml(value)}">${name(label)}</rim:ExternalIdentifier>`;
}

function author(id: string, scheme: string, object: string): string {
  return (
    `<rim:Classification id="${id}" classificationScheme="${scheme}" classifiedObject="${object}" nodeRepresentation="">` +
    slot('authorPerson', '801234567897^MARTIN^Jean^^^Dr^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNST') +
    slot('authorInstitution', 'Hopital Test^^^^^&1.2.250.1.71.4.2.2&ISO^IDNST^^^1750000001') +
    slot('authorRole', '10^Medecin^1.2.250.1.213.1.1.4.5') +
    slot('authorSpecialty', 'SM26^Qualifie en Medecine Generale^1.2.250.1.213.1.1.4.5') +
    slot('authorTelecommunication', '^^Internet^jean.martin@hopital-test.fr') +
    `</rim:Classification>`
  );
}

function documentEntryXml(i: number, register: boolean): string {
  const id = entryId(i);
  const c = (n: number): string => `cl-${id}-${n}`;
  const bytes = documentBytes(i);
  const repositorySlots = register ? slot('hash', sha1Of(bytes)) + slot('size', String(bytes.length)) + slot('repositoryUniqueId', REPOSITORY_ID) : '';
  return (
    `<rim:ExtrinsicObject id="${id}" mimeType="text/xml" objectType="${OBJECT_TYPE.stableDocumentEntry}">` +
    slot('creationTime', '20240115103000') +
    slot('languageCode', 'fr-FR') +
    slot('serviceStartTime', '20240110') +
    slot('serviceStopTime', '20240114') +
    slot('sourcePatientId', PATIENT_ID) +
    slot('sourcePatientInfo', 'PID-5|DUPONT^MARIE^^^^^L', 'PID-7|19800101', 'PID-8|F') +
    slot('legalAuthenticator', '801234567897^MARTIN^Jean^^^Dr^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNST') +
    repositorySlots +
    name(`Lettre de liaison ${i}`) +
    `<rim:Description><rim:LocalizedString value="Sortie d'hospitalisation"/></rim:Description>` +
    `<rim:VersionInfo versionName="1"/>` +
    author(c(1), DOCUMENT_ENTRY_SCHEME.author, id) +
    code(c(2), DOCUMENT_ENTRY_SCHEME.classCode, id, '10', '1.2.250.1.213.1.1.4.1', 'Compte rendu') +
    code(c(3), DOCUMENT_ENTRY_SCHEME.confidentialityCode, id, 'N', '2.16.840.1.113883.5.25', 'Normal') +
    code(c(4), DOCUMENT_ENTRY_SCHEME.formatCode, id, 'urn:asip:ci-sis:ldl-ses:2017', '1.2.250.1.213.1.1.4.2.282', 'Lettre de liaison de sortie') +
    code(c(5), DOCUMENT_ENTRY_SCHEME.healthcareFacilityTypeCode, id, 'SA01', '1.2.250.1.71.4.2.4', 'Etablissement public de sante') +
    code(c(6), DOCUMENT_ENTRY_SCHEME.practiceSettingCode, id, 'ETABLISSEMENT', '1.2.250.1.213.1.1.4.9', 'Etablissement de sante') +
    code(c(7), DOCUMENT_ENTRY_SCHEME.typeCode, id, '11490-0', '2.16.840.1.113883.6.1', 'Lettre de sortie') +
    externalIdentifier(`ei-${id}-1`, DOCUMENT_ENTRY_SCHEME.patientId, id, PATIENT_ID, 'XDSDocumentEntry.patientId') +
    externalIdentifier(`ei-${id}-2`, DOCUMENT_ENTRY_SCHEME.uniqueId, id, entryUniqueId(i), 'XDSDocumentEntry.uniqueId') +
    `</rim:ExtrinsicObject>`
  );
}

function submissionSetXml(): string {
  const id = 'SubmissionSet01';
  return (
    `<rim:RegistryPackage id="${id}">` +
    slot('submissionTime', '20240115120000') +
    name('Sortie du 15 janvier') +
    author('cl-ss-1', SUBMISSION_SET_SCHEME.author, id) +
    code('cl-ss-2', SUBMISSION_SET_SCHEME.contentTypeCode, id, '11490-0', '2.16.840.1.113883.6.1', 'Lettre de sortie') +
    externalIdentifier('ei-ss-1', SUBMISSION_SET_SCHEME.uniqueId, id, '1.2.250.1.999.1.3.1', 'XDSSubmissionSet.uniqueId') +
    externalIdentifier('ei-ss-2', SUBMISSION_SET_SCHEME.sourceId, id, '1.2.250.1.999.1.4', 'XDSSubmissionSet.sourceId') +
    externalIdentifier('ei-ss-3', SUBMISSION_SET_SCHEME.patientId, id, PATIENT_ID, 'XDSSubmissionSet.patientId') +
    `</rim:RegistryPackage>` +
    `<rim:Classification id="cl-ss-node" classifiedObject="${id}" classificationNode="${CLASSIFICATION_NODE.submissionSet}"/>`
  );
}

function folderXml(): string {
  const id = 'Folder01';
  return (
    `<rim:RegistryPackage id="${id}">` +
    name('Hospitalisation janvier 2024') +
    code('cl-f-1', FOLDER_SCHEME.codeList, id, '11490-0', '2.16.840.1.113883.6.1', 'Lettre de sortie') +
    externalIdentifier('ei-f-1', FOLDER_SCHEME.uniqueId, id, '1.2.250.1.999.1.5.1', 'XDSFolder.uniqueId') +
    externalIdentifier('ei-f-2', FOLDER_SCHEME.patientId, id, PATIENT_ID, 'XDSFolder.patientId') +
    `</rim:RegistryPackage>` +
    `<rim:Classification id="cl-f-node" classifiedObject="${id}" classificationNode="${CLASSIFICATION_NODE.folder}"/>` +
    `<rim:Association id="as-ss-f" associationType="${ASSOCIATION_TYPE.hasMember}" sourceObject="SubmissionSet01" targetObject="${id}"/>` +
    `<rim:Association id="as-f-1" associationType="${ASSOCIATION_TYPE.hasMember}" sourceObject="${id}" targetObject="${entryId(1)}"/>` +
    `<rim:Association id="as-ss-as-f-1" associationType="${ASSOCIATION_TYPE.hasMember}" sourceObject="SubmissionSet01" targetObject="as-f-1"/>`
  );
}

const hasMember = (i: number): string =>
  `<rim:Association id="as${String(i).padStart(2, '0')}" associationType="${ASSOCIATION_TYPE.hasMember}" sourceObject="SubmissionSet01" targetObject="${entryId(i)}">` +
  `${slot('SubmissionSetStatus', 'Original')}</rim:Association>`;

/** A valid ITI-41 request body (or ITI-42 with `register`), DMP-like codes, symbolic ids; tests mutate the string. */
export function submissionXml(opts: FixtureOptions = {}): string {
  const n = opts.entries ?? 1;
  const register = opts.register ?? false;
  const indexes = Array.from({ length: n }, (_, k) => k + 1);
  const list =
    `<rim:RegistryObjectList>` +
    indexes.map((i) => documentEntryXml(i, register)).join('') +
    submissionSetXml() +
    indexes.map(hasMember).join('') +
    (opts.folder ? folderXml() : '') +
    `</rim:RegistryObjectList>`;
  const ns = `xmlns:lcm="${NS.lcm}" xmlns:rim="${NS.rim}"`;
  if (register) return `<lcm:SubmitObjectsRequest ${ns}>${list}</lcm:SubmitObjectsRequest>`;
  const documents = indexes.map((i) => `<xdsb:Document id="${entryId(i)}">${documentBytes(i).toString('base64')}</xdsb:Document>`).join('');
  return `<xdsb:ProvideAndRegisterDocumentSetRequest xmlns:xdsb="${NS.xdsb}" ${ns}><lcm:SubmitObjectsRequest>${list}</lcm:SubmitObjectsRequest>${documents}</xdsb:ProvideAndRegisterDocumentSetRequest>`;
}

export const base64Document = (el: { text: string }): Buffer => Buffer.from(el.text.trim(), 'base64');

export function documentFacts(documents: SubmittedDocument[]): Map<string, { sha1: string; size: number }> {
  return new Map(documents.map((d) => [d.submittedId, { sha1: sha1Of(d.bytes), size: d.bytes.length }]));
}

export interface Outcome {
  metadata?: SubmissionMetadata;
  documents: SubmittedDocument[];
  /** Parse errors followed by validation errors, as the transaction answers them. */
  errors: XdsError[];
}

/** Parses and validates an ITI-41 body the way the repository does. */
export function runIti41(xml: string, ctx: Partial<ValidationContext> = {}): Outcome {
  const parsed = parseProvideAndRegister(parseXml(xml), base64Document);
  const errors = [...parsed.errors];
  if (parsed.metadata) {
    errors.push(
      ...validateSubmission(parsed.metadata, {
        documents: documentFacts(parsed.documents),
        repositoryUniqueId: REPOSITORY_ID,
        patientAuthority: PATIENT_AUTHORITY,
        ...ctx,
      }),
    );
  }
  return { metadata: parsed.metadata, documents: parsed.documents, errors };
}

/** Parses and validates an ITI-42 body the way the registry does. */
export function runIti42(xml: string, knownRepositoryIds?: string[]): Outcome {
  const parsed = parseRegisterDocumentSet(parseXml(xml));
  const errors = [...parsed.errors];
  if (parsed.metadata) {
    errors.push(...validateSubmission(parsed.metadata, { documents: undefined, repositoryUniqueId: REPOSITORY_ID, patientAuthority: PATIENT_AUTHORITY, knownRepositoryIds }));
  }
  return { metadata: parsed.metadata, documents: [], errors };
}

export const codesOf = (errors: XdsError[]): string[] => errors.map((e) => e.code);
