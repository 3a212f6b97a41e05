import { createHash, randomBytes, randomInt, randomUUID } from 'node:crypto';
import type {
  Association,
  Author,
  Code,
  DocumentEntry,
  Folder,
  RimClassification,
  RimObject,
  RimSlot,
  StoredDocument,
  SubmissionMetadata,
  SubmissionSet,
} from '../../src/ebrim/model.js';
import { ASSOCIATION_TYPE, CLASSIFICATION_NODE, DOCUMENT_ENTRY_SCHEME, FOLDER_SCHEME, OBJECT_TYPE, SUBMISSION_SET_SCHEME } from '../../src/ebrim/uuids.js';

const TEST_INS_OID = '1.2.250.1.213.1.4.10';
let serial = 0;

export const newPatientId = (): string => `${randomInt(1e9, 1e10 - 1)}${randomInt(1e4, 1e5 - 1)}^^^&${TEST_INS_OID}&ISO`;
export const newOid = (): string => `1.2.250.1.999.42.${Date.now()}.${process.pid}.${++serial}`;
const urn = (): string => `urn:uuid:${randomUUID()}`;

const slot = (name: string, ...values: string[]): RimSlot => ({ name, values });

function classification(scheme: string, classifiedObject: string, c: Code): RimClassification {
  return {
    id: urn(),
    classificationScheme: scheme,
    classifiedObject,
    nodeRepresentation: c.code,
    name: c.displayName ? [{ value: c.displayName, lang: 'fr-FR' }] : [],
    description: [],
    slots: [slot('codingScheme', c.codingScheme)],
  };
}

function authorClassification(scheme: string, classifiedObject: string, a: Author): RimClassification {
  const slots = [slot('authorInstitution', ...a.institutions), slot('authorRole', ...a.roles), slot('authorSpecialty', ...a.specialties)];
  return {
    id: urn(),
    classificationScheme: scheme,
    classifiedObject,
    nodeRepresentation: '',
    name: [],
    description: [],
    slots: a.person ? [slot('authorPerson', a.person), ...slots] : slots,
  };
}

const externalId = (scheme: string, registryObject: string, value: string, name: string) => ({
  id: urn(),
  identificationScheme: scheme,
  registryObject,
  value,
  name: [{ value: name }],
});

const AUTHOR: Author = {
  person: '801234567890^MARTIN^Jeanne^^^Dr^^^&1.2.250.1.71.4.2.1&ISO',
  institutions: ['CHU de Test^^^^^&1.2.250.1.71.4.2.2&ISO^IDNST^^^1234567890'],
  roles: ['10^Médecin^1.2.250.1.213.1.1.5.5'],
  specialties: ['SM26^Qualifié en Médecine Générale^1.2.250.1.71.4.2.5'],
  telecommunications: [],
};

export interface DocumentOptions {
  uniqueId?: string;
  patientId: string;
  title?: string;
  /** Bytes the stored facts are computed from (random when absent). */
  bytes?: Buffer;
}

