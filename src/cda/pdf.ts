/**
 * Structural check of a PDF file (ISO 32000-1 §7.5): header, end-of-file marker, the
 * `startxref` offset, and the cross-reference table or stream it points to with its trailer.
 * Returns the problems found; an empty list means the file is a PDF a reader can open.
 */
export function checkPdf(bytes: Buffer): string[] {
  if (bytes.length < 32) return ['the PDF is too short to be a PDF file'];
  const head = bytes.subarray(0, 1024).toString('latin1');
  const headerAt = head.indexOf('%PDF-');
  if (headerAt === -1 || !/^%PDF-[12]\.\d/.test(head.slice(headerAt))) return ['the content does not start with a %PDF-1.x header: not a PDF file'];
  const tailStart = Math.max(0, bytes.length - 1024);
  const tail = bytes.subarray(tailStart).toString('latin1');
  const eof = tail.lastIndexOf('%%EOF');
  if (eof === -1) return ['the PDF has no %%EOF marker at its end (truncated file?)'];
  const startxref = /startxref\s+(\d+)\s+$/.exec(tail.slice(0, eof));
  if (!startxref) return ['the PDF has no startxref offset before %%EOF'];
  const offset = Number(startxref[1]);
  if (offset <= headerAt || offset >= bytes.length) return [`the startxref offset ${offset} is outside the file`];
  const at = bytes.subarray(offset, Math.min(bytes.length, offset + 64)).toString('latin1');
  if (at.startsWith('xref')) return checkXrefTable(bytes, offset);
  if (/^\d+\s+\d+\s+obj\b/.test(at)) return checkXrefStream(bytes, offset);
  return [`the startxref offset ${offset} points neither to an xref table nor to an xref stream`];
}

function checkXrefTable(bytes: Buffer, offset: number): string[] {
  const text = bytes.subarray(offset).toString('latin1');
  const problems: string[] = [];
  let pos = 4;
  const subsection = /^\s*(\d+) (\d+)\s*?\r?\n/y;
  const entry = /^(\d{10}) (\d{5}) ([nf])(?: \r| \n|\r\n)/;
  let sections = 0;
  for (;;) {
    subsection.lastIndex = 0;
    const m = subsection.exec(text.slice(pos));
    if (!m) break;
    sections++;
    pos += m[0].length;
    const count = Number(m[2]);
    for (let i = 0; i < count; i++) {
      const e = entry.exec(text.slice(pos, pos + 20));
      if (!e) return [`the xref table entry ${Number(m[1]) + i} is malformed`];
      if (e[3] === 'n' && !pointsToObject(bytes, Number(e[1]))) {
        problems.push(`the xref table entry of object ${Number(m[1]) + i} does not point to an object`);
      }
      pos += 20;
    }
  }
  if (sections === 0) return ['the xref table has no subsection'];
  const trailer = /^\s*trailer\s*<<([\s\S]*?)>>\s*(?:startxref|$)/.exec(text.slice(pos));
  if (!trailer) return [...problems, 'the xref table is not followed by a trailer dictionary'];
  if (!/\/Root\s+\d+\s+\d+\s+R/.test(trailer[1]!)) problems.push('the PDF trailer has no /Root reference');
  if (!/\/Size\s+\d+/.test(trailer[1]!)) problems.push('the PDF trailer has no /Size');
  return problems.slice(0, 5);
}

function checkXrefStream(bytes: Buffer, offset: number): string[] {
  const dict = bytes.subarray(offset, Math.min(bytes.length, offset + 4096)).toString('latin1');
  const end = dict.indexOf('stream');
  const head = end === -1 ? dict : dict.slice(0, end);
  const problems: string[] = [];
  if (!/\/Type\s*\/XRef\b/.test(head)) problems.push('the object at the startxref offset is not an xref stream (/Type /XRef)');
  if (!/\/Root\s+\d+\s+\d+\s+R/.test(head)) problems.push('the PDF xref stream has no /Root reference');
  if (end === -1) problems.push('the PDF xref stream has no stream data');
  return problems;
}

function pointsToObject(bytes: Buffer, offset: number): boolean {
  if (offset >= bytes.length) return false;
  return /^\s*\d+\s+\d+\s+obj\b/.test(bytes.subarray(offset, offset + 32).toString('latin1'));
}
