import { randomUUID } from 'node:crypto';
import type { Config } from '../config.js';
import type { GatewayContext } from '../context.js';
import { withRepositorySlots } from '../ebrim/repository-slots.js';
import { hashBytes } from '../content/store.js';
import { dtmNow } from '../registry/insert.js';
import type { Association, Code, DocumentEntry, RimClassification, RimObject, StoredDocument, SubmissionMetadata, SubmittedDocument } from '../ebrim/model.js';
import { ASSOCIATION_TYPE, DOCUMENT_ENTRY_SCHEME, OBJECT_TYPE, STATUS } from '../ebrim/uuids.js';
import { XdsError } from '../errors.js';
import { PURPOSE, SIGNATURE_ENTRY } from './dsg.js';
import type { Logger } from '../log.js';
import { signingIdentity, type SigningIdentity } from './keys.js';
import { createDsgSignature, type SignedDocument } from './sign.js';
import { trustAnchors } from './trust.js';
import { verifyDsgSignature } from './verify.js';

/** What the gateway's signature is made with: its key, and how its DocumentEntry names the signer and the repository. */
export interface GatewaySigner {
  identity: SigningIdentity;
  organization: string;
  repositoryUniqueId: string;
}

/** The gateway's signer as its configuration names it (the key loaded once per config object). */
export async function gatewaySignerOf(config: Config, logger?: Logger): Promise<GatewaySigner> {
  return { identity: await signingIdentity(config, logger), organization: config.signingOrganization, repositoryUniqueId: config.repositoryUniqueId };
}

export const isDsgEntry = (e: Pick<DocumentEntry, 'formatCode'>): boolean => e.formatCode?.code === SIGNATURE_ENTRY.formatCode.code;

/**
 * The first half of the DSG step of ITI-41, before anything is stored: the signature documents the submitter
 * sent are verified against the submitted bytes; any failure rejects the whole submission.
 */
export async function verifySubmittedSignatures(metadata: SubmissionMetadata, documents: SubmittedDocument[], ctx: GatewayContext): Promise<XdsError[]> {
  const bySubmittedId = new Map(documents.map((d) => [d.submittedId, d.bytes]));
  const withBytes = metadata.documentEntries
    .filter((e) => bySubmittedId.has(e.submittedId))
    .map((entry) => ({ entry, uniqueId: entry.uniqueId, bytes: bySubmittedId.get(entry.submittedId)! }));
  const incoming = withBytes.filter((d) => isDsgEntry(d.entry));
  return incoming.length ? verifyIncoming(incoming, withBytes, metadata, ctx) : [];
}

/**
 * The second half, at commit: the gateway's own detached signature of every document stored with the
 * submission, added as one more DocumentEntry (repository facts set, its bytes kept inline by the registry),
 * with a HasMember from the SubmissionSet and a `signs` association to it. Made from the documents' SHA-256
 * (their content-store keys), so it needs none of their bytes: the worker makes it while the commit's checks run.
 */
export function withGatewaySignature(
  metadata: SubmissionMetadata,
  stored: StoredDocument[],
  signer: GatewaySigner,
  signingTime = new Date(),
): { metadata: SubmissionMetadata; stored: StoredDocument[] } {
  const byEntry = new Map(stored.map((s) => [s.entryId, s]));
  const documents = metadata.documentEntries.flatMap((e) => {
    const facts = byEntry.get(e.id);
    return facts ? [{ uniqueId: e.uniqueId, sha256: facts.contentKey }] : [];
  });
  const bytes = createDsgSignature({ documents, submissionSetUniqueId: metadata.submissionSet.uniqueId, signingTime }, signer.identity);
  const { sha256, sha1, size } = hashBytes(bytes);
  const made = signatureEntry(metadata, signingTime, signer.organization, signer.repositoryUniqueId);
  const entry = withRepositorySlots(made, { sha1, size }, signer.repositoryUniqueId);
  // A few kB the gateway made: kept in the registry by the submission's own commit, not as a blob of the content store.
  const facts: StoredDocument = { entryId: entry.id, uniqueId: entry.uniqueId, contentKey: sha256, sha1, size, mimeType: entry.mimeType, inline: bytes };
  return {
    metadata: {
      ...metadata,
      documentEntries: [...metadata.documentEntries, entry],
      associations: [
        ...metadata.associations,
        association(ASSOCIATION_TYPE.hasMember, metadata.submissionSet.id, entry.id, 'Original'),
        association(ASSOCIATION_TYPE.signs, entry.id, metadata.submissionSet.id),
      ],
    },
    stored: [...stored, facts],
  };
}

