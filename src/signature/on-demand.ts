import type { GatewayContext } from '../context.js';
import { ASSOCIATION_TYPE } from '../ebrim/uuids.js';
import { SIGNATURE_ENTRY } from './dsg.js';
import type { SignedDocument } from './sign.js';
import { trustAnchors } from './trust.js';
import { verifyDsgSignature, type SignatureProblem, type SignerView } from './verify.js';

export interface SignatureView {
  signatureUniqueId: string;
  valid: boolean;
  /** The first problem, when not valid. */
  reason?: string;
  problems: SignatureProblem[];
  signer?: SignerView;
  signingTime?: string;
  submissionSetUniqueId?: string;
}

export interface DocumentSignatures {
  uniqueId: string;
  signed: boolean;
  /** Every signature covering the document verifies (false when unsigned). */
  valid: boolean;
  reason?: string;
  signatures: SignatureView[];
}

interface EntryRow {
  entry_uuid: string;
  unique_id: string;
  content_key: string | null;
  format_code: string | null;
  submission_set_uuid: string;
  submission_set_unique_id: string;
}

const ENTRY_SQL = `select d.entry_uuid, d.unique_id, d.content_key, d.format_code, d.submission_set_uuid, s.unique_id as submission_set_unique_id
  from document_entries d join submission_sets s on s.entry_uuid = d.submission_set_uuid
  where d.unique_id = $1 order by d.version desc limit 1`;

// Signature documents that sign the document or its submission set, and those submitted in the same set (for a
// SubmissionSet signature the signs association is optional, DSG §5.5.6.4).
const SIGNATURES_SQL = `select d.entry_uuid, d.unique_id, d.content_key, d.format_code, d.submission_set_uuid, s.unique_id as submission_set_unique_id
  from document_entries d join submission_sets s on s.entry_uuid = d.submission_set_uuid
  where d.format_code = $3 and (d.submission_set_uuid = $4 or d.entry_uuid in (
    select a.source_uuid from associations a where a.association_type = $1 and a.target_uuid = any($2::text[])))
  order by d.created_at, d.unique_id`;

const MEMBERS_SQL = `select d.entry_uuid, d.unique_id, d.content_key, d.format_code, d.submission_set_uuid, s.unique_id as submission_set_unique_id
  from document_entries d join submission_sets s on s.entry_uuid = d.submission_set_uuid
  where d.submission_set_uuid = $1`;

/**
 * Verifies, on demand, the DSG signatures that cover a registered document: the signature documents of
 * its submission set or `signs`-associated to it, each checked against the current stored bytes (the
 * document's own reference must be there and match), certificates at the signing time. A signature
 * document asked for itself is verified against every document of its submission set. Undefined when
 * the registry has no such document.
 */
export async function documentSignatures(uniqueId: string, ctx: GatewayContext): Promise<DocumentSignatures | undefined> {
  const db = ctx.registry.db;
  const [entry] = await db.query<EntryRow>(ENTRY_SQL, [uniqueId]);
  if (!entry) return undefined;
  const isSignature = entry.format_code === SIGNATURE_ENTRY.formatCode.code;
  const signatureRows = isSignature
    ? [entry]
    : await db.query<EntryRow>(SIGNATURES_SQL, [ASSOCIATION_TYPE.signs, [entry.submission_set_uuid, entry.entry_uuid], SIGNATURE_ENTRY.formatCode.code, entry.submission_set_uuid]);

  const anchors = await trustAnchors(ctx.config);
  const signatures: SignatureView[] = [];
  for (const sig of signatureRows) {
    const members = await db.query<EntryRow>(MEMBERS_SQL, [sig.submission_set_uuid]);
    const documents: SignedDocument[] = [];
    const optionalDocuments: SignedDocument[] = [];
    for (const m of members) {
      if (m.entry_uuid === sig.entry_uuid || !m.content_key) continue;
      const doc = { uniqueId: m.unique_id, bytes: await ctx.content.get(m.content_key) };
      // Asked about a document: that one must be covered, others only match if referenced. Asked about a
      // signature: every document of its submission set must be covered.
      const required = isSignature ? m.format_code !== SIGNATURE_ENTRY.formatCode.code : m.entry_uuid === entry.entry_uuid;
      (required ? documents : optionalDocuments).push(doc);
    }
    const view: SignatureView = { signatureUniqueId: sig.unique_id, valid: false, problems: [] };
    if (!sig.content_key) {
      view.problems.push({ code: 'malformed', message: 'the signature document has no bytes in this repository' });
    } else {
      const report = await verifyDsgSignature(await ctx.content.get(sig.content_key), {
        documents,
        optionalDocuments,
        submissionSetUniqueId: sig.submission_set_unique_id,
        trustAnchors: anchors,
        validityAt: 'signing-time',
      });
      Object.assign(view, {
        valid: report.valid,
        problems: report.problems,
        signer: report.signer,
        signingTime: report.signingTime,
        submissionSetUniqueId: report.submissionSetUniqueId,
      });
    }
    if (!view.valid) view.reason = view.problems[0]?.message;
    signatures.push(view);
  }
  const valid = signatures.length > 0 && signatures.every((s) => s.valid);
  const result: DocumentSignatures = { uniqueId, signed: signatures.length > 0, valid, signatures };
  if (!valid) result.reason = signatures.length ? signatures.find((s) => !s.valid)!.reason : 'no DSG signature covers this document';
  return result;
}
