import { XdsError, type XdsErrorCode } from '../errors.js';
import { parseCx } from './cx.js';
import { dtmStartsBeforeEnd, isDtm } from './dtm.js';
import type { RimClassification, RimObject, RimSlot, SubmissionMetadata } from './model.js';
import { ASSOCIATION_TYPE, DOCUMENT_ENTRY_SCHEME, FOLDER_SCHEME, SUBMISSION_SET_SCHEME } from './uuids.js';
import { isByteSize, isDocumentUniqueId, isLanguageCode, isMimeType, isOid, isSha1Hex, isUuidUrn } from './values.js';

export interface ValidationContext {
  /** Hash and size of each xdsb:Document, by the DocumentEntry id it was sent for; undefined for ITI-42. */
  documents: Map<string, { sha1: string; size: number }> | undefined;
  repositoryUniqueId: string;
  /** Assigning authority OID of the affinity domain's patient ids. */
  patientAuthority: string;
  /** Repositories the registry knows (ITI-42); unchecked when absent. */
  knownRepositoryIds?: string[];
}

interface Format {
  /** Completes "… is not <description>". */
  description: string;
  test: (v: string) => boolean;
}

const FORMAT = {
  dtm: { description: 'a UTC date-time YYYY[MM[DD[hh[mm[ss]]]]]', test: isDtm },
  cx: { description: 'a patient id of the form ID^^^&OID&ISO', test: (v: string) => parseCx(v) !== undefined },
  oid: { description: 'an OID of at most 64 characters', test: isOid },
  documentUniqueId: { description: 'an OID or OID^extension of at most 128 characters', test: isDocumentUniqueId },
  mimeType: { description: 'a MIME type', test: isMimeType },
  languageCode: { description: 'a language code (RFC 3066)', test: isLanguageCode },
  sha1: { description: 'a SHA-1 in 40 hexadecimal digits', test: isSha1Hex },
  size: { description: 'a size in bytes', test: isByteSize },
  text: { description: 'a non-empty value', test: (v: string) => v.trim().length > 0 },
  submissionSetStatus: { description: "'Original' or 'Reference'", test: (v: string) => v === 'Original' || v === 'Reference' },
  documentAvailability: {
    description: 'urn:ihe:iti:2010:DocumentAvailability:Online or :Offline',
    test: (v: string) => v === 'urn:ihe:iti:2010:DocumentAvailability:Online' || v === 'urn:ihe:iti:2010:DocumentAvailability:Offline',
  },
} satisfies Record<string, Format>;

/** `register`: required in ITI-42 only, where the registry gets no bytes to compute it from. */
type Presence = 'required' | 'optional' | 'register';

interface SlotRule {
  slot: string;
  presence: Presence;
  multiple?: true;
  format: Format;
  /** hash, size, repositoryUniqueId: in ITI-41 compared with the bytes instead (XDSRepositoryMetadataError). */
  repositoryAssigned?: true;
}

interface ClassificationRule {
  field: string;
  scheme: string;
  min: 0 | 1;
  multiple?: true;
  kind: 'code' | 'author';
}

interface ExternalIdentifierRule {
  field: string;
  scheme: string;
  format: Format;
}

interface ObjectRules {
  label: string;
  slots: SlotRule[];
  classifications: ClassificationRule[];
  externalIdentifiers: ExternalIdentifierRule[];
  mimeTypeRequired?: true;
  titleRequired?: true;
}

