import { expect } from 'chai';
import { registryErrorListXml, registryResponseXml } from '../../src/ebrim/response.js';
import { NS, RESPONSE_STATUS } from '../../src/ebrim/uuids.js';
import { SEVERITY_URN, XdsError } from '../../src/errors.js';
import { child, parseXml } from '../../src/xml/tree.js';
import { runIti41, submissionXml } from './fixtures.js';

describe('ebrim/response', () => {
  it('answers Success with no error list when there are no errors', () => {
    const el = parseXml(registryResponseXml([]));
    expect(el).to.include({ ns: NS.rs, local: 'RegistryResponse' });
    expect(el.attrs.status).to.equal(RESPONSE_STATUS.success);
    expect(el.children).to.deep.equal([]);
  });

  it('answers Failure listing every error with code, context, location and severity', () => {
    const xml = submissionXml({ entries: 2 })
      .replace('<rim:Value>fr-FR</rim:Value>', '<rim:Value>fr_FR</rim:Value>')
      .replace(/<xdsb:Document id="Document02">.*?<\/xdsb:Document>/, '');
    const { errors } = runIti41(xml);
    const el = parseXml(registryResponseXml(errors));
    expect(el.attrs.status).to.equal(RESPONSE_STATUS.failure);
    const list = child(el, NS.rs, 'RegistryErrorList')!;
    expect(list.attrs.highestSeverity).to.equal(SEVERITY_URN.Error);
    expect(list.children.map((e) => e.attrs)).to.deep.equal([
      {
        errorCode: 'XDSRegistryMetadataError',
        codeContext: "DocumentEntry 'Document01': slot languageCode value 'fr_FR' is not a language code (RFC 3066)",
        location: 'Document01',
        severity: SEVERITY_URN.Error,
      },
      { errorCode: 'XDSMissingDocument', codeContext: "DocumentEntry 'Document02' has no xdsb:Document", location: 'Document02', severity: SEVERITY_URN.Error },
    ]);
  });

  it('keeps Success when there are only warnings', () => {
    const el = parseXml(registryResponseXml([new XdsError('XDSExtraMetadataNotSaved', 'slot urn:x not saved', 'Document01', 'Warning')]));
    expect(el.attrs.status).to.equal(RESPONSE_STATUS.success);
    expect(child(el, NS.rs, 'RegistryErrorList')!.attrs.highestSeverity).to.equal(SEVERITY_URN.Warning);
  });

  it('answers PartialSuccess when asked and some errors exist, Success when asked without errors', () => {
    const errors = [new XdsError('XDSDocumentUniqueIdError', 'document 1.2.3 is not in repository 1.2', '1.2.3')];
    expect(parseXml(registryResponseXml(errors, { partialSuccess: true })).attrs.status).to.equal(RESPONSE_STATUS.partialSuccess);
    expect(parseXml(registryResponseXml([], { partialSuccess: true })).attrs.status).to.equal(RESPONSE_STATUS.success);
  });

  it('escapes markup, quotes, line breaks and characters XML cannot carry, and omits an absent location', () => {
    const message = `bad <value> & "quoted" 'x'\nnext line \u0001 end`;
    const el = parseXml(registryResponseXml([new XdsError('XDSRegistryError', message)]));
    const error = child(child(el, NS.rs, 'RegistryErrorList')!, NS.rs, 'RegistryError')!;
    expect(error.attrs.codeContext).to.equal(`bad <value> & "quoted" 'x'\nnext line \uFFFD end`);
    expect(error.attrs).to.not.have.property('location');
  });

  it('builds an error list for embedding where the rs prefix is bound, and nothing for no errors', () => {
    expect(registryErrorListXml([])).to.equal('');
    const wrapped = parseXml(`<r xmlns:rs="${NS.rs}">${registryErrorListXml([new XdsError('XDSRepositoryError', 'x')])}</r>`);
    expect(wrapped.children[0]).to.include({ ns: NS.rs, local: 'RegistryErrorList' });
  });
});
