import { expect } from 'chai';
import { readHeader } from '../../src/cda/header.js';
import { checkDocumentType } from '../../src/cda/templates.js';
import { parseCda, ownSample } from './helpers.js';
import { tinyPdf } from './pdf-fixtures.js';
import { typeNamed } from './types.js';

const TYPE = typeNamed('unstructured');

/** samples/cda/unstructured-pdf.xml with another nonXMLBody/text element. */
function withBodyText(textElement: string): Buffer {
  const xml = ownSample('unstructured-pdf.xml').toString('utf8');
  return Buffer.from(xml.replace(/<text\b[^>]*mediaType="application\/pdf"[^>]*>[\s\S]*?<\/text>/, textElement), 'utf8');
}

function errors(bytes: Buffer): string[] {
  const doc = parseCda(bytes);
  try {
    return checkDocumentType(doc, readHeader(doc), TYPE)
      .filter((i) => i.severity === 'Error')
      .map((i) => i.message);
  } finally {
    doc.dispose();
  }
}

const b64 = (b: Buffer) => b.toString('base64').replace(/.{76}/g, '$&\n');

describe('unstructured (CDA level 1) documents', () => {
  it('accepts a PDF body that really is a PDF', () => {
    expect(errors(withBodyText(`<text mediaType="application/pdf" representation="B64">${b64(tinyPdf())}</text>`))).to.deep.equal([]);
  });

  it('accepts a plain text body', () => {
    expect(errors(withBodyText('<text mediaType="text/plain">Compte rendu de consultation (fictif).</text>'))).to.deep.equal([]);
  });

  it('refuses a body declared application/pdf that is not a PDF', () => {
    const e = errors(withBodyText(`<text mediaType="application/pdf" representation="B64">${b64(Buffer.from('<html>ceci n’est pas un PDF, seulement du HTML</html>'))}</text>`));
    expect(e.join('\n')).to.match(/not a PDF file/);
  });

  it('refuses a truncated PDF', () => {
    const pdf = tinyPdf();
    expect(errors(withBodyText(`<text mediaType="application/pdf" representation="B64">${b64(pdf.subarray(0, pdf.length - 30))}</text>`)).join('\n')).to.match(/%%EOF/);
  });

  it('refuses a PDF body that is not base64', () => {
    expect(errors(withBodyText('<text mediaType="application/pdf" representation="B64">%PDF-1.4 ###</text>'))).to.include('unstructured: nonXMLBody/text is not valid base64');
  });

  it('refuses a PDF body without representation="B64"', () => {
    expect(errors(withBodyText('<text mediaType="application/pdf">JVBERi0=</text>')).join('\n')).to.match(/representation="B64"/);
  });

  it('refuses a media type other than PDF or plain text', () => {
    expect(errors(withBodyText('<text mediaType="image/jpeg" representation="B64">/9j/4AAQ</text>')).join('\n')).to.match(/mediaType image\/jpeg is not accepted/);
  });

  it('refuses a compressed body', () => {
    expect(errors(withBodyText(`<text mediaType="application/pdf" representation="B64" compression="DF">${b64(tinyPdf())}</text>`)).join('\n')).to.match(/must not be compressed/);
  });

  it('refuses a body that only references its content', () => {
    expect(errors(withBodyText('<text mediaType="application/pdf" representation="B64"><reference value="http://example.org/cr.pdf"/></text>')).join('\n')).to.match(/carries no content/);
  });
});