/** ITI TF-3 Table 4.3.1-3 (XDS Document Source column) for a stable DocumentEntry. */
const DOCUMENT_ENTRY_RULES: ObjectRules = {
  label: 'DocumentEntry',
  slots: [
    { slot: 'creationTime', presence: 'required', format: FORMAT.dtm },
    { slot: 'languageCode', presence: 'required', format: FORMAT.languageCode },
    { slot: 'serviceStartTime', presence: 'optional', format: FORMAT.dtm },
    { slot: 'serviceStopTime', presence: 'optional', format: FORMAT.dtm },
    { slot: 'sourcePatientId', presence: 'optional', format: FORMAT.cx },
    { slot: 'sourcePatientInfo', presence: 'optional', multiple: true, format: FORMAT.text },
    { slot: 'legalAuthenticator', presence: 'optional', format: FORMAT.text },
    { slot: 'referenceIdList', presence: 'optional', multiple: true, format: FORMAT.text },
    { slot: 'documentAvailability', presence: 'optional', format: FORMAT.documentAvailability },
    { slot: 'hash', presence: 'register', format: FORMAT.sha1, repositoryAssigned: true },
    { slot: 'size', presence: 'register', format: FORMAT.size, repositoryAssigned: true },
    { slot: 'repositoryUniqueId', presence: 'register', format: FORMAT.oid, repositoryAssigned: true },
  ],
  classifications: [
    { field: 'classCode', scheme: DOCUMENT_ENTRY_SCHEME.classCode, min: 1, kind: 'code' },
    { field: 'typeCode', scheme: DOCUMENT_ENTRY_SCHEME.typeCode, min: 1, kind: 'code' },
    { field: 'formatCode', scheme: DOCUMENT_ENTRY_SCHEME.formatCode, min: 1, kind: 'code' },
    { field: 'confidentialityCode', scheme: DOCUMENT_ENTRY_SCHEME.confidentialityCode, min: 1, multiple: true, kind: 'code' },
    { field: 'healthcareFacilityTypeCode', scheme: DOCUMENT_ENTRY_SCHEME.healthcareFacilityTypeCode, min: 1, kind: 'code' },
    { field: 'practiceSettingCode', scheme: DOCUMENT_ENTRY_SCHEME.practiceSettingCode, min: 1, kind: 'code' },
    { field: 'eventCodeList', scheme: DOCUMENT_ENTRY_SCHEME.eventCodeList, min: 0, multiple: true, kind: 'code' },
    { field: 'author', scheme: DOCUMENT_ENTRY_SCHEME.author, min: 0, multiple: true, kind: 'author' },
  ],
  externalIdentifiers: [
    { field: 'uniqueId', scheme: DOCUMENT_ENTRY_SCHEME.uniqueId, format: FORMAT.documentUniqueId },
    { field: 'patientId', scheme: DOCUMENT_ENTRY_SCHEME.patientId, format: FORMAT.cx },
  ],
  mimeTypeRequired: true,
};

/** On-Demand entries have no bytes yet, so no creationTime, hash or size (ITI TF-3 §4.1.4). */
const ON_DEMAND_ENTRY_RULES: ObjectRules = {
  ...DOCUMENT_ENTRY_RULES,
  slots: DOCUMENT_ENTRY_RULES.slots.map((r) =>
    r.slot === 'creationTime' || r.slot === 'hash' || r.slot === 'size' ? { ...r, presence: 'optional' } : r,
  ),
};

const SUBMISSION_SET_RULES: ObjectRules = {
  label: 'SubmissionSet',
  slots: [
    { slot: 'submissionTime', presence: 'required', format: FORMAT.dtm },
    { slot: 'intendedRecipient', presence: 'optional', multiple: true, format: FORMAT.text },
  ],
  classifications: [
    { field: 'contentTypeCode', scheme: SUBMISSION_SET_SCHEME.contentTypeCode, min: 1, kind: 'code' },
    { field: 'author', scheme: SUBMISSION_SET_SCHEME.author, min: 0, multiple: true, kind: 'author' },
  ],
  externalIdentifiers: [
    { field: 'uniqueId', scheme: SUBMISSION_SET_SCHEME.uniqueId, format: FORMAT.oid },
    { field: 'sourceId', scheme: SUBMISSION_SET_SCHEME.sourceId, format: FORMAT.oid },
    { field: 'patientId', scheme: SUBMISSION_SET_SCHEME.patientId, format: FORMAT.cx },
  ],
};

