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

/**
 * Verifies, on demand, the DSG signatures that cover a registered document: the signature documents of
 * its submission set or `signs`-associated to it, each checked against the current stored bytes (the
 * document's own reference must be there and match), certificates at the signing time. A signature
 * document asked for itself is verified against every document of its submission set. Undefined when
 * the registry has no such document.
 */
export async function documentSignatures(uniqueId: string, ctx: GatewayContext): Promise<DocumentSignatures | undefined> {
  const { versions, signatures: covering } = await ctx.registry.signatureCoverage(uniqueId, ASSOCIATION_TYPE.signs, SIGNATURE_ENTRY.formatCode.code);
  const entry = versions[0];
  if (!entry) return undefined;
  const isSignature = entry.formatCode === SIGNATURE_ENTRY.formatCode.code;
  const signatureRows = isSignature ? [entry] : covering;

  const anchors = await trustAnchors(ctx.config);
  const signatures: SignatureView[] = [];
  for (const sig of signatureRows) {
    const members = await ctx.registry.submissionSetDocuments(sig.submissionSetUuid);
    const documents: SignedDocument[] = [];
    const optionalDocuments: SignedDocument[] = [];
    for (const m of members) {
      if (m.entryUuid === sig.entryUuid || !m.contentKey) continue;
      const doc = { uniqueId: m.uniqueId, bytes: await ctx.content.bytesOf({ contentKey: m.contentKey, inline: m.inline }) };
      // Asked about a document: that one must be covered, others only match if referenced. Asked about a
      // signature: every document of its submission set must be covered.
      const required = isSignature ? m.formatCode !== SIGNATURE_ENTRY.formatCode.code : m.uniqueId === uniqueId;
      (required ? documents : optionalDocuments).push(doc);
    }
    const view: SignatureView = { signatureUniqueId: sig.uniqueId, valid: false, problems: [] };
    if (!sig.contentKey) {
      view.problems.push({ code: 'malformed', message: 'the signature document has no bytes in this repository' });
    } else {
      const report = await verifyDsgSignature(await ctx.content.bytesOf({ contentKey: sig.contentKey, inline: sig.inline }), {
        documents,
        optionalDocuments,
        submissionSetUniqueId: sig.submissionSetUniqueId,
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