/**
 * A signature `signs`-associated to documents of the submission must cover those (DSG detached signature);
 * otherwise it is a SubmissionSet signature and must cover every document but the signatures.
 */
async function verifyIncoming(
  signatures: { entry: DocumentEntry; uniqueId: string; bytes: Buffer }[],
  all: { entry: DocumentEntry; uniqueId: string; bytes: Buffer }[],
  metadata: SubmissionMetadata,
  ctx: GatewayContext,
): Promise<XdsError[]> {
  const anchors = await trustAnchors(ctx.config);
  const errors: XdsError[] = [];
  for (const sig of signatures) {
    const signed = new Set(metadata.associations.filter((a) => a.type === ASSOCIATION_TYPE.signs && a.sourceObject === sig.entry.id).map((a) => a.targetObject));
    const detached = all.some((d) => signed.has(d.entry.id));
    const required = (d: (typeof all)[number]): boolean => (detached ? signed.has(d.entry.id) : !isDsgEntry(d.entry));
    const documents: SignedDocument[] = all.filter((d) => d !== sig && required(d));
    const optionalDocuments: SignedDocument[] = all.filter((d) => d !== sig && !required(d));
    const report = await verifyDsgSignature(sig.bytes, {
      documents,
      optionalDocuments,
      submissionSetUniqueId: metadata.submissionSet.uniqueId,
      trustAnchors: anchors,
      validityAt: 'now',
    });
    for (const p of report.problems) {
      errors.push(new XdsError('XDSRepositoryMetadataError', `signature document ${sig.uniqueId} (${sig.entry.submittedId}) is not valid: ${p.code}: ${p.message}`, sig.entry.submittedId));
    }
  }
  return errors;
}

/** An OID nobody else can have assigned: 2.25 followed by a random UUID as an integer (ITU-T X.667). */
const uuidOid = (): string => `2.25.${BigInt(`0x${randomUUID().replace(/-/g, '')}`).toString(10)}`;

const uuidUrn = (): string => `urn:uuid:${randomUUID()}`;