const FOLDER_RULES: ObjectRules = {
  label: 'Folder',
  slots: [{ slot: 'lastUpdateTime', presence: 'optional', format: FORMAT.dtm }],
  classifications: [{ field: 'codeList', scheme: FOLDER_SCHEME.codeList, min: 1, multiple: true, kind: 'code' }],
  externalIdentifiers: [
    { field: 'uniqueId', scheme: FOLDER_SCHEME.uniqueId, format: FORMAT.oid },
    { field: 'patientId', scheme: FOLDER_SCHEME.patientId, format: FORMAT.cx },
  ],
  titleRequired: true,
};

const ASSOCIATION_RULES: ObjectRules = {
  label: 'Association',
  slots: [{ slot: 'SubmissionSetStatus', presence: 'optional', format: FORMAT.submissionSetStatus }],
  classifications: [],
  externalIdentifiers: [],
};

const AUTHOR_SLOTS: { slot: string; multiple: boolean }[] = [
  { slot: 'authorPerson', multiple: false },
  { slot: 'authorInstitution', multiple: true },
  { slot: 'authorRole', multiple: true },
  { slot: 'authorSpecialty', multiple: true },
  { slot: 'authorTelecommunication', multiple: true },
];

const KNOWN_ASSOCIATION_TYPES = new Set<string>(Object.values(ASSOCIATION_TYPE));

/** Associations whose source is a new DocumentEntry and whose target is one already registered. */
const DOCUMENT_RELATIONSHIPS = new Set<string>([ASSOCIATION_TYPE.replace, ASSOCIATION_TYPE.append, ASSOCIATION_TYPE.transform, ASSOCIATION_TYPE.transformAndReplace]);

interface Run {
  ctx: ValidationContext;
  /** ITI-41: the bytes came with the metadata. */
  withDocuments: boolean;
  errors: XdsError[];
}

const SUBMISSION_CHECKS: ((m: SubmissionMetadata, run: Run) => void)[] = [
  checkObjectTables,
  checkOnDemandEntries,
  checkServiceTimes,
  checkPatientIds,
  checkUniqueIds,
  checkEntryUuids,
  checkDocumentBytes,
  checkRepositoryIds,
  checkAssociations,
];

/**
 * Checks the metadata of one ITI-41 (ctx.documents given) or ITI-42 submission against ITI TF-3
 * §4.1–4.3 and returns every failure, never only the first.
 */
export function validateSubmission(metadata: SubmissionMetadata, ctx: ValidationContext): XdsError[] {
  const run: Run = { ctx, withDocuments: ctx.documents !== undefined, errors: [] };
  for (const check of SUBMISSION_CHECKS) check(metadata, run);
  return run.errors;
}

function fail(run: Run, code: XdsErrorCode, message: string, location: string): void {
  run.errors.push(new XdsError(code, message, location));
}

function checkObjectTables(m: SubmissionMetadata, run: Run): void {
  checkObject(m.submissionSet.rim, SUBMISSION_SET_RULES, m.submissionSet.submittedId, run);
  for (const e of m.documentEntries) checkObject(e.rim, e.entryType === 'stable' ? DOCUMENT_ENTRY_RULES : ON_DEMAND_ENTRY_RULES, e.submittedId, run);
  for (const f of m.folders) checkObject(f.rim, FOLDER_RULES, f.submittedId, run);
  for (const a of m.associations) checkObject(a.rim, ASSOCIATION_RULES, a.submittedId, run);
}

