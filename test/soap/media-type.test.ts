import { expect } from 'chai';
import { parseMediaType } from '../../src/soap/media-type.js';

describe('soap/media-type', () => {
  it('lower-cases the type and parameter names, keeps parameter values as sent', () => {
    const m = parseMediaType('Multipart/Related; Boundary=MIME_abc; TYPE="application/xop+xml"');
    expect(m.type).to.equal('multipart/related');
    expect(m.params.get('boundary')).to.equal('MIME_abc');
    expect(m.params.get('type')).to.equal('application/xop+xml');
  });

  it('reads quoted values with semicolons, escapes and spaces around the equals sign', () => {
    const m = parseMediaType('multipart/related;start="<a;b@x>"; action = "urn:\\"q\\"" ;boundary="b c"');
    expect(m.params.get('start')).to.equal('<a;b@x>');
    expect(m.params.get('action')).to.equal('urn:"q"');
    expect(m.params.get('boundary')).to.equal('b c');
  });

  it('keeps the first of repeated parameters and skips parameters without a value', () => {
    const m = parseMediaType('multipart/related; junk; boundary=one; boundary=two');
    expect(m.params.get('boundary')).to.equal('one');
    expect(m.params.has('junk')).to.equal(false);
  });

  it('reads a bare type', () => {
    expect(parseMediaType(' application/soap+xml ')).to.deep.equal({ type: 'application/soap+xml', params: new Map() });
  });
});
