import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { forEachRegistryMode, startTestGateway, type TestGateway } from '../support/gateway.js';
import { buildIti41Request, buildIti43Request, cdaPatientId, type DocSpec } from '../support/requests.js';
import { retrieveResult, submissionResult } from '../support/responses.js';

const SHARED = path.resolve(process.cwd(), '../shared/samples/cda');
const OWN = path.resolve(process.cwd(), 'samples/cda');
const xmlFiles = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.xml')).sort() : []);

const authorityOf = (patientId: string) => /&([0-9.]+)&ISO/.exec(patientId)![1]!;

forEachRegistryMode((mode) => {
  describe(`CDA documents submitted through ITI-41 (${mode})`, function () {
    this.timeout(120_000);
    /** One gateway per patient assigning authority found in the samples (INS-NIR for ours, the test INS root for the CI-SIS ones). */
    const gateways = new Map<string, TestGateway>();

    async function gatewayFor(patientId: string): Promise<TestGateway> {
      const authority = authorityOf(patientId);
      let gw = gateways.get(authority);
      if (!gw) {
        gw = await startTestGateway(mode, { XDS_PATIENT_AUTHORITY: authority });
        gateways.set(authority, gw);
      }
      expect(await gw.registerPatient(patientId)).to.be.oneOf([201, 409]);
      return gw;
    }

    after(async () => {
      for (const gw of gateways.values()) await gw.close();
    });

    async function submit(doc: DocSpec) {
      const patientId = cdaPatientId(doc.bytes);
      const gw = await gatewayFor(patientId);
      const req = buildIti41Request({ patientId, documents: [doc] }, 'mtom');
      const reply = await gw.post('/xds/iti41', req);
      return { gw, req, reply, result: submissionResult(reply) };
    }

    async function isRegistered(gw: TestGateway, uniqueId: string): Promise<boolean> {
      const got = retrieveResult(await gw.post('/xds/iti43', buildIti43Request([{ repositoryUniqueId: gw.config.repositoryUniqueId, documentUniqueId: uniqueId }])));
      return got.documents.length === 1;
    }

    const samples = [...xmlFiles(SHARED).map((f) => path.join(SHARED, f)), ...xmlFiles(OWN).map((f) => path.join(OWN, f))];
    if (!existsSync(SHARED)) it('(the CI-SIS samples of ../shared/samples/cda are not on this machine: only our own samples are submitted)');
    for (const file of samples) {
      it(`registers ${path.relative(process.cwd(), file)} with metadata built from its header`, async () => {
        const bytes = readFileSync(file);
        const { gw, req, reply, result } = await submit({ bytes });
        expect(result.status, reply.text).to.equal('Success');
        expect(result.errors.filter((e) => e.severity === 'Error')).to.deep.equal([]);
        expect(await isRegistered(gw, req.uniqueIds.documents[0]!)).to.equal(true);
      });
    }

    it('answers Success with Warning severity when optional sections are absent', async () => {
      const bytes = Buffer.from(readFileSync(path.join(OWN, 'ldl-ses.xml'), 'utf8').replace('<id root="1.2.250.1.999.9.1.2.1"/>', '<id root="1.2.250.1.999.9.1.2.1.5"/>'), 'utf8');
      const { result } = await submit({ bytes });
      expect(result.status).to.equal('Success');
      expect(result.errors.length).to.be.greaterThan(0);
      for (const e of result.errors) {
        expect(e.severity).to.equal('Warning');
        expect(e.code).to.equal('XDSRepositoryError');
        expect(e.context).to.match(/^CDA document 1\.2\.250\.1\.999\.9\.1\.2\.1\.5: line \d+ .*optional section .* is absent$/);
      }
    });

    it('refuses a document whose metadata disagree with its header with XDSRepositoryMetadataError naming both values, and registers nothing', async () => {
      const vac = readFileSync(path.join(OWN, 'vac.xml'), 'utf8');
      const bytes = Buffer.from(vac.replace('<id root="1.2.250.1.999.9.1.7.1"/>', '<id root="1.2.250.1.999.9.1.7.1.9"/>'), 'utf8');
      // The local time of the header written as if it were UTC, and another language.
      const { gw, req, result } = await submit({ bytes, creationTime: '20241021151500', languageCode: 'de-DE' });
      expect(result.status).to.equal('Failure');
      expect(result.errors.map((e) => [e.code, e.context, e.location])).to.deep.equal([
        [
          'XDSRepositoryMetadataError',
          'CDA document 1.2.250.1.999.9.1.7.1.9: DocumentEntry.creationTime 20241021151500 does not match ClinicalDocument/effectiveTime 20241021151500+0200 (20241021131500 UTC)',
          'Document01',
        ],
        ['XDSRepositoryMetadataError', 'CDA document 1.2.250.1.999.9.1.7.1.9: DocumentEntry.languageCode de-DE does not match ClinicalDocument/languageCode fr-FR', 'Document01'],
      ]);
      expect(await isRegistered(gw, req.uniqueIds.documents[0]!)).to.equal(false);
    });

    for (const mimeType of ['application/hl7-v3+xml', 'text/xml; charset=UTF-8']) {
      it(`validates a CDA document declared ${mimeType} like one declared text/xml`, async () => {
        const file = xmlFiles(path.join(OWN, 'broken'))[0]!;
        const { gw, req, result } = await submit({ bytes: readFileSync(path.join(OWN, 'broken', file)), mimeType });
        expect(result.status).to.equal('Failure');
        expect(result.errors.some((e) => e.code === 'XDSRepositoryError' && e.context.startsWith('CDA document'))).to.equal(true);
        expect(await isRegistered(gw, req.uniqueIds.documents[0]!)).to.equal(false);
      });
    }

    for (const file of xmlFiles(path.join(OWN, 'broken'))) {
      it(`refuses samples/cda/broken/${file} with XDSRepositoryError locating the problem, and registers nothing`, async () => {
        const bytes = readFileSync(path.join(OWN, 'broken', file));
        const { gw, req, result } = await submit({ bytes });
        expect(result.status).to.equal('Failure');
        const errors = result.errors.filter((e) => e.severity === 'Error');
        // A wrong document code also makes the metadata built from it disagree with the type's formatCode.
        expect(errors.every((e) => e.code === 'XDSRepositoryError' || e.code === 'XDSRepositoryMetadataError')).to.equal(true);
        const content = errors.filter((e) => e.code === 'XDSRepositoryError');
        expect(content).to.have.length.greaterThan(0);
        for (const e of content) {
          expect(e.context).to.match(new RegExp(`^CDA document ${req.uniqueIds.documents[0]!.replace(/[.^]/g, '\\$&')}: line \\d+`));
          expect(e.location).to.equal('Document01');
        }
        expect(await isRegistered(gw, req.uniqueIds.documents[0]!)).to.equal(false);
      });
    }
  });
});