/** A stable DocumentEntry as the parser would produce it, with its lossless RIM form. */
export function makeDocumentEntry(opts: DocumentOptions): DocumentEntry {
  const id = urn();
  const uniqueId = opts.uniqueId ?? newOid();
  const classCode: Code = { code: '10', codingScheme: '1.2.250.1.213.1.1.4.1', displayName: 'Compte rendu' };
  const typeCode: Code = { code: '11502-2', codingScheme: '2.16.840.1.113883.6.1', displayName: 'CR d’examens biologiques' };
  const formatCode: Code = { code: 'urn:ihe:lab:xd-lab:2008', codingScheme: '1.3.6.1.4.1.19376.1.2.3', displayName: 'CR-BIO' };
  const practiceSettingCode: Code = { code: 'ETABLISSEMENT', codingScheme: '1.2.250.1.213.1.1.4.9', displayName: 'Établissement de santé' };
  const healthcareFacilityTypeCode: Code = { code: 'SA01', codingScheme: '1.2.250.1.71.4.2.4', displayName: 'Hôpital' };
  const confidentialityCodes: Code[] = [
    { code: 'N', codingScheme: '2.16.840.1.113883.5.25', displayName: 'Normal' },
    { code: 'MASQUE_PS', codingScheme: '1.2.250.1.213.1.1.4.13', displayName: 'Masqué aux professionnels' },
  ];
  const eventCodes: Code[] = [{ code: 'GLUC', codingScheme: '1.2.250.1.213.2.16', displayName: 'Glucose' }];
  const title = opts.title ?? 'Résultats de biologie';
  const rim: RimObject = {
    kind: 'ExtrinsicObject',
    id,
    objectType: OBJECT_TYPE.stableDocumentEntry,
    mimeType: 'text/xml',
    name: [{ value: title, lang: 'fr-FR', charset: 'UTF-8' }],
    description: [],
    slots: [
      slot('creationTime', '20240115103000'),
      slot('languageCode', 'fr-FR'),
      slot('serviceStartTime', '20240115080000'),
      slot('serviceStopTime', '20240115090000'),
      slot('sourcePatientId', opts.patientId),
      slot('sourcePatientInfo', 'PID-5|DUPONT^Marie^^^^^L', 'PID-7|19700101', 'PID-8|F'),
      slot('x-local-extension', 'kept as sent', ''),
    ],
    classifications: [
      authorClassification(DOCUMENT_ENTRY_SCHEME.author, id, AUTHOR),
      classification(DOCUMENT_ENTRY_SCHEME.classCode, id, classCode),
      ...confidentialityCodes.map((c) => classification(DOCUMENT_ENTRY_SCHEME.confidentialityCode, id, c)),
      ...eventCodes.map((c) => classification(DOCUMENT_ENTRY_SCHEME.eventCodeList, id, c)),
      classification(DOCUMENT_ENTRY_SCHEME.formatCode, id, formatCode),
      classification(DOCUMENT_ENTRY_SCHEME.healthcareFacilityTypeCode, id, healthcareFacilityTypeCode),
      classification(DOCUMENT_ENTRY_SCHEME.practiceSettingCode, id, practiceSettingCode),
      classification(DOCUMENT_ENTRY_SCHEME.typeCode, id, typeCode),
    ],
    externalIdentifiers: [
      externalId(DOCUMENT_ENTRY_SCHEME.patientId, id, opts.patientId, 'XDSDocumentEntry.patientId'),
      externalId(DOCUMENT_ENTRY_SCHEME.uniqueId, id, uniqueId, 'XDSDocumentEntry.uniqueId'),
    ],
  };
  return {
    id,
    submittedId: `Document${++serial}`,
    lid: id,
    entryType: 'stable',
    uniqueId,
    patientId: opts.patientId,
    mimeType: 'text/xml',
    title,
    classCode,
    typeCode,
    formatCode,
    practiceSettingCode,
    healthcareFacilityTypeCode,
    confidentialityCodes,
    eventCodes,
    authors: [AUTHOR],
    creationTime: '20240115103000',
    serviceStartTime: '20240115080000',
    serviceStopTime: '20240115090000',
    languageCode: 'fr-FR',
    sourcePatientId: opts.patientId,
    sourcePatientInfo: ['PID-5|DUPONT^Marie^^^^^L', 'PID-7|19700101', 'PID-8|F'],
    referenceIdList: [],
    rim,
  };
}

/** The repository's facts about a document's bytes. */
export function storedFor(doc: DocumentEntry, bytes: Buffer = randomBytes(64)): StoredDocument {
  return {
    entryId: doc.id,
    uniqueId: doc.uniqueId,
    contentKey: createHash('sha256').update(bytes).digest('hex'),
    sha1: createHash('sha1').update(bytes).digest('hex'),
    size: bytes.length,
    mimeType: doc.mimeType,
  };
}

export function makeSubmissionSet(patientId: string, uniqueId = newOid()): SubmissionSet {
  const id = urn();
  const contentTypeCode: Code = { code: '04', codingScheme: '1.2.250.1.213.1.1.4.12', displayName: 'Hospitalisation' };
  const rim: RimObject = {
    kind: 'RegistryPackage',
    id,
    objectType: OBJECT_TYPE.registryPackage,
    name: [],
    description: [],
    slots: [slot('submissionTime', '20240115120000')],
    classifications: [
      {
        id: urn(),
        classificationNode: CLASSIFICATION_NODE.submissionSet,
        classifiedObject: id,
        name: [],
        description: [],
        slots: [],
      },
      authorClassification(SUBMISSION_SET_SCHEME.author, id, AUTHOR),
      classification(SUBMISSION_SET_SCHEME.contentTypeCode, id, contentTypeCode),
    ],
    externalIdentifiers: [
      externalId(SUBMISSION_SET_SCHEME.patientId, id, patientId, 'XDSSubmissionSet.patientId'),
      externalId(SUBMISSION_SET_SCHEME.sourceId, id, '1.2.250.1.999.7', 'XDSSubmissionSet.sourceId'),
      externalId(SUBMISSION_SET_SCHEME.uniqueId, id, uniqueId, 'XDSSubmissionSet.uniqueId'),
    ],
  };
  return {
    id,
    submittedId: 'SubmissionSet01',
    uniqueId,
    sourceId: '1.2.250.1.999.7',
    patientId,
    submissionTime: '20240115120000',
    contentTypeCode,
    authors: [AUTHOR],
    intendedRecipients: [],
    rim,
  };
}