/** The signature DocumentEntry as DSG §5.5.6.1 describes it; care-setting codes come from the signed documents. */
function signatureEntry(metadata: SubmissionMetadata, signingTime: Date, organization: string, repositoryUniqueId: string): DocumentEntry {
  const ss = metadata.submissionSet;
  const first = metadata.documentEntries.find((e) => !isDsgEntry(e));
  const id = uuidUrn();
  const uniqueId = uuidOid();
  const creationTime = dtmNow(signingTime);
  const institution = `${organization.replace(/[\^&~\\|]/g, ' ')}^^^^^^^^^${repositoryUniqueId}`;
  const codes: [string, Code | undefined][] = [
    [DOCUMENT_ENTRY_SCHEME.classCode, SIGNATURE_ENTRY.classCode],
    [DOCUMENT_ENTRY_SCHEME.typeCode, SIGNATURE_ENTRY.typeCode],
    [DOCUMENT_ENTRY_SCHEME.formatCode, SIGNATURE_ENTRY.formatCode],
    [DOCUMENT_ENTRY_SCHEME.confidentialityCode, SIGNATURE_ENTRY.confidentialityCode],
    [DOCUMENT_ENTRY_SCHEME.eventCodeList, { code: PURPOSE.code, codingScheme: PURPOSE.codingScheme, displayName: PURPOSE.displayName }],
    [DOCUMENT_ENTRY_SCHEME.healthcareFacilityTypeCode, first?.healthcareFacilityTypeCode],
    [DOCUMENT_ENTRY_SCHEME.practiceSettingCode, first?.practiceSettingCode],
  ];
  const classifications: RimClassification[] = [
    {
      id: uuidUrn(),
      classificationScheme: DOCUMENT_ENTRY_SCHEME.author,
      classifiedObject: id,
      nodeRepresentation: '',
      name: [],
      description: [],
      slots: [{ name: 'authorInstitution', values: [institution] }],
    },
    ...codes
      .filter((c): c is [string, Code] => c[1] !== undefined)
      .map(([scheme, code]) => ({
        id: uuidUrn(),
        classificationScheme: scheme,
        classifiedObject: id,
        nodeRepresentation: code.code,
        name: code.displayName ? [{ value: code.displayName }] : [],
        description: [],
        slots: [{ name: 'codingScheme', values: [code.codingScheme] }],
      })),
  ];
  const sourcePatientId = first?.sourcePatientId ?? ss.patientId;
  const rim: RimObject = {
    kind: 'ExtrinsicObject',
    id,
    lid: id,
    objectType: OBJECT_TYPE.stableDocumentEntry,
    status: STATUS.approved,
    mimeType: SIGNATURE_ENTRY.mimeType,
    name: [{ value: PURPOSE.displayName }],
    description: [],
    slots: [
      { name: 'creationTime', values: [creationTime] },
      { name: 'languageCode', values: [SIGNATURE_ENTRY.languageCode] },
      { name: 'sourcePatientId', values: [sourcePatientId] },
    ],
    classifications,
    externalIdentifiers: [
      { id: uuidUrn(), identificationScheme: DOCUMENT_ENTRY_SCHEME.patientId, registryObject: id, value: ss.patientId, name: [{ value: 'XDSDocumentEntry.patientId' }] },
      { id: uuidUrn(), identificationScheme: DOCUMENT_ENTRY_SCHEME.uniqueId, registryObject: id, value: uniqueId, name: [{ value: 'XDSDocumentEntry.uniqueId' }] },
    ],
  };
  const entry: DocumentEntry = {
    id,
    submittedId: id,
    lid: id,
    entryType: 'stable',
    uniqueId,
    patientId: ss.patientId,
    mimeType: SIGNATURE_ENTRY.mimeType,
    status: STATUS.approved,
    title: PURPOSE.displayName,
    classCode: SIGNATURE_ENTRY.classCode,
    typeCode: SIGNATURE_ENTRY.typeCode,
    formatCode: SIGNATURE_ENTRY.formatCode,
    confidentialityCodes: [SIGNATURE_ENTRY.confidentialityCode],
    eventCodes: [{ code: PURPOSE.code, codingScheme: PURPOSE.codingScheme, displayName: PURPOSE.displayName }],
    authors: [{ institutions: [institution], roles: [], specialties: [], telecommunications: [] }],
    creationTime,
    languageCode: SIGNATURE_ENTRY.languageCode,
    sourcePatientId,
    sourcePatientInfo: [],
    referenceIdList: [],
    rim,
  };
  if (first?.healthcareFacilityTypeCode) entry.healthcareFacilityTypeCode = first.healthcareFacilityTypeCode;
  if (first?.practiceSettingCode) entry.practiceSettingCode = first.practiceSettingCode;
  return entry;
}

function association(type: string, sourceObject: string, targetObject: string, submissionSetStatus?: string): Association {
  const id = uuidUrn();
  const rim: RimObject = {
    kind: 'Association',
    id,
    objectType: 'urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:Association',
    associationType: type,
    sourceObject,
    targetObject,
    name: [],
    description: [],
    slots: submissionSetStatus ? [{ name: 'SubmissionSetStatus', values: [submissionSetStatus] }] : [],
    classifications: [],
    externalIdentifiers: [],
  };
  const a: Association = { id, submittedId: id, type, sourceObject, targetObject, rim };
  if (submissionSetStatus) a.submissionSetStatus = submissionSetStatus;
  return a;
}