/** The one loop that runs an object's table of slot, classification and external identifier rules. */
function checkObject(rim: RimObject, rules: ObjectRules, location: string, run: Run): void {
  const what = `${rules.label} '${location}'`;
  const error = (message: string): void => fail(run, 'XDSRegistryMetadataError', `${what}: ${message}`, location);

  const slots = new Map<string, RimSlot>();
  for (const s of rim.slots) {
    if (slots.has(s.name)) error(`slot ${s.name} appears more than once`);
    else slots.set(s.name, s);
  }
  for (const rule of rules.slots) {
    const slot = slots.get(rule.slot);
    const required = rule.presence === 'required' || (rule.presence === 'register' && !run.withDocuments);
    if (!slot) {
      if (required) error(`required slot ${rule.slot} is missing`);
      continue;
    }
    if (slot.values.length === 0) error(`slot ${rule.slot} has no value`);
    if (!rule.multiple && slot.values.length > 1) error(`slot ${rule.slot} takes one value, found ${slot.values.length}`);
    if (rule.repositoryAssigned && run.withDocuments) continue;
    for (const v of slot.values) if (!rule.format.test(v)) error(`slot ${rule.slot} value '${v}' is not ${rule.format.description}`);
  }

  const byScheme = new Map<string, RimClassification[]>();
  for (const c of rim.classifications) {
    if (c.classifiedObject !== rim.id) error(`a classification ${c.classificationScheme ?? c.classificationNode ?? ''} of it classifies '${c.classifiedObject}' instead`);
    if (c.classificationScheme === undefined) continue;
    const list = byScheme.get(c.classificationScheme);
    if (list) list.push(c);
    else byScheme.set(c.classificationScheme, [c]);
  }
  for (const rule of rules.classifications) {
    const list = byScheme.get(rule.scheme) ?? [];
    if (list.length < rule.min) error(`${rule.field} is missing (classification ${rule.scheme})`);
    if (!rule.multiple && list.length > 1) error(`${rule.field} takes one classification, found ${list.length}`);
    list.forEach((c, i) => {
      const which = list.length > 1 ? `${rule.field} classification #${i + 1}` : `${rule.field} classification`;
      if (rule.kind === 'code') checkCode(c, which, error);
      else checkAuthor(c, which, error);
    });
  }

  for (const rule of rules.externalIdentifiers) {
    const found = rim.externalIdentifiers.filter((e) => e.identificationScheme === rule.scheme);
    if (found.length === 0) {
      error(`${rule.field} is missing (external identifier ${rule.scheme})`);
      continue;
    }
    if (found.length > 1) error(`${rule.field} takes one external identifier, found ${found.length}`);
    for (const e of found) {
      if (e.registryObject !== rim.id) error(`external identifier ${rule.field} points at '${e.registryObject}' instead of this object`);
      if (!rule.format.test(e.value)) error(`${rule.field} '${e.value}' is not ${rule.format.description}`);
    }
  }

  if (rules.mimeTypeRequired) {
    if (!rim.mimeType) error('mimeType is missing');
    else if (!isMimeType(rim.mimeType)) error(`mimeType '${rim.mimeType}' is not ${FORMAT.mimeType.description}`);
  }
  if (rules.titleRequired && !rim.name[0]?.value) error('title (rim:Name) is missing');
}

/** `which` names the classification for the submitter: its ids were symbolic and are replaced by now. */
function checkCode(c: RimClassification, which: string, error: (message: string) => void): void {
  if (!c.nodeRepresentation) error(`${which} has no nodeRepresentation (the code)`);
  const named = c.nodeRepresentation ? `${which} '${c.nodeRepresentation}'` : which;
  const schemes = c.slots.filter((s) => s.name === 'codingScheme');
  if (schemes.length !== 1) error(`${named} must have exactly one codingScheme slot, found ${schemes.length}`);
  else if (schemes[0]!.values.length !== 1 || !schemes[0]!.values[0]) error(`${named} codingScheme slot must hold exactly one non-empty value`);
}

function checkAuthor(c: RimClassification, which: string, error: (message: string) => void): void {
  const slots = new Map(c.slots.map((s) => [s.name, s.values]));
  for (const { slot, multiple } of AUTHOR_SLOTS) {
    const values = slots.get(slot);
    if (!values) continue;
    if (!multiple && values.length > 1) error(`${which} slot ${slot} takes one value, found ${values.length}`);
    if (values.some((v) => !v.trim())) error(`${which} slot ${slot} has an empty value`);
  }
  const identified = ['authorPerson', 'authorInstitution', 'authorTelecommunication'].some((s) => (slots.get(s)?.length ?? 0) > 0);
  if (!identified) error(`${which} has none of authorPerson, authorInstitution, authorTelecommunication`);
}

