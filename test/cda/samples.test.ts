import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { CdaValidator, formatIssue } from '../../src/cda/validate-document.js';
import { OWN_SAMPLES_DIR, SHARED_SAMPLES_DIR, hasSharedSamples, schemaOptions } from './helpers.js';
import { cdaSampleRequests } from './sample-requests.js';

interface BrokenExpectation {
  description: string;
  errors: { kind: 'schema' | 'type' | 'consistency'; includes: string }[];
}

const xmlFiles = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.xml')).sort();

describe('CDA samples through the validator (schema, type rules)', function () {
  this.timeout(30_000);
  let validator: CdaValidator;
  before(async () => {
    validator = await CdaValidator.load(schemaOptions());
  });
  after(() => validator.dispose());

  const errorsOf = (bytes: Buffer) =>
    validator
      .validate(bytes)
      .issues.filter((i) => i.severity === 'Error')
      .map(formatIssue);

  describe('the CI-SIS reference samples (../shared/samples/cda)', () => {
    const files = hasSharedSamples() ? xmlFiles(SHARED_SAMPLES_DIR) : [];
    if (files.length === 0) it('are not on this machine: skipped');
    for (const f of files) {
      it(`accepts ${f}`, () => {
        expect(errorsOf(readFileSync(path.join(SHARED_SAMPLES_DIR, f)))).to.deep.equal([]);
      });
    }
  });

  describe('our own samples (samples/cda)', () => {
    for (const f of xmlFiles(OWN_SAMPLES_DIR)) {
      it(`accepts ${f} and finds its document type`, () => {
        const report = validator.validate(readFileSync(path.join(OWN_SAMPLES_DIR, f)));
        expect(report.issues.filter((i) => i.severity === 'Error').map(formatIssue)).to.deep.equal([]);
        expect(report.type).to.be.a('string');
      });
    }
  });

  describe('the broken samples (samples/cda/broken) give the errors written beside them', () => {
    const dir = path.join(OWN_SAMPLES_DIR, 'broken');
    for (const f of xmlFiles(dir)) {
      const expected = JSON.parse(readFileSync(path.join(dir, f.replace(/\.xml$/, '.json')), 'utf8')) as BrokenExpectation;
      it(`refuses ${f}: ${expected.description}`, () => {
        const report = validator.validate(readFileSync(path.join(dir, f)));
        expect(report.valid).to.equal(false);
        const errors = report.issues.filter((i) => i.severity === 'Error');
        for (const e of expected.errors) {
          expect(errors.some((i) => i.kind === e.kind && i.message.includes(e.includes)), `${e.kind}: ${e.includes}\nfound:\n${errors.map(formatIssue).join('\n')}`).to.equal(true);
        }
        expect(errors).to.have.length(expected.errors.length);
      });
    }
  });
});

describe('samples/xds ITI-41 requests of the CDA samples', () => {
  it('hold exactly what cdaSampleRequests() builds, one per document type sample', () => {
    const built = cdaSampleRequests();
    expect(Object.keys(built).sort()).to.deep.equal(['iti41-cr-img.xml', 'iti41-dlu.xml', 'iti41-ldl-ses.xml', 'iti41-unstructured-pdf.xml', 'iti41-vac.xml', 'iti41-vsm.xml']);
    for (const [name, r] of Object.entries(built)) {
      expect(readFileSync(path.join(OWN_SAMPLES_DIR, '..', 'xds', name)).equals(r.body), name).to.equal(true);
    }
  });
});
