/**
 * The XDS metadata model. Parsing (ebrim/parse.ts) turns untrusted ebRIM XML into these
 * plain objects once; nothing downstream re-reads XML.
 *
 * Two layers: `Rim*` keeps every ebRIM object exactly as submitted (all slots, names,
 * classifications, external identifiers, in order) so that any slot round-trips unchanged
 * and stored queries can return the full object; the typed entries (DocumentEntry,
 * SubmissionSet, Folder, Association) are the views the gateway reasons on.
 */

export interface RimSlot {
  name: string;
  values: string[];
  slotType?: string;
}

export interface RimLocalizedString {
  value: string;
  lang?: string;
  charset?: string;
}

export interface RimClassification {
  id: string;
  classificationScheme?: string;
  classificationNode?: string;
  classifiedObject: string;
  nodeRepresentation?: string;
  name: RimLocalizedString[];
  description: RimLocalizedString[];
  slots: RimSlot[];
}

export interface RimExternalIdentifier {
  id: string;
  identificationScheme: string;
  registryObject: string;
  value: string;
  name: RimLocalizedString[];
}

export type RimKind = 'ExtrinsicObject' | 'RegistryPackage' | 'Association';

/** One top-level ebRIM object of a RegistryObjectList, lossless. */
export interface RimObject {
  kind: RimKind;
  id: string;
  lid?: string;
  objectType?: string;
  status?: string;
  home?: string;
  /** ExtrinsicObject only. */
  mimeType?: string;
  isOpaque?: string;
  /** Association only. */
  associationType?: string;
  sourceObject?: string;
  targetObject?: string;
  versionName?: string;
  name: RimLocalizedString[];
  description: RimLocalizedString[];
  slots: RimSlot[];
  classifications: RimClassification[];
  externalIdentifiers: RimExternalIdentifier[];
}

export interface Code {
  code: string;
  codingScheme: string;
  displayName?: string;
}

export interface Author {
  person?: string;
  institutions: string[];
  roles: string[];
  specialties: string[];
  telecommunications: string[];
}

export type DocumentEntryType = 'stable' | 'on-demand';

export interface DocumentEntry {
  /** entryUUID, `urn:uuid:...` once symbolic ids are replaced. */
  id: string;
  /** The id as the submitter wrote it (symbolic or UUID), for error locations. */
  submittedId: string;
  lid: string;
  entryType: DocumentEntryType;
  uniqueId: string;
  patientId: string;
  mimeType: string;
  status?: string;
  title?: string;
  comments?: string;
  classCode?: Code;
  typeCode?: Code;
  formatCode?: Code;
  practiceSettingCode?: Code;
  healthcareFacilityTypeCode?: Code;
  confidentialityCodes: Code[];
  eventCodes: Code[];
  authors: Author[];
  creationTime?: string;
  serviceStartTime?: string;
  serviceStopTime?: string;
  languageCode?: string;
  sourcePatientId?: string;
  sourcePatientInfo: string[];
  legalAuthenticator?: string;
  referenceIdList: string[];
  /** As submitted (repository fills them in when absent). */
  hash?: string;
  size?: string;
  repositoryUniqueId?: string;
  rim: RimObject;
}

export interface SubmissionSet {
  id: string;
  submittedId: string;
  uniqueId: string;
  sourceId: string;
  patientId: string;
  submissionTime?: string;
  title?: string;
  comments?: string;
  contentTypeCode?: Code;
  authors: Author[];
  intendedRecipients: string[];
  rim: RimObject;
}

export interface Folder {
  id: string;
  submittedId: string;
  uniqueId: string;
  patientId: string;
  title?: string;
  comments?: string;
  codeList: Code[];
  lastUpdateTime?: string;
  rim: RimObject;
}

export interface Association {
  id: string;
  submittedId: string;
  type: string;
  sourceObject: string;
  targetObject: string;
  /** HasMember from a SubmissionSet: `Original` or `Reference`. */
  submissionSetStatus?: string;
  rim: RimObject;
}

/** The metadata of one ITI-41 / ITI-42 request, symbolic ids already replaced by UUIDs. */
export interface SubmissionMetadata {
  submissionSet: SubmissionSet;
  documentEntries: DocumentEntry[];
  folders: Folder[];
  associations: Association[];
}

/** A document as it travels in an ITI-41 request: the bytes, keyed by the DocumentEntry id it belongs to. */
export interface SubmittedDocument {
  /** The `id` attribute of xdsb:Document as submitted (refers to a DocumentEntry's submittedId). */
  submittedId: string;
  bytes: Buffer;
}

/** Repository-computed facts about a stored document. */
export interface StoredDocument {
  /** DocumentEntry id (urn:uuid). */
  entryId: string;
  uniqueId: string;
  /** SHA-256 hex of the bytes: the content store key. */
  contentKey: string;
  /** SHA-1 hex, the XDS `hash` slot. */
  sha1: string;
  size: number;
  mimeType: string;
  /**
   * The bytes of a document the registry keeps itself (inline_content, written by the commit) instead of
   * the content store: the gateway's own DSG signature, made by the worker at commit (never in a job).
   * Absent for every submitted document.
   */
  inline?: Buffer;
}

export const slotValues = (slots: RimSlot[], name: string): string[] =>
  slots.find((s) => s.name === name)?.values ?? [];

export const slotValue = (slots: RimSlot[], name: string): string | undefined => slotValues(slots, name)[0];
