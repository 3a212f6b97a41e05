import { expect } from 'chai';
import { STATUS } from '../../src/ebrim/uuids.js';
import { forEachRegistryMode, httpGet, withGatewayAndPatient, type TestGateway } from '../support/gateway.js';
import { buildIti41Request, buildIti43Request, makeLabResult, newPatientId } from '../support/requests.js';
import { readSoapReply, retrieveResult, submissionResult } from '../support/responses.js';
import { buildIti57Request, registeredIds, type UpdateSpec } from './iti57-requests.js';

forEachRegistryMode((mode) => {
  describe(`ITI-57 Update Document Set (${mode})`, function () {
    this.timeout(60_000);
    let gw: TestGateway;
    let patientId: string;

    withGatewayAndPatient(mode, (g, p) => {
      gw = g;
      patientId = p;
    });

    async function submitted() {
      const bytes = makeLabResult(patientId, { sizeKb: 2 });
      const req = buildIti41Request({ patientId, documents: [{ bytes }] }, 'inline');
      expect(submissionResult(await gw.post('/xds/iti41', req)).status).to.equal('Success');
      const uniqueId = req.uniqueIds.documents[0]!;
      return { bytes, uniqueId, ...(await registeredIds(gw, uniqueId)) };
    }

    async function update(spec: Omit<UpdateSpec, 'repositoryUniqueId' | 'patientId'> & { patientId?: string }, path = '/xds/iti57') {
      const reply = await gw.post(path, buildIti57Request({ patientId, repositoryUniqueId: gw.config.repositoryUniqueId, ...spec }));
      return { reply, result: submissionResult(reply) };
    }

    const versions = (logicalId: string) =>
      gw.backends.db.query<{ version: number; status: string; title: string }>('select version, status, title from document_entries where logical_id = $1 order by version', [logicalId]);

    const retrieve = async (uniqueId: string) =>
      retrieveResult(await gw.post('/xds/iti43', buildIti43Request([{ repositoryUniqueId: gw.config.repositoryUniqueId, documentUniqueId: uniqueId }])));

    it('registers a new version of the metadata and deprecates the previous one; the document is still retrieved', async () => {
      const doc = await submitted();
      const { reply, result } = await update({ versions: [{ doc: { bytes: doc.bytes, uniqueId: doc.uniqueId, title: 'Titre corrigé' }, logicalId: doc.logicalId, previousVersion: '1' }] });
      expect(result, reply.text).to.deep.equal({ status: 'Success', errors: [] });
      expect(readSoapReply(reply).action).to.equal('urn:ihe:iti:2010:UpdateDocumentSetResponse');
      expect(await versions(doc.logicalId)).to.deep.equal([
        { version: 1, status: STATUS.deprecated, title: (await versions(doc.logicalId))[0]!.title },
        { version: 2, status: STATUS.approved, title: 'Titre corrigé' },
      ]);
      const got = await retrieve(doc.uniqueId);
      expect(got.status).to.equal('Success');
      expect(got.documents[0]!.bytes.equals(doc.bytes)).to.equal(true);
      // The DSG signature of the original submission still covers the document's new metadata version.
      const signature = JSON.parse((await httpGet(`${gw.url}/api/documents/${encodeURIComponent(doc.uniqueId)}/signature`)).text) as { signed: boolean; valid: boolean };
      expect({ signed: signature.signed, valid: signature.valid }).to.deep.equal({ signed: true, valid: true });
    });

    it('deprecates a document with UpdateAvailabilityStatus, still retrieved, then approves it again', async () => {
      const doc = await submitted();
      const deprecate = await update({ statusChanges: [{ target: doc.entryUuid, from: STATUS.approved, to: STATUS.deprecated }] });
      expect(deprecate.result, deprecate.reply.text).to.deep.equal({ status: 'Success', errors: [] });
      expect((await versions(doc.logicalId))[0]!.status).to.equal(STATUS.deprecated);
      expect((await retrieve(doc.uniqueId)).status).to.equal('Success');
      const approve = await update({ statusChanges: [{ target: doc.entryUuid, from: STATUS.deprecated, to: STATUS.approved }] }, '/xds');
      expect(approve.result.status).to.equal('Success');
      expect((await versions(doc.logicalId))[0]!.status).to.equal(STATUS.approved);
    });

    it('serves its WSDL', async () => {
      const reply = await httpGet(`${gw.url}/xds/iti57?wsdl`);
      expect(reply.status).to.equal(200);
      expect(reply.text).to.contain('urn:ihe:iti:2010:UpdateDocumentSet').and.contain(`${gw.url}/xds/iti57`);
    });

    describe('refuses a faulty update and changes nothing', () => {
      let doc: Awaited<ReturnType<typeof submitted>>;
      let before: Awaited<ReturnType<typeof versions>>;
      let counts: Awaited<ReturnType<TestGateway['backends']['registry']['counts']>>;
      beforeEach(async () => {
        doc = await submitted();
        before = await versions(doc.logicalId);
        counts = await gw.backends.registry.counts();
      });
      afterEach(async () => {
        expect(await versions(doc.logicalId)).to.deep.equal(before);
        expect(await gw.backends.registry.counts()).to.deep.equal(counts);
      });

      it('XDSMetadataVersionError when PreviousVersion is not the latest version', async () => {
        const { result } = await update({ versions: [{ doc: { bytes: doc.bytes, uniqueId: doc.uniqueId }, logicalId: doc.logicalId, previousVersion: '7' }] });
        expect(result.errors.map((e) => e.code)).to.deep.equal(['XDSMetadataVersionError']);
      });

      it('XDSMetadataUpdateError when the new version changes the document bytes (hash)', async () => {
        const { result } = await update({ versions: [{ doc: { bytes: Buffer.from('other bytes'), uniqueId: doc.uniqueId }, logicalId: doc.logicalId, previousVersion: '1' }] });
        expect(result.errors.map((e) => e.code)).to.include('XDSMetadataUpdateError');
      });

      it('XDSMetadataUpdateError when OriginalStatus is not the current status', async () => {
        const { result } = await update({ statusChanges: [{ target: doc.entryUuid, from: STATUS.deprecated, to: STATUS.approved }] });
        expect(result.errors.map((e) => e.code)).to.deep.equal(['XDSMetadataUpdateError']);
      });

      it('XDSMetadataUpdateError when NewStatus is neither Approved nor Deprecated', async () => {
        const { result } = await update({ statusChanges: [{ target: doc.entryUuid, from: STATUS.approved, to: STATUS.submitted }] });
        expect(result.errors.map((e) => e.code)).to.deep.equal(['XDSMetadataUpdateError']);
      });

      it('XDSPatientIdDoesNotMatch when the SubmissionSet names another patient', async () => {
        const other = newPatientId();
        expect(await gw.registerPatient(other)).to.equal(201);
        counts = await gw.backends.registry.counts();
        const { result } = await update({ patientId: other, statusChanges: [{ target: doc.entryUuid, from: STATUS.approved, to: STATUS.deprecated }] });
        expect(result.errors.map((e) => e.code)).to.deep.equal(['XDSPatientIdDoesNotMatch']);
      });
    });
  });
});
