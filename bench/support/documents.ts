/**
 * Documents the benchmarks submit: the 50 KB CR-BIO of the test builders, a 20 MB PDF sent as such
 * (application/pdf), and the same PDF wrapped in an unstructured CDA (CDA level 1, XDS-SD, as the DMP
 * receives PDFs). Each is new bytes (the content store would not write the same bytes twice) and each
 * CDA has a fresh uniqueId and the given patient.
 */
import { randomBytes } from 'node:crypto';
import { makeLabResult, newOid, patientIdToII, sampleCda } from '../../test/support/requests.js';

export type DocumentKind = 'cda50k' | 'pdf20m' | 'cda-pdf20m';

export const PDF_BYTES = 20 * 1024 * 1024;

/**
 * A one-page PDF whose page carries an image XObject of `size` bytes (incompressible), with a
 * cross-reference table whose offsets are right, so that the gateway's PDF check accepts it.
 */
export function bigPdf(size: number): Buffer {
  const content = 'q 200 0 0 200 72 500 cm /Im1 Do Q BT /F1 12 Tf 72 770 Td (Compte rendu - document fictif de test de charge) Tj ET';
  const head = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> /XObject << /Im1 6 0 R >> >> >>',
    `<< /Length ${content.length} >>\nstream\n${content}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  const chunks: Buffer[] = [];
  let length = 0;
  const offsets: number[] = [];
  const push = (b: Buffer): void => {
    chunks.push(b);
    length += b.length;
  };
  push(Buffer.from('%PDF-1.4\n%\xe2\xe3\xcf\xd3\n', 'latin1'));
  head.forEach((o, i) => {
    offsets.push(length);
    push(Buffer.from(`${i + 1} 0 obj\n${o}\nendobj\n`, 'latin1'));
  });
  const side = Math.floor(Math.sqrt(size / 3));
  const imageBytes = side * side * 3;
  offsets.push(length);
  push(Buffer.from(`6 0 obj\n<< /Type /XObject /Subtype /Image /Width ${side} /Height ${side} /ColorSpace /DeviceRGB /BitsPerComponent 8 /Length ${imageBytes} >>\nstream\n`, 'latin1'));
  push(randomBytes(imageBytes));
  push(Buffer.from('\nendstream\nendobj\n', 'latin1'));
  const xrefAt = length;
  let tail = `xref\n0 ${offsets.length + 1}\n0000000000 65535 f \n`;
  for (const off of offsets) tail += `${String(off).padStart(10, '0')} 00000 n \n`;
  tail += `trailer\n<< /Size ${offsets.length + 1} /Root 1 0 R >>\nstartxref\n${xrefAt}\n%%EOF\n`;
  push(Buffer.from(tail, 'latin1'));
  return Buffer.concat(chunks);
}

const SAMPLE_ID = '1.2.250.1.999.9.1.5.1';
const SAMPLE_SET_ID = '1.2.250.1.999.9.1.5.0';
const SAMPLE_PATIENT = 'extension="290079999900508"';
const PDF_TEXT = /(<text mediaType="application\/pdf" representation="B64">)[\s\S]*?(<\/text>)/;

/** samples/cda/unstructured-pdf.xml with another PDF; the base64 is computed once, the header per document. */
export function unstructuredCdaFactory(pdf: Buffer): (patientId: string) => Buffer {
  const sample = sampleCda('unstructured-pdf.xml').toString('utf8');
  const m = PDF_TEXT.exec(sample);
  if (!m) throw new Error('samples/cda/unstructured-pdf.xml has no application/pdf text element');
  const head = sample.slice(0, m.index) + m[1];
  const tail = Buffer.from(m[2] + sample.slice(m.index + m[0].length), 'utf8');
  const body = Buffer.from(pdf.toString('base64').replace(/.{76}/g, '$&\n'), 'latin1');
  return (patientId) => {
    const uniqueId = newOid();
    const header = head
      .replace(`<id root="${SAMPLE_ID}"/>`, `<id root="${uniqueId}"/>`)
      .replace(`<setId root="${SAMPLE_SET_ID}"/>`, `<setId root="${uniqueId}.0"/>`)
      .replace(SAMPLE_PATIENT, `extension="${patientIdToII(patientId).extension}"`);
    return Buffer.concat([Buffer.from(header, 'utf8'), body, tail]);
  };
}

/** A copy of the PDF whose image bytes differ from every other copy's. */
function pdfFactory(pdf: Buffer): () => Buffer {
  const imageAt = pdf.indexOf('stream\n', pdf.indexOf('/Subtype /Image')) + 'stream\n'.length;
  return () => {
    const copy = Buffer.from(pdf);
    randomBytes(16).copy(copy, imageAt);
    return copy;
  };
}

/** A factory of fresh documents of one kind for a patient. */
export function documentFactory(kind: DocumentKind): (patientId: string) => Buffer {
  if (kind === 'cda-pdf20m') return unstructuredCdaFactory(bigPdf(PDF_BYTES));
  if (kind === 'pdf20m') return pdfFactory(bigPdf(PDF_BYTES));
  return (patientId) => makeLabResult(patientId, { sizeKb: 50 });
}
