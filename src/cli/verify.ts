/**
 * `npm run verify -- SIGNATURE.xml DOCUMENT...`: verifies an IHE DSG detached signature offline.
 * A DOCUMENT is `path` (matched to the Manifest reference with its digest) or `uniqueId=path`.
 * Options: `--trust DIR` (PEM CA certificates; default SIGNATURE_TRUST_DIR), `--at now|signing-time`
 * (when certificates must be valid; default signing-time), `--json`. Exit 0 valid, 1 not valid, 2 usage.
 */
import type { X509Certificate } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { certificatesFromPem } from '../signature/keys.js';
import type { SignedDocument } from '../signature/sign.js';
import { manifestReferences, referenceDigest, verifyDsgSignature, type SignatureProblem } from '../signature/verify.js';

interface Args {
  signature: string;
  documents: { uniqueId?: string; file: string }[];
  trustDir?: string;
  at: 'now' | 'signing-time';
  json: boolean;
}

const USAGE = 'usage: npm run verify -- SIGNATURE.xml [uniqueId=]DOCUMENT... [--trust DIR] [--at now|signing-time] [--json]';

function parseArgs(argv: string[]): Args | string {
  const positional: string[] = [];
  let trustDir = process.env.SIGNATURE_TRUST_DIR || undefined;
  let at: Args['at'] = 'signing-time';
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--json') json = true;
    else if (a === '--trust') trustDir = argv[++i];
    else if (a === '--at') {
      const v = argv[++i];
      if (v !== 'now' && v !== 'signing-time') return `--at must be now or signing-time\n${USAGE}`;
      at = v;
    } else if (a.startsWith('--')) return `unknown option ${a}\n${USAGE}`;
    else positional.push(a);
  }
  const [signature, ...docs] = positional;
  if (!signature || !docs.length) return USAGE;
  const documents = docs.map((d) => {
    const m = /^([0-9.]+|urn:[^=]+)=(.+)$/.exec(d);
    return m ? { uniqueId: m[1]!.replace(/^urn:oid:/, ''), file: m[2]! } : { file: d };
  });
  return { signature, documents, trustDir, at, json };
}

async function trustAnchors(dir: string | undefined): Promise<X509Certificate[]> {
  if (!dir) return [];
  const names = (await readdir(dir)).filter((n) => /\.(pem|crt|cer)$/i.test(n)).sort();
  const out: X509Certificate[] = [];
  for (const n of names) out.push(...certificatesFromPem(await readFile(path.join(dir, n), 'utf8'), n));
  return out;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  if (typeof args === 'string') {
    console.error(args);
    return 2;
  }
  const xml = await readFile(args.signature);
  const references = manifestReferences(xml);
  const documents: SignedDocument[] = [];
  const unmatched: SignatureProblem[] = [];
  for (const d of args.documents) {
    const bytes = await readFile(d.file);
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
  if (args.json) console.log(JSON.stringify(report, null, 2));
  else {
    console.log(`${args.signature}: ${report.valid ? 'VALID' : 'NOT VALID'}`);
    if (report.signer) console.log(`  signed by ${report.signer.subject} (issuer ${report.signer.issuer}, serial ${report.signer.serialNumber})`);
    if (report.signingTime) console.log(`  at ${report.signingTime}`);
    if (report.submissionSetUniqueId) console.log(`  submission set ${report.submissionSetUniqueId}`);
    for (const d of documents) console.log(`  document ${d.uniqueId}`);
    for (const p of report.problems) console.log(`  problem ${p.code}: ${p.message}`);
    if (!args.trustDir) console.log('  (no --trust directory nor SIGNATURE_TRUST_DIR: the certificate cannot be trusted)');
  }
  return report.valid ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(`verify: ${err.message}`);
    process.exit(2);
  },
);
