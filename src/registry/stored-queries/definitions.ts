/**
 * The 14 stored queries of ITI TF-2a §3.18.4.1.2.3.7 as data: each parameter with its type,
 * cardinality and the column it narrows. Column names here are constants of this file; query values
 * only ever travel as SQL parameters.
 */

export type ParamType =
  | 'patientId'
  | 'code'
  | 'dtm'
  | 'status'
  | 'entryType'
  | 'uuid'
  | 'uniqueId'
  | 'text'
  | 'authorPattern'
  | 'associationType'
  | 'metadataLevel'
  | 'homeCommunityId';

/** The registry objects a query selects from; each has its table and alias in the executor. */
export type Target = 'document' | 'submissionSet' | 'folder';

export type Filter =
  /** column = any(values). */
  | { kind: 'in'; column: string }
  /** A coded attribute held in two columns; values ORed. */
  | { kind: 'code'; column: string; scheme: string }
  /** Codes of a child table (event codes, confidentiality, folder codes): each slot ORed, repeated slots ANDed. */
  | { kind: 'codeSets'; table: 'document_entry_codes' | 'folder_codes'; codeKind?: 'event' | 'confidentiality' }
  /** Time ranges: From inclusive, To exclusive, both on the first second of the period. */
  | { kind: 'from' | 'to'; column: string }
  /** LIKE patterns on the author person; values ORed. */
  | { kind: 'author'; table: 'document_entry_authors' | 'submission_set_authors' }
  | { kind: 'referenceId' };

export interface ParamDef {
  name: string;
  type: ParamType;
  required?: boolean;
  /** Several values allowed (ORed). */
  multiple?: boolean;
  /** The slot may repeat; repeats are ANDed. */
  andRepeats?: boolean;
  /** Used when the parameter is absent. */
  defaultValues?: string[];
  /** What the parameter narrows; absent for ids and options the executor reads itself. */
  on?: Target | Target[];
  filter?: Filter;
}

export type Shape =
  | 'FindDocuments'
  | 'FindSubmissionSets'
  | 'FindFolders'
  | 'GetAll'
  | 'GetDocuments'
  | 'GetFolders'
  | 'GetAssociations'
  | 'GetDocumentsAndAssociations'
  | 'GetSubmissionSets'
  | 'GetSubmissionSetAndContents'
  | 'GetFolderAndContents'
  | 'GetFoldersForDocument'
  | 'GetRelatedDocuments';

export interface StoredQueryDef {
  id: string;
  name: string;
  shape: Shape;
  params: ParamDef[];
  /** Exactly one parameter of each group must be given (an entryUUID or a uniqueId). */
  oneOf?: [string, string][];
  /** The answer must name one patient only (queries that take no patient id). */
  singlePatient: boolean;
}

const STABLE = 'urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1';

const doc = (name: string, type: ParamType, filter: Filter, more: Partial<ParamDef> = {}): ParamDef => ({ name, type, on: 'document', filter, ...more });
const docCode = (name: string, column: string): ParamDef => doc(name, 'code', { kind: 'code', column, scheme: column.replace(/_code$/, '_scheme') }, { multiple: true });
const docTime = (prefix: string, column: string): ParamDef[] => [
  doc(`${prefix}From`, 'dtm', { kind: 'from', column }),
  doc(`${prefix}To`, 'dtm', { kind: 'to', column }),
];

const ENTRY_TYPE = doc('$XDSDocumentEntryType', 'entryType', { kind: 'in', column: 'object_type' }, { multiple: true, defaultValues: [STABLE] });
const FORMAT_CODE = docCode('$XDSDocumentEntryFormatCode', 'format_code');
const CONFIDENTIALITY = doc('$XDSDocumentEntryConfidentialityCode', 'code', { kind: 'codeSets', table: 'document_entry_codes', codeKind: 'confidentiality' }, { multiple: true, andRepeats: true });
const METADATA_LEVEL: ParamDef = { name: '$MetadataLevel', type: 'metadataLevel' };
const HOME: ParamDef = { name: '$homeCommunityId', type: 'homeCommunityId' };

const DOCUMENT_FILTERS: ParamDef[] = [
  docCode('$XDSDocumentEntryClassCode', 'class_code'),
  docCode('$XDSDocumentEntryTypeCode', 'type_code'),
  docCode('$XDSDocumentEntryPracticeSettingCode', 'practice_setting_code'),
  ...docTime('$XDSDocumentEntryCreationTime', 'creation_time'),
  ...docTime('$XDSDocumentEntryServiceStartTime', 'service_start_time'),
  ...docTime('$XDSDocumentEntryServiceStopTime', 'service_stop_time'),
  docCode('$XDSDocumentEntryHealthcareFacilityTypeCode', 'healthcare_facility_type_code'),
  doc('$XDSDocumentEntryEventCodeList', 'code', { kind: 'codeSets', table: 'document_entry_codes', codeKind: 'event' }, { multiple: true, andRepeats: true }),
  CONFIDENTIALITY,
  doc('$XDSDocumentEntryAuthorPerson', 'authorPattern', { kind: 'author', table: 'document_entry_authors' }, { multiple: true }),
  FORMAT_CODE,
  doc('$XDSDocumentEntryStatus', 'status', { kind: 'in', column: 'status' }, { required: true, multiple: true }),
  ENTRY_TYPE,
  METADATA_LEVEL,
];

