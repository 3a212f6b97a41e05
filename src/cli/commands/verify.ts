import type { X509Certificate } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { certificatesFromPem } from '../../signature/keys.js';
import type { SignedDocument } from '../../signature/sign.js';
import { manifestReferences, referenceDigest, verifyDsgSignature, type SignatureProblem } from '../../signature/verify.js';
import { GATEWAY_OPTIONS, openClient, parseCommandArgs, printJson, resolveUserPath } from '../args.js';
import { CliError, EXIT, localFileError, usageError, type ExitCode } from '../exit.js';

export const VERIFY_USAGE = `usage: xdsgw verify SIGNATURE.xml [uniqueId=]DOCUMENT... [--trust DIR] [--at now|signing-time] [--json]
       xdsgw verify --document UNIQUEID [--url URL] [--json]
Offline: checks an IHE DSG detached signature against the documents (a DOCUMENT is matched to its Manifest
reference by digest, or named by uniqueId=path). --trust: PEM CA certificates (default SIGNATURE_TRUST_DIR);
--at: when certificates must be valid (default signing-time).
Online (--document): asks the gateway to verify the signatures of a registered document.
Exit 0 valid, 1 not valid or not signed.`;

export interface OfflineVerifyArgs {
  signature: string;
  documents: { uniqueId?: string; file: string }[];
  trustDir?: string;
  at: 'now' | 'signing-time';
  json: boolean;
}

async function trustAnchors(dir: string | undefined): Promise<X509Certificate[]> {
  if (!dir) return [];
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => /\.(pem|crt|cer)$/i.test(n)).sort();
  } catch (err) {
    throw localFileError(`cannot read the trust directory ${dir}: ${(err as Error).message}`);
  }
  const out: X509Certificate[] = [];
  for (const n of names) out.push(...certificatesFromPem(await readFile(path.join(dir, n), 'utf8'), n));
  return out;
}

async function readInput(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    throw localFileError(`cannot read ${file}: ${(err as Error).message}`);
  }
}

/** `[uniqueId=]path` arguments: a uniqueId is an OID (optionally ^extension) or a urn. */
export function documentArgs(args: string[]): OfflineVerifyArgs['documents'] {
  return args.map((d) => {
    const m = /^([0-9.]+(?:\^[^=]+)?|urn:[^=]+)=(.+)$/.exec(d);
    return m ? { uniqueId: m[1]!.replace(/^urn:oid:/, ''), file: m[2]! } : { file: d };
  });
}

/** Verifies a DSG signature file against documents and prints the report; 0 valid, 1 not. */
export async function verifyOffline(args: OfflineVerifyArgs): Promise<ExitCode> {
  const xml = await readInput(args.signature);
  const references = manifestReferences(xml);
  const documents: SignedDocument[] = [];
  const unmatched: SignatureProblem[] = [];
  for (const d of args.documents) {
    const bytes = await readInput(d.file);
    if (d.uniqueId) {
      documents.push({ uniqueId: d.uniqueId, bytes });
      continue;
    }
    const ref = references.find((r) => referenceDigest(r.algorithm, bytes) === r.digest);
    if (ref) documents.push({ uniqueId: ref.uri.replace(/^urn:oid:/, ''), bytes });
    else unmatched.push({ code: 'document-digest', message: `${d.file} matches no Manifest reference: it is not signed, or it was changed` });
  }
  const report = await verifyDsgSignature(xml, { documents, trustAnchors: await trustAnchors(args.trustDir), validityAt: args.at, partial: true });
  report.problems.push(...unmatched);
  report.valid = report.problems.length === 0;
  if (args.json) printJson(report);
  else {
    console.log(`${args.signature}: ${report.valid ? 'VALID' : 'NOT VALID'}`);
    if (report.signer) console.log(`  signed by ${report.signer.subject} (issuer ${report.signer.issuer}, serial ${report.signer.serialNumber})`);
    if (report.signingTime) console.log(`  at ${report.signingTime}`);
    if (report.submissionSetUniqueId) console.log(`  submission set ${report.submissionSetUniqueId}`);
    for (const d of documents) console.log(`  document ${d.uniqueId}`);
    for (const p of report.problems) console.log(`  problem ${p.code}: ${p.message}`);
    if (!args.trustDir) console.log('  (no --trust directory nor SIGNATURE_TRUST_DIR: the certificate cannot be trusted)');
  }
  return report.valid ? EXIT.ok : EXIT.refused;
}

interface SignatureView {
  signatureUniqueId: string;
  valid: boolean;
  reason?: string;
  signer?: { subject: string; issuer: string; serialNumber: string };
  signingTime?: string;
}

/** Asks the gateway (GET /api/documents/{uniqueId}/signature) whether a registered document is signed and its signatures verify. */
async function verifyOnline(uniqueId: string, values: { url?: string; timeout?: string; assertion?: string; json?: boolean }): Promise<ExitCode> {
  const client = await openClient(values);
  try {
    const { status, body } = await client.json('GET', `/api/documents/${encodeURIComponent(uniqueId)}/signature`);
    if (status === 404) {
      if (values.json) printJson(body);
      else console.log(`${uniqueId}: no such document in the registry`);
      return EXIT.refused;
    }
    if (status !== 200 || typeof body.signed !== 'boolean') throw new CliError(`the signature endpoint answered ${status}: ${String(body.message ?? '')}`, status === 503 ? EXIT.refused : EXIT.unexpectedAnswer);
    const signatures = (body.signatures ?? []) as SignatureView[];
    if (values.json) printJson(body);
    else {
      console.log(`${uniqueId}: ${!body.signed ? 'NOT SIGNED' : body.valid ? 'VALID' : 'NOT VALID'}${body.reason ? ` (${String(body.reason)})` : ''}`);
      for (const s of signatures) {
        console.log(`  signature ${s.signatureUniqueId}: ${s.valid ? 'valid' : `not valid: ${s.reason ?? ''}`}`);
        if (s.signer) console.log(`    signed by ${s.signer.subject} (issuer ${s.signer.issuer}, serial ${s.signer.serialNumber})`);
        if (s.signingTime) console.log(`    at ${s.signingTime}`);
      }
    }
    return body.signed && body.valid ? EXIT.ok : EXIT.refused;
  } finally {
    await client.close();
  }
}

export async function verifyCommand(argv: string[], usage = VERIFY_USAGE): Promise<ExitCode> {
  const { values, positionals } = parseCommandArgs('verify', argv, {
    ...GATEWAY_OPTIONS,
    trust: { type: 'string' },
    at: { type: 'string' },
    document: { type: 'string' },
  });
  if (values.help) {
    console.log(usage);
    return EXIT.ok;
  }
  if (values.document !== undefined) {
    if (positionals.length) throw usageError(`verify: --document takes no SIGNATURE or DOCUMENT arguments\n${usage}`);
    return verifyOnline(values.document, values);
  }
  const at = values.at ?? 'signing-time';
  if (at !== 'now' && at !== 'signing-time') throw usageError(`--at must be now or signing-time\n${usage}`);
  const [signature, ...docs] = positionals;
  if (!signature || docs.length === 0) throw usageError(usage);
  const trustDir = values.trust ?? (process.env.SIGNATURE_TRUST_DIR || undefined);
  return verifyOffline({
    signature: resolveUserPath(signature),
    documents: documentArgs(docs).map((d) => ({ ...d, file: resolveUserPath(d.file) })),
    trustDir: trustDir && resolveUserPath(trustDir),
    at,
    json: values.json === true,
  });
}
