import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { buildIti41Request, cdaPatientId } from '../support/requests.js';
import { OWN_SAMPLES_DIR } from './helpers.js';

/** Already sent by samples/xds/iti41-request.xml. */
const COVERED = new Set(['cr-bio-45k.xml']);

/** Fixed submission set uniqueId and message id per sample, so the files are reproducible. */
const FIXED: Record<string, { submissionSetUniqueId: string; submissionTime: string; messageId: string }> = {
  'ldl-ses.xml': { submissionSetUniqueId: '1.2.250.1.999.9.2.2', submissionTime: '20240311163000', messageId: 'urn:uuid:5b7e2c1a-0d3f-4a8e-9c6b-1e2f3a4b5c02' },
  'dlu.xml': { submissionSetUniqueId: '1.2.250.1.999.9.2.3', submissionTime: '20240502093000', messageId: 'urn:uuid:5b7e2c1a-0d3f-4a8e-9c6b-1e2f3a4b5c03' },
  'cr-img.xml': { submissionSetUniqueId: '1.2.250.1.999.9.2.4', submissionTime: '20240918173000', messageId: 'urn:uuid:5b7e2c1a-0d3f-4a8e-9c6b-1e2f3a4b5c04' },
  'unstructured-pdf.xml': { submissionSetUniqueId: '1.2.250.1.999.9.2.5', submissionTime: '20241014114500', messageId: 'urn:uuid:5b7e2c1a-0d3f-4a8e-9c6b-1e2f3a4b5c05' },
  'vsm.xml': { submissionSetUniqueId: '1.2.250.1.999.9.2.6', submissionTime: '20250114104500', messageId: 'urn:uuid:5b7e2c1a-0d3f-4a8e-9c6b-1e2f3a4b5c06' },
  'vac.xml': { submissionSetUniqueId: '1.2.250.1.999.9.2.7', submissionTime: '20241021153000', messageId: 'urn:uuid:5b7e2c1a-0d3f-4a8e-9c6b-1e2f3a4b5c07' },
};

/**
 * samples/xds/iti41-<sample>.xml: one ITI-41 request (inline base64) per sample of samples/cda, its
 * metadata built from the CDA header. Regenerate with
 * `npx tsx -e "import('./test/cda/sample-requests.ts').then(m => m.writeCdaSampleRequests())"`.
 */
export function cdaSampleRequests(): Record<string, { patientId: string; body: Buffer }> {
  const out: Record<string, { patientId: string; body: Buffer }> = {};
  for (const name of readdirSync(OWN_SAMPLES_DIR).filter((f) => f.endsWith('.xml') && !COVERED.has(f)).sort()) {
    const fixed = FIXED[name];
    if (!fixed) throw new Error(`samples/cda/${name} has no fixed ids in test/cda/sample-requests.ts`);
    const bytes = readFileSync(path.join(OWN_SAMPLES_DIR, name));
    const patientId = cdaPatientId(bytes);
    const req = buildIti41Request(
      { patientId, submissionSetUniqueId: fixed.submissionSetUniqueId, submissionTime: fixed.submissionTime, documents: [{ bytes }] },
      'inline',
      { messageId: fixed.messageId },
    );
    out[`iti41-${name}`] = { patientId, body: req.body };
  }
  return out;
}

export async function writeCdaSampleRequests(): Promise<void> {
  const { writeFileSync } = await import('node:fs');
  for (const [name, r] of Object.entries(cdaSampleRequests())) writeFileSync(path.resolve(OWN_SAMPLES_DIR, '../xds', name), r.body);
}