function checkOnDemandEntries(m: SubmissionMetadata, run: Run): void {
  if (!run.withDocuments) return;
  for (const e of m.documentEntries) {
    if (e.entryType === 'on-demand') {
      fail(run, 'XDSRegistryMetadataError', `DocumentEntry '${e.submittedId}': On-Demand DocumentEntries are not accepted by Provide and Register (ITI-41)`, e.submittedId);
    }
  }
}

function checkServiceTimes(m: SubmissionMetadata, run: Run): void {
  for (const e of m.documentEntries) {
    const { serviceStartTime: start, serviceStopTime: stop } = e;
    if (start && stop && isDtm(start) && isDtm(stop) && !dtmStartsBeforeEnd(start, stop)) {
      fail(run, 'XDSRegistryMetadataError', `DocumentEntry '${e.submittedId}': serviceStartTime ${start} is after serviceStopTime ${stop}`, e.submittedId);
    }
  }
}

/** The SubmissionSet's patient must be of this affinity domain; every entry and folder must name the same patient. */
function checkPatientIds(m: SubmissionMetadata, run: Run): void {
  const ss = m.submissionSet;
  const cx = parseCx(ss.patientId);
  if (cx && cx.authority !== run.ctx.patientAuthority) {
    fail(
      run,
      'XDSUnknownPatientId',
      `SubmissionSet '${ss.submittedId}': patientId ${ss.patientId} has assigning authority ${cx.authority}, which is not of this affinity domain (${run.ctx.patientAuthority})`,
      ss.submittedId,
    );
  }
  // A malformed SubmissionSet patientId is already reported; comparing against it would only add noise.
  if (!cx) return;
  const others = [
    ...m.documentEntries.map((e) => ({ label: 'DocumentEntry', o: e })),
    ...m.folders.map((f) => ({ label: 'Folder', o: f })),
  ];
  for (const { label, o } of others) {
    if (o.patientId && o.patientId !== ss.patientId) {
      fail(run, 'XDSPatientIdDoesNotMatch', `${label} '${o.submittedId}': patientId ${o.patientId} differs from the SubmissionSet's ${ss.patientId}`, o.submittedId);
    }
  }
}

function checkUniqueIds(m: SubmissionMetadata, run: Run): void {
  const code: XdsErrorCode = run.withDocuments ? 'XDSRepositoryDuplicateUniqueIdInMessage' : 'XDSRegistryDuplicateUniqueIdInMessage';
  const seen = new Map<string, string>();
  const objects = [
    { label: 'SubmissionSet', o: m.submissionSet },
    ...m.documentEntries.map((o) => ({ label: 'DocumentEntry', o })),
    ...m.folders.map((o) => ({ label: 'Folder', o })),
  ];
  for (const { label, o } of objects) {
    if (!o.uniqueId) continue;
    const first = seen.get(o.uniqueId);
    if (first === undefined) seen.set(o.uniqueId, o.submittedId);
    else fail(run, code, `${label} '${o.submittedId}': uniqueId ${o.uniqueId} is also used by '${first}' in this message`, o.submittedId);
  }
}

function checkEntryUuids(m: SubmissionMetadata, run: Run): void {
  const seen = new Set<string>();
  for (const o of [m.submissionSet, ...m.documentEntries, ...m.folders, ...m.associations]) {
    if (seen.has(o.id)) fail(run, 'XDSRegistryMetadataError', `id '${o.submittedId}' is used by more than one object of the submission`, o.submittedId);
    seen.add(o.id);
  }
}

