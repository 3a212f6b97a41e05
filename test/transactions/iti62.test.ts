import { expect } from 'chai';
import { forEachRegistryMode, httpGet, withGatewayAndPatient, type TestGateway } from '../support/gateway.js';
import { buildIti41Request, buildIti43Request, makeLabResult } from '../support/requests.js';
import { readSoapReply, retrieveResult, submissionResult } from '../support/responses.js';
import { buildIti62Request, registeredIds } from './iti57-requests.js';
import { NS } from '../../src/ebrim/uuids.js';

forEachRegistryMode((mode) => {
  describe(`ITI-62 Delete Document Set (${mode})`, function () {
    this.timeout(60_000);
    let gw: TestGateway;
    let patientId: string;

    withGatewayAndPatient(mode, (g, p) => {
      gw = g;
      patientId = p;
    });
    afterEach(() => {
      gw.config.deleteWithoutCallerIdentity = false;
    });

    async function submitted() {
      const bytes = makeLabResult(patientId, { sizeKb: 2 });
      const req = buildIti41Request({ patientId, documents: [{ bytes }] }, 'inline');
      expect(submissionResult(await gw.post('/xds/iti41', req)).status).to.equal('Success');
      const uniqueId = req.uniqueIds.documents[0]!;
      return { bytes, uniqueId, ...(await registeredIds(gw, uniqueId)) };
    }

    const remove = async (refs: string[], path = '/xds/iti62') => {
      const reply = await gw.post(path, buildIti62Request(refs));
      return { reply, result: submissionResult(reply) };
    };
    const retrieve = async (uniqueId: string) =>
      retrieveResult(await gw.post('/xds/iti43', buildIti43Request([{ repositoryUniqueId: gw.config.repositoryUniqueId, documentUniqueId: uniqueId }])));

    /** Deletion records and objects marked deleted: a refused request changes neither. */
    const deletionState = () =>
      gw.backends.db.query(`select (select count(*) from deletions)::int as records,
        (select count(*) from document_entries where deleted_at is not null)::int as documents,
        (select count(*) from associations where deleted_at is not null)::int as associations`);

    it('refuses a deletion without an authenticated caller by default, and the document stays', async () => {
      const doc = await submitted();
      const before = await deletionState();
      const { result } = await remove([doc.entryUuid, doc.membership]);
      expect(result.status).to.equal('Failure');
      expect(result.errors.map((e) => e.code)).to.deep.equal(['XDSRegistryError']);
      expect(result.errors[0]!.context).to.match(/DELETE_WITHOUT_CALLER_IDENTITY/);
      expect(await deletionState()).to.deep.equal(before);
      expect((await retrieve(doc.uniqueId)).status).to.equal('Success');
    });

    it('deletes logically when allowed: gone from retrieve, bytes kept in the store, deletion recorded', async () => {
      gw.config.deleteWithoutCallerIdentity = true;
      const doc = await submitted();
      const { reply, result } = await remove([doc.entryUuid, doc.membership]);
      expect(result, reply.text).to.deep.equal({ status: 'Success', errors: [] });
      expect(readSoapReply(reply).action).to.equal('urn:ihe:iti:2010:DeleteDocumentSetResponse');
      const got = await retrieve(doc.uniqueId);
      expect(got.errors.map((e) => e.code)).to.deep.equal(['XDSDocumentUniqueIdError']);
      const [row] = await gw.backends.db.query<{ content_key: string }>('select content_key from document_entries where entry_uuid = $1', [doc.entryUuid]);
      expect((await gw.backends.content.get(row!.content_key)).equals(doc.bytes)).to.equal(true);
      const recorded = await gw.backends.db.query<{ object_kind: string; has_time: boolean }>(
        'select object_kind, deleted_at is not null as has_time from deletions where entry_uuid = any($1::text[]) order by object_kind',
        [[doc.entryUuid, doc.membership]],
      );
      expect(recorded).to.deep.equal([
        { object_kind: 'Association', has_time: true },
        { object_kind: 'DocumentEntry', has_time: true },
      ]);
    });

    it('is served on /xds too, dispatched on the Action', async () => {
      gw.config.deleteWithoutCallerIdentity = true;
      const doc = await submitted();
      expect((await remove([doc.entryUuid, doc.membership], '/xds')).result.status).to.equal('Success');
    });

    it('serves its WSDL', async () => {
      const reply = await httpGet(`${gw.url}/xds/iti62?wsdl`);
      expect(reply.status).to.equal(200);
      expect(reply.text).to.contain('urn:ihe:iti:2010:DeleteDocumentSet').and.contain(`${gw.url}/xds/iti62`);
    });

    describe('refuses a faulty deletion and deletes nothing', () => {
      let before: unknown;
      beforeEach(async () => {
        gw.config.deleteWithoutCallerIdentity = true;
        before = await deletionState();
      });
      afterEach(async () => {
        expect(await deletionState()).to.deep.equal(before);
      });

      it('UnresolvedReferenceException for an object the registry does not have', async () => {
        const { result } = await remove(['urn:uuid:00000000-0000-4000-8000-0000000000bb']);
        expect(result.errors.map((e) => e.code)).to.deep.equal(['UnresolvedReferenceException']);
      });

      it('ReferencesExistException when an association to the document is left out', async () => {
        const doc = await submitted();
        const { result } = await remove([doc.entryUuid]);
        expect(result.errors.map((e) => e.code)).to.deep.equal(['ReferencesExistException']);
        expect((await retrieve(doc.uniqueId)).status).to.equal('Success');
      });

      it('UnresolvedReferenceException for a document deleted already', async () => {
        const doc = await submitted();
        await remove([doc.entryUuid, doc.membership]);
        before = await deletionState();
        const { result } = await remove([doc.entryUuid, doc.membership]);
        expect(result.errors.map((e) => e.code)).to.deep.equal(['UnresolvedReferenceException', 'UnresolvedReferenceException']);
      });

      it('InvalidRequestException for a request without ObjectRefList', async () => {
        const reply = await gw.post('/xds/iti62', buildIti62Request([], { bodyXml: `<lcm:RemoveObjectsRequest xmlns:lcm="${NS.lcm}"/>` }));
        expect(submissionResult(reply).errors.map((e) => e.code)).to.deep.equal(['InvalidRequestException']);
      });
    });
  });
});
