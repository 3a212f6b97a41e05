import { expect } from 'chai';
import { CdaValidator, cdaXdsErrors, isCdaDocument, validateSubmittedCda } from '../../src/cda/validate-document.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { entryFor, ownSample, schemaOptions } from './helpers.js';
import { tinyPdf } from './pdf-fixtures.js';

const LDL_PATIENT = '148039999900218^^^&1.2.250.1.213.1.4.8&ISO';

/** samples/cda/ldl-ses.xml declaring only the generic CI-SIS templateIds: a type the gateway does not describe. */
function unknownTypeDocument(): Buffer {
  return Buffer.from(ownSample('ldl-ses.xml').toString('utf8').replace('<templateId root="1.2.250.1.213.1.1.1.29" extension="2022.01"/>', ''), 'utf8');
}

describe('CDA document validation (schema + type + consistency)', function () {
  this.timeout(30_000);
  let accepting: CdaValidator;
  let refusing: CdaValidator;
  before(async () => {
    accepting = await CdaValidator.load({ ...schemaOptions(), unknownType: 'accept' });
    refusing = await CdaValidator.load({ ...schemaOptions(), unknownType: 'refuse' });
  });
  after(() => {
    accepting.dispose();
    refusing.dispose();
  });

  it('validates an unstructured document whose PDF is larger than libxml2\'s default 10 MB text node limit', () => {
    const tiny = tinyPdf().toString('latin1');
    // A comment line just before the xref table pads the PDF to 9 MB (12 MB of base64); only startxref moves.
    const pad = `%${'A'.repeat(9 * 1024 * 1024)}\n`;
    const xrefAt = tiny.lastIndexOf('\nxref') + 1;
    const padded = tiny.slice(0, xrefAt) + pad + tiny.slice(xrefAt).replace(/startxref\s+(\d+)/, (_m, n: string) => `startxref\n${Number(n) + pad.length}`);
    const pdf = Buffer.from(padded, 'latin1');
    const xml = ownSample('unstructured-pdf.xml').toString('utf8');
    const bytes = Buffer.from(xml.replace(/(<text\b[^>]*mediaType="application\/pdf"[^>]*>)[\s\S]*?(<\/text>)/, `$1${pdf.toString('base64')}$2`), 'utf8');
    expect(bytes.length).to.be.greaterThan(12 * 1024 * 1024);
    const report = accepting.validate(bytes);
    expect(report.issues.filter((i) => i.severity === 'Error')).to.deep.equal([]);
    expect(report.type).to.equal('unstructured');
  });

  it('refuses a document nested deeper than 2048 elements with a located schema error, not a crash', () => {
    const depth = 3000;
    const xml = ownSample('ldl-ses.xml').toString('utf8').replace('<text>', `<text><paragraph>${'<content>'.repeat(depth)}x${'</content>'.repeat(depth)}</paragraph>`);
    const report = accepting.validate(Buffer.from(xml));
    expect(report.valid).to.equal(false);
    expect(report.issues[0]!.message).to.match(/Excessive depth in document: 2048/);
  });

  it('reports the document type and only warnings for a valid discharge letter', () => {
    const report = accepting.validate(ownSample('ldl-ses.xml'));
    expect(report.valid).to.equal(true);
    expect(report.type).to.equal('LDL-SES');
    expect(report.issues.every((i) => i.severity === 'Warning')).to.equal(true);
  });

  it('accepts a document of an unknown type after schema validation when CDA_UNKNOWN_TYPE=accept', () => {
    const report = accepting.validate(unknownTypeDocument());
    expect(report.type).to.equal(undefined);
    expect(report.issues).to.deep.equal([]);
  });

  it('refuses a document of an unknown type when CDA_UNKNOWN_TYPE=refuse', () => {
    const report = refusing.validate(unknownTypeDocument());
    expect(report.valid).to.equal(false);
    expect(report.issues[0]!.message).to.match(/^document type unknown to this gateway/);
  });

  it('still validates the schema of a document of an unknown type', () => {
    const broken = Buffer.from(unknownTypeDocument().toString('utf8').replace('<languageCode code="fr-FR"/>', '<languageCode code="fr-FR"/><bogus/>'), 'utf8');
    const report = accepting.validate(broken);
    expect(report.valid).to.equal(false);
    expect(report.issues[0]!.kind).to.equal('schema');
  });

  it('reports malformed XML with its line instead of throwing', () => {
    const report = accepting.validate(Buffer.from('<ClinicalDocument xmlns="urn:hl7-org:v3">\n<id>\n</ClinicalDocument>'));
    expect(report.valid).to.equal(false);
    expect(report.issues[0]!.line).to.be.greaterThan(0);
  });

  it('refuses a document with a DOCTYPE without expanding its entities', () => {
    const laughs = '<?xml version="1.0"?>\n<!DOCTYPE ClinicalDocument [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>\n<ClinicalDocument xmlns="urn:hl7-org:v3"><title>&b;</title></ClinicalDocument>';
    const report = accepting.validate(Buffer.from(laughs));
    expect(report.valid).to.equal(false);
    expect(report.issues.map((i) => i.message).join('\n')).to.match(/DOCTYPE/);
  });

  it('turns header mismatches into XDSRepositoryMetadataError and content problems into XDSRepositoryError, naming the document', () => {
    const bytes = Buffer.from(ownSample('ldl-ses.xml').toString('utf8').replace('<languageCode code="fr-FR"/>', '<languageCode code="fr-FR"/><foo/>'), 'utf8');
    const entry = entryFor({ bytes, languageCode: 'en-GB' }, LDL_PATIENT);
    const errors = cdaXdsErrors(accepting.validate(bytes, entry), entry);
    const byCode = (code: string) => errors.filter((e) => e.code === code && e.severity === 'Error');
    expect(byCode('XDSRepositoryMetadataError').map((e) => e.message)).to.deep.equal([
      `CDA document ${entry.uniqueId}: DocumentEntry.languageCode en-GB does not match ClinicalDocument/languageCode fr-FR`,
    ]);
    expect(byCode('XDSRepositoryError')[0]!.message).to.match(new RegExp(`^CDA document ${entry.uniqueId.replace(/\./g, '\\.')}: line \\d+, column \\d+ \\(/ClinicalDocument/foo\\[1\\]\\): Element '\\{urn:hl7-org:v3\\}foo'`));
    expect(errors.every((e) => e.location === entry.submittedId)).to.equal(true);
  });

  it('validates only XML documents (text/xml, application/xml, */*+xml) whose root is ClinicalDocument', () => {
    const cda = ownSample('ldl-ses.xml');
    expect(isCdaDocument(cda, 'text/xml')).to.equal(true);
    expect(isCdaDocument(Buffer.from('\uFEFF<?xml version="1.0"?>\n<!-- c -->\n<hl7:ClinicalDocument xmlns:hl7="urn:hl7-org:v3"/>'), 'text/xml; charset=UTF-8')).to.equal(true);
    expect(isCdaDocument(cda, 'application/hl7-v3+xml')).to.equal(true);
    expect(isCdaDocument(cda, 'application/xml')).to.equal(true);
    expect(isCdaDocument(cda, 'application/pdf')).to.equal(false);
    expect(isCdaDocument(cda, 'text/plain')).to.equal(false);
    expect(isCdaDocument(Buffer.from('<?xml version="1.0"?><Bundle xmlns="http://hl7.org/fhir"/>'), 'text/xml')).to.equal(false);
  });

  it('checks each CDA document of a submission against its own DocumentEntry', () => {
    const good = ownSample('ldl-ses.xml');
    const entry = entryFor({ bytes: good, id: 'Doc1' }, LDL_PATIENT);
    const other = entryFor({ bytes: good, id: 'Doc2', creationTime: '20000101' }, LDL_PATIENT);
    const pdf = { ...entryFor({ bytes: Buffer.from('%PDF-1.4 not checked'), id: 'Doc3' }, LDL_PATIENT), mimeType: 'application/pdf' };
    const errors = validateSubmittedCda(
      [entry, other, pdf],
      [
        { submittedId: 'Doc1', bytes: good },
        { submittedId: 'Doc2', bytes: good },
        { submittedId: 'Doc3', bytes: Buffer.from('%PDF-1.4 not checked') },
      ],
      accepting,
    ).filter((e) => e.severity === 'Error');
    expect(errors.map((e) => e.location)).to.deep.equal(['Doc2']);
    expect(errors[0]!.message).to.match(/DocumentEntry.creationTime 20000101 does not match ClinicalDocument\/effectiveTime/);
  });
});

describe('CDA_UNKNOWN_TYPE', () => {
  it('defaults to accept and takes accept or refuse only', () => {
    expect(loadConfig({}).cdaUnknownType).to.equal('accept');
    expect(loadConfig({ CDA_UNKNOWN_TYPE: 'refuse' }).cdaUnknownType).to.equal('refuse');
    expect(() => loadConfig({ CDA_UNKNOWN_TYPE: 'warn' })).to.throw(ConfigError, /CDA_UNKNOWN_TYPE must be accept or refuse/);
  });
});