/** ITI-41: one xdsb:Document per DocumentEntry, and the hash/size/repositoryUniqueId sent agree with the bytes. */
function checkDocumentBytes(m: SubmissionMetadata, run: Run): void {
  const documents = run.ctx.documents;
  if (!documents) return;
  const entryIds = new Set<string>();
  for (const e of m.documentEntries) {
    entryIds.add(e.submittedId);
    if (e.entryType === 'on-demand') continue;
    const doc = documents.get(e.submittedId);
    if (!doc) {
      fail(run, 'XDSMissingDocument', `DocumentEntry '${e.submittedId}' has no xdsb:Document`, e.submittedId);
      continue;
    }
    const where = `DocumentEntry '${e.submittedId}'`;
    if (e.hash !== undefined && e.hash.toLowerCase() !== doc.sha1.toLowerCase()) {
      fail(run, 'XDSRepositoryMetadataError', `${where}: hash slot ${e.hash} does not match the SHA-1 of the document bytes (${doc.sha1})`, e.submittedId);
    }
    if (e.size !== undefined && e.size !== String(doc.size)) {
      fail(run, 'XDSRepositoryMetadataError', `${where}: size slot ${e.size} does not match the document length (${doc.size} bytes)`, e.submittedId);
    }
    if (e.repositoryUniqueId !== undefined && e.repositoryUniqueId !== run.ctx.repositoryUniqueId) {
      fail(run, 'XDSRepositoryMetadataError', `${where}: repositoryUniqueId slot ${e.repositoryUniqueId} is not this repository (${run.ctx.repositoryUniqueId})`, e.submittedId);
    }
  }
  for (const id of documents.keys()) {
    if (!entryIds.has(id)) fail(run, 'XDSMissingDocumentMetadata', `xdsb:Document '${id}' has no DocumentEntry`, id);
  }
}

/** ITI-42: the repository named by each entry must be one the registry knows. */
function checkRepositoryIds(m: SubmissionMetadata, run: Run): void {
  const known = run.ctx.knownRepositoryIds;
  if (run.withDocuments || !known) return;
  const knownSet = new Set(known);
  for (const e of m.documentEntries) {
    if (e.repositoryUniqueId && isOid(e.repositoryUniqueId) && !knownSet.has(e.repositoryUniqueId)) {
      fail(run, 'XDSUnknownRepositoryId', `DocumentEntry '${e.submittedId}': repositoryUniqueId ${e.repositoryUniqueId} is not a repository known to this registry`, e.submittedId);
    }
  }
}

function checkAssociations(m: SubmissionMetadata, run: Run): void {
  const ss = m.submissionSet;
  const entryIds = new Set(m.documentEntries.map((e) => e.id));
  const submittedIds = new Set<string>([ss.id, ...entryIds, ...m.folders.map((f) => f.id), ...m.associations.map((a) => a.id)]);
  const members = new Set<string>();
  for (const a of m.associations) {
    const what = `Association '${a.submittedId}'`;
    const error = (message: string): void => fail(run, 'XDSRegistryMetadataError', `${what}: ${message}`, a.submittedId);
    for (const end of ['sourceObject', 'targetObject'] as const) {
      const ref = a[end];
      if (!isUuidUrn(ref)) error(`${end} '${ref}' is neither an object of this submission nor the urn:uuid of a registry object`);
    }
    if (!KNOWN_ASSOCIATION_TYPES.has(a.type)) {
      error(`associationType '${a.type}' is not an XDS association type`);
      continue;
    }
    if (a.type === ASSOCIATION_TYPE.hasMember) {
      if (a.sourceObject !== ss.id) continue;
      members.add(a.targetObject);
      if (entryIds.has(a.targetObject) && a.submissionSetStatus === undefined) {
        error('HasMember from the SubmissionSet to a DocumentEntry needs a SubmissionSetStatus slot (Original or Reference)');
      }
    } else if (DOCUMENT_RELATIONSHIPS.has(a.type) || a.type === ASSOCIATION_TYPE.signs) {
      if (!entryIds.has(a.sourceObject)) error(`the source of a ${a.type} association must be a DocumentEntry of this submission`);
      if (DOCUMENT_RELATIONSHIPS.has(a.type) && submittedIds.has(a.targetObject)) {
        error(`the target of a ${a.type} association must be a DocumentEntry already in the registry, not an object of this submission`);
      }
    }
  }
  for (const [label, list] of [['DocumentEntry', m.documentEntries], ['Folder', m.folders]] as const) {
    for (const o of list) {
      if (!members.has(o.id)) {
        fail(run, 'XDSRegistryMetadataError', `${label} '${o.submittedId}' is not a member of the SubmissionSet (no HasMember association from it)`, o.submittedId);
      }
    }
  }
}
