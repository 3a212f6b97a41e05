import { expect } from 'chai';
import { checkPdf } from '../../src/cda/pdf.js';
import { tinyPdf } from './pdf-fixtures.js';

describe('PDF structural check', () => {
  it('accepts a PDF whose header, xref table, trailer and %%EOF are in place', () => {
    expect(checkPdf(tinyPdf())).to.deep.equal([]);
  });

  it('refuses bytes that do not start with a %PDF- header', () => {
    expect(checkPdf(Buffer.from('<html><body>not a pdf, but long enough to be checked</body></html>'))[0]).to.match(/%PDF-1\.x header/);
  });

  it('refuses a truncated PDF that has lost its %%EOF marker', () => {
    const pdf = tinyPdf();
    expect(checkPdf(pdf.subarray(0, pdf.length - 40))[0]).to.match(/%%EOF/);
  });

  it('refuses a PDF whose startxref offset points outside the file', () => {
    const text = tinyPdf().toString('latin1').replace(/startxref\n\d+/, 'startxref\n999999');
    expect(checkPdf(Buffer.from(text, 'latin1'))[0]).to.match(/outside the file/);
  });

  it('refuses a PDF whose startxref offset does not point to a cross-reference section', () => {
    const text = tinyPdf().toString('latin1').replace(/startxref\n\d+/, 'startxref\n20');
    expect(checkPdf(Buffer.from(text, 'latin1'))[0]).to.match(/neither to an xref table nor to an xref stream/);
  });

  it('refuses a PDF whose xref entries do not point to objects', () => {
    const text = tinyPdf().toString('latin1').replace(/0000000(\d{3}) 00000 n/, '0000000001 00000 n');
    expect(checkPdf(Buffer.from(text, 'latin1')).join('\n')).to.match(/does not point to an object/);
  });

  it('refuses a PDF whose trailer has no /Root', () => {
    const text = tinyPdf().toString('latin1').replace('/Root 1 0 R', '/Info 1 0 R');
    expect(checkPdf(Buffer.from(text, 'latin1'))).to.include('the PDF trailer has no /Root reference');
  });
});