const DOCUMENT_PATIENT = doc('$XDSDocumentEntryPatientId', 'patientId', { kind: 'in', column: 'patient_id' }, { required: true });

const DOCUMENT_IDS: ParamDef[] = [
  { name: '$XDSDocumentEntryEntryUUID', type: 'uuid', multiple: true },
  { name: '$XDSDocumentEntryUniqueId', type: 'uniqueId', multiple: true },
];
const ONE_DOCUMENT: ParamDef[] = DOCUMENT_IDS.map((p) => ({ ...p, multiple: false }));
const FOLDER_IDS: ParamDef[] = [
  { name: '$XDSFolderEntryUUID', type: 'uuid', multiple: true },
  { name: '$XDSFolderUniqueId', type: 'uniqueId', multiple: true },
];
const ONE_FOLDER: ParamDef[] = FOLDER_IDS.map((p) => ({ ...p, multiple: false }));
const DOCUMENT_ID_GROUP: [string, string] = ['$XDSDocumentEntryEntryUUID', '$XDSDocumentEntryUniqueId'];
const FOLDER_ID_GROUP: [string, string] = ['$XDSFolderEntryUUID', '$XDSFolderUniqueId'];
const CONTENT_FILTERS: ParamDef[] = [FORMAT_CODE, CONFIDENTIALITY, ENTRY_TYPE, METADATA_LEVEL, HOME];