export function makeFolder(patientId: string, uniqueId = newOid()): Folder {
  const id = urn();
  const codeList: Code[] = [{ code: 'BIO', codingScheme: '1.2.250.1.999.3', displayName: 'Biologie' }];
  const rim: RimObject = {
    kind: 'RegistryPackage',
    id,
    objectType: OBJECT_TYPE.registryPackage,
    name: [{ value: 'Bilans' }],
    description: [],
    slots: [],
    classifications: [
      { id: urn(), classificationNode: CLASSIFICATION_NODE.folder, classifiedObject: id, name: [], description: [], slots: [] },
      ...codeList.map((c) => classification(FOLDER_SCHEME.codeList, id, c)),
    ],
    externalIdentifiers: [
      externalId(FOLDER_SCHEME.patientId, id, patientId, 'XDSFolder.patientId'),
      externalId(FOLDER_SCHEME.uniqueId, id, uniqueId, 'XDSFolder.uniqueId'),
    ],
  };
  return { id, submittedId: `Folder${++serial}`, uniqueId, patientId, title: 'Bilans', codeList, rim };
}

export function makeAssociation(type: string, sourceObject: string, targetObject: string, submissionSetStatus?: 'Original' | 'Reference'): Association {
  const id = urn();
  const rim: RimObject = {
    kind: 'Association',
    id,
    objectType: OBJECT_TYPE.association,
    associationType: type,
    sourceObject,
    targetObject,
    name: [],
    description: [],
    slots: submissionSetStatus ? [slot('SubmissionSetStatus', submissionSetStatus)] : [],
    classifications: [],
    externalIdentifiers: [],
  };
  const a: Association = { id, submittedId: `Association${++serial}`, type, sourceObject, targetObject, rim };
  return submissionSetStatus ? { ...a, submissionSetStatus } : a;
}

export interface SubmissionOptions {
  patientId: string;
  documents?: DocumentOptions[] | number;
  /** Add a Folder holding every document. */
  folder?: boolean;
  /** Extra associations, e.g. to objects already in the registry. */
  associations?: (ss: SubmissionSet, docs: DocumentEntry[]) => Association[];
}

export interface Submission {
  metadata: SubmissionMetadata;
  stored: StoredDocument[];
}

/** An ITI-41 submission: a SubmissionSet, its documents (with stored facts), optionally a Folder, and the HasMember associations. */
export function makeSubmission(opts: SubmissionOptions): Submission {
  const docOpts: DocumentOptions[] = typeof opts.documents === 'number' || opts.documents === undefined
    ? Array.from({ length: typeof opts.documents === 'number' ? opts.documents : 1 }, () => ({ patientId: opts.patientId }))
    : opts.documents;
  const ss = makeSubmissionSet(opts.patientId);
  const documentEntries = docOpts.map((o) => makeDocumentEntry(o));
  const stored = documentEntries.map((d, i) => storedFor(d, docOpts[i]?.bytes));
  const associations = documentEntries.map((d) => makeAssociation(ASSOCIATION_TYPE.hasMember, ss.id, d.id, 'Original'));
  const folders: Folder[] = [];
  if (opts.folder) {
    const folder = makeFolder(opts.patientId);
    folders.push(folder);
    associations.push(makeAssociation(ASSOCIATION_TYPE.hasMember, ss.id, folder.id, 'Original'));
    for (const d of documentEntries) {
      const inFolder = makeAssociation(ASSOCIATION_TYPE.hasMember, folder.id, d.id);
      associations.push(inFolder, makeAssociation(ASSOCIATION_TYPE.hasMember, ss.id, inFolder.id, 'Original'));
    }
  }
  associations.push(...(opts.associations?.(ss, documentEntries) ?? []));
  return { metadata: { submissionSet: ss, documentEntries, folders, associations }, stored };
}

export const newSubmissionId = (): string => `job-${randomUUID()}`;