export const STORED_QUERIES: StoredQueryDef[] = [
  {
    id: 'urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d',
    name: 'FindDocuments',
    shape: 'FindDocuments',
    params: [DOCUMENT_PATIENT, ...DOCUMENT_FILTERS],
    singlePatient: false,
  },
  {
    id: 'urn:uuid:12941a89-e02e-4be5-967c-ce4bfc8fe492',
    name: 'FindDocumentsByReferenceId',
    shape: 'FindDocuments',
    params: [
      DOCUMENT_PATIENT,
      doc('$XDSDocumentEntryReferenceIdList', 'text', { kind: 'referenceId' }, { required: true, multiple: true }),
      ...DOCUMENT_FILTERS,
    ],
    singlePatient: false,
  },
  {
    id: 'urn:uuid:f26abbcb-ac74-4422-8a30-edb644bbc1a9',
    name: 'FindSubmissionSets',
    shape: 'FindSubmissionSets',
    params: [
      { name: '$XDSSubmissionSetPatientId', type: 'patientId', required: true, on: 'submissionSet', filter: { kind: 'in', column: 'patient_id' } },
      { name: '$XDSSubmissionSetSourceId', type: 'text', multiple: true, on: 'submissionSet', filter: { kind: 'in', column: 'source_id' } },
      { name: '$XDSSubmissionSetSubmissionTimeFrom', type: 'dtm', on: 'submissionSet', filter: { kind: 'from', column: 'submission_time' } },
      { name: '$XDSSubmissionSetSubmissionTimeTo', type: 'dtm', on: 'submissionSet', filter: { kind: 'to', column: 'submission_time' } },
      { name: '$XDSSubmissionSetAuthorPerson', type: 'authorPattern', on: 'submissionSet', filter: { kind: 'author', table: 'submission_set_authors' } },
      { name: '$XDSSubmissionSetContentType', type: 'code', multiple: true, on: 'submissionSet', filter: { kind: 'code', column: 'content_type_code', scheme: 'content_type_scheme' } },
      { name: '$XDSSubmissionSetStatus', type: 'status', required: true, multiple: true, on: 'submissionSet', filter: { kind: 'in', column: 'status' } },
      METADATA_LEVEL,
    ],
    singlePatient: false,
  },
  {
    id: 'urn:uuid:958f3006-baad-4929-a4de-ff1114824431',
    name: 'FindFolders',
    shape: 'FindFolders',
    params: [
      { name: '$XDSFolderPatientId', type: 'patientId', required: true, on: 'folder', filter: { kind: 'in', column: 'patient_id' } },
      { name: '$XDSFolderLastUpdateTimeFrom', type: 'dtm', on: 'folder', filter: { kind: 'from', column: 'last_update_time' } },
      { name: '$XDSFolderLastUpdateTimeTo', type: 'dtm', on: 'folder', filter: { kind: 'to', column: 'last_update_time' } },
      { name: '$XDSFolderCodeList', type: 'code', multiple: true, andRepeats: true, on: 'folder', filter: { kind: 'codeSets', table: 'folder_codes' } },
      { name: '$XDSFolderStatus', type: 'status', required: true, multiple: true, on: 'folder', filter: { kind: 'in', column: 'status' } },
      METADATA_LEVEL,
    ],
    singlePatient: false,
  },
  {
    id: 'urn:uuid:10b545ea-725c-446d-9b95-8aeb444eddf3',
    name: 'GetAll',
    shape: 'GetAll',
    params: [
      { name: '$patientId', type: 'patientId', required: true, on: ['document', 'submissionSet', 'folder'], filter: { kind: 'in', column: 'patient_id' } },
      doc('$XDSDocumentEntryStatus', 'status', { kind: 'in', column: 'status' }, { required: true, multiple: true }),
      { name: '$XDSSubmissionSetStatus', type: 'status', required: true, multiple: true, on: 'submissionSet', filter: { kind: 'in', column: 'status' } },
      { name: '$XDSFolderStatus', type: 'status', required: true, multiple: true, on: 'folder', filter: { kind: 'in', column: 'status' } },
      FORMAT_CODE,
      CONFIDENTIALITY,
      ENTRY_TYPE,
      METADATA_LEVEL,
    ],
    singlePatient: false,
  },
  {
    id: 'urn:uuid:5c4f972b-d56b-40ac-a5fc-c8ca9b40b9d4',
    name: 'GetDocuments',
    shape: 'GetDocuments',
    params: [...DOCUMENT_IDS, METADATA_LEVEL, HOME],
    oneOf: [DOCUMENT_ID_GROUP],
    singlePatient: true,
  },
  {
    id: 'urn:uuid:5737b14c-8a1a-4539-b659-e03a34a5e1e4',
    name: 'GetFolders',
    shape: 'GetFolders',
    params: [...FOLDER_IDS, METADATA_LEVEL, HOME],
    oneOf: [FOLDER_ID_GROUP],
    singlePatient: true,
  },
  {
    id: 'urn:uuid:a7ae438b-4bc2-4642-93e9-be891f7bb155',
    name: 'GetAssociations',
    shape: 'GetAssociations',
    params: [{ name: '$uuid', type: 'uuid', required: true, multiple: true }, METADATA_LEVEL, HOME],
    singlePatient: true,
  },
  {
    id: 'urn:uuid:bab9529a-4a10-40b3-a01f-f68a615d247a',
    name: 'GetDocumentsAndAssociations',
    shape: 'GetDocumentsAndAssociations',
    params: [...DOCUMENT_IDS, METADATA_LEVEL, HOME],
    oneOf: [DOCUMENT_ID_GROUP],
    singlePatient: true,
  },
  {
    id: 'urn:uuid:51224314-5390-4169-9b91-b1980040715a',
    name: 'GetSubmissionSets',
    shape: 'GetSubmissionSets',
    params: [{ name: '$uuid', type: 'uuid', required: true, multiple: true }, METADATA_LEVEL, HOME],
    singlePatient: true,
  },
  {
    id: 'urn:uuid:e8e3cb2c-e39c-46b9-99e4-c12f57260b83',
    name: 'GetSubmissionSetAndContents',
    shape: 'GetSubmissionSetAndContents',
    params: [{ name: '$XDSSubmissionSetEntryUUID', type: 'uuid' }, { name: '$XDSSubmissionSetUniqueId', type: 'uniqueId' }, ...CONTENT_FILTERS],
    oneOf: [['$XDSSubmissionSetEntryUUID', '$XDSSubmissionSetUniqueId']],
    singlePatient: true,
  },
  {
    id: 'urn:uuid:b909a503-523d-4517-8acf-8e5834dfc4c7',
    name: 'GetFolderAndContents',
    shape: 'GetFolderAndContents',
    params: [...ONE_FOLDER, ...CONTENT_FILTERS],
    oneOf: [FOLDER_ID_GROUP],
    singlePatient: true,
  },
  {
    id: 'urn:uuid:10cae35a-c7f9-4cf5-b61e-fc3278ffb578',
    name: 'GetFoldersForDocument',
    shape: 'GetFoldersForDocument',
    params: [...ONE_DOCUMENT, METADATA_LEVEL, HOME],
    oneOf: [DOCUMENT_ID_GROUP],
    singlePatient: true,
  },
  {
    id: 'urn:uuid:d90e5407-b356-4d91-a89f-873917b4b0e6',
    name: 'GetRelatedDocuments',
    shape: 'GetRelatedDocuments',
    params: [...ONE_DOCUMENT, { name: '$AssociationTypes', type: 'associationType', required: true, multiple: true }, ENTRY_TYPE, METADATA_LEVEL, HOME],
    oneOf: [DOCUMENT_ID_GROUP],
    singlePatient: true,
  },
];

export const storedQueryById = new Map(STORED_QUERIES.map((q) => [q.id, q]));
