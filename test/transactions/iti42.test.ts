import { expect } from 'chai';
import { ASSOCIATION_TYPE, STATUS } from '../../src/ebrim/uuids.js';
import { forEachRegistryMode, httpGet, startTestGateway, type TestGateway } from '../support/gateway.js';
import { buildIti41Request, buildIti42Request, buildIti43Request, makeLabResult, newOid, newPatientId, type SubmissionSpec } from '../support/requests.js';
import { readSoapReply, retrieveResult, submissionResult } from '../support/responses.js';
import { registeredIds } from './iti57-requests.js';

const PACS_REPOSITORY = '1.2.250.1.999.77.1';

forEachRegistryMode((mode) => {
  describe(`ITI-42 Register Document Set-b (${mode})`, function () {
    this.timeout(60_000);
    let gw: TestGateway;
    let patientId: string;

    before(async () => {
      gw = await startTestGateway(mode, { KNOWN_REPOSITORY_IDS: PACS_REPOSITORY });
      patientId = newPatientId();
      expect(await gw.registerPatient(patientId)).to.equal(201);
    });
    after(async () => {
      await gw?.close();
    });

    async function register(spec: SubmissionSpec, repositoryUniqueId = PACS_REPOSITORY, path = '/xds/iti42') {
      const req = buildIti42Request(spec, repositoryUniqueId);
      const reply = await gw.post(path, req);
      return { req, reply, result: submissionResult(reply) };
    }

    async function statusOf(uniqueId: string): Promise<string> {
      const [row] = await gw.backends.db.query<{ status: string }>('select status from document_entries where unique_id = $1', [uniqueId]);
      return row!.status;
    }

    const counts = () => gw.backends.registry.counts();

    it('registers the metadata of a document held by a known repository, with its hash, size and repositoryUniqueId', async () => {
      const bytes = makeLabResult(patientId, { sizeKb: 4 });
      const { reply, result, req } = await register({ patientId, documents: [{ bytes }] });
      expect(result, reply.text).to.deep.equal({ status: 'Success', errors: [] });
      expect(readSoapReply(reply).action).to.equal('urn:ihe:iti:2007:RegisterDocumentSet-bResponse');
      const [row] = await gw.backends.db.query<{ repository_unique_id: string; content_key: string | null; size: string; status: string }>(
        'select repository_unique_id, content_key, size::text as size, status from document_entries where unique_id = $1',
        [req.uniqueIds.documents[0]],
      );
      expect(row).to.deep.equal({ repository_unique_id: PACS_REPOSITORY, content_key: null, size: String(bytes.length), status: STATUS.approved });
    });

    it('does not serve a registered-only document from this repository (XDSDocumentUniqueIdError)', async () => {
      const { req } = await register({ patientId, documents: [{ bytes: Buffer.from('image report') }] });
      const got = retrieveResult(await gw.post('/xds/iti43', buildIti43Request([{ repositoryUniqueId: gw.config.repositoryUniqueId, documentUniqueId: req.uniqueIds.documents[0]! }])));
      expect(got.errors.map((e) => e.code)).to.deep.equal(['XDSDocumentUniqueIdError']);
    });

    it('is served on /xds too, dispatched on the Action', async () => {
      const { result } = await register({ patientId, documents: [{ bytes: Buffer.from('dispatched') }] }, PACS_REPOSITORY, '/xds');
      expect(result.status).to.equal('Success');
    });

    it('serves its WSDL', async () => {
      const reply = await httpGet(`${gw.url}/xds/iti42?wsdl`);
      expect(reply.status).to.equal(200);
      expect(reply.text).to.contain('urn:ihe:iti:2007:RegisterDocumentSet-b').and.contain(`${gw.url}/xds/iti42`);
    });

    it('replaces a document registered by ITI-41: the original becomes Deprecated and is still retrieved', async () => {
      const bytes = makeLabResult(patientId, { sizeKb: 2 });
      const first = buildIti41Request({ patientId, documents: [{ bytes }] }, 'inline');
      expect(submissionResult(await gw.post('/xds/iti41', first)).status).to.equal('Success');
      const original = await registeredIds(gw, first.uniqueIds.documents[0]!);
      const { result, req } = await register({
        patientId,
        documents: [{ id: 'Replacement', bytes: Buffer.from('corrected report') }],
        associations: [{ type: ASSOCIATION_TYPE.replace, source: 'Replacement', target: original.entryUuid }],
      });
      expect(result.status).to.equal('Success');
      expect(await statusOf(first.uniqueIds.documents[0]!)).to.equal(STATUS.deprecated);
      expect(await statusOf(req.uniqueIds.documents[0]!)).to.equal(STATUS.approved);
      const got = retrieveResult(await gw.post('/xds/iti43', buildIti43Request([{ repositoryUniqueId: gw.config.repositoryUniqueId, documentUniqueId: first.uniqueIds.documents[0]! }])));
      expect(got.status).to.equal('Success');
      expect(got.documents[0]!.bytes.equals(bytes)).to.equal(true);
    });

    describe('refuses a faulty registration and registers nothing', () => {
      let before: Awaited<ReturnType<typeof counts>>;
      beforeEach(async () => {
        before = await counts();
      });
      afterEach(async () => {
        expect(await counts()).to.deep.equal(before);
      });

      it('XDSUnknownRepositoryId for a repository the registry does not know', async () => {
        const { result } = await register({ patientId, documents: [{ bytes: Buffer.from('x') }] }, '1.2.250.1.999.78.1');
        expect(result.errors.map((e) => e.code)).to.deep.equal(['XDSUnknownRepositoryId']);
      });

      it('XDSRegistryMetadataError for an entry without hash', async () => {
        const req = buildIti42Request({ patientId, documents: [{ bytes: Buffer.from('x') }] }, PACS_REPOSITORY);
        const body = Buffer.from(req.body.toString('utf8').replace(/<rim:Slot name="hash">[\s\S]*?<\/rim:Slot>/, ''), 'utf8');
        const result = submissionResult(await gw.post('/xds/iti42', { ...req, body }));
        expect(result.errors.map((e) => e.code)).to.deep.equal(['XDSRegistryMetadataError']);
        expect(result.errors[0]!.context).to.match(/hash/);
      });

      it('XDSUnknownPatientId for a patient the registry does not know', async () => {
        const { result } = await register({ patientId: newPatientId(), documents: [{ bytes: Buffer.from('x') }] });
        expect(result.errors.map((e) => e.code)).to.deep.equal(['XDSUnknownPatientId']);
      });

      it('XDSDuplicateUniqueIdInRegistry for a uniqueId already registered', async () => {
        const uniqueId = newOid();
        await register({ patientId, documents: [{ bytes: Buffer.from('x'), uniqueId }] });
        before = await counts();
        const { result } = await register({ patientId, documents: [{ bytes: Buffer.from('x'), uniqueId }] });
        expect(result.errors.map((e) => e.code)).to.deep.equal(['XDSDuplicateUniqueIdInRegistry']);
      });

      it('XDSRegistryDeprecatedDocumentError when replacing a Deprecated document', async () => {
        const { req } = await register({ patientId, documents: [{ bytes: Buffer.from('v1') }] });
        const original = await registeredIds(gw, req.uniqueIds.documents[0]!);
        const replace = (bytes: string) => register({ patientId, documents: [{ id: 'R', bytes: Buffer.from(bytes) }], associations: [{ type: ASSOCIATION_TYPE.replace, source: 'R', target: original.entryUuid }] });
        expect((await replace('v2')).result.status).to.equal('Success');
        before = await counts();
        const { result } = await replace('v3');
        expect(result.errors.map((e) => e.code)).to.deep.equal(['XDSRegistryDeprecatedDocumentError']);
      });

      it('UnresolvedReferenceException when replacing an unknown document', async () => {
        const { result } = await register({
          patientId,
          documents: [{ id: 'R', bytes: Buffer.from('x') }],
          associations: [{ type: ASSOCIATION_TYPE.replace, source: 'R', target: 'urn:uuid:00000000-0000-4000-8000-0000000000aa' }],
        });
        expect(result.errors.map((e) => e.code)).to.deep.equal(['UnresolvedReferenceException']);
      });

      it('XDSPatientIdDoesNotMatch when replacing another patient’s document', async () => {
        const { req } = await register({ patientId, documents: [{ bytes: Buffer.from('mine') }] });
        const original = await registeredIds(gw, req.uniqueIds.documents[0]!);
        const other = newPatientId();
        expect(await gw.registerPatient(other)).to.equal(201);
        before = await counts();
        const { result } = await register({ patientId: other, documents: [{ id: 'R', bytes: Buffer.from('theirs') }], associations: [{ type: ASSOCIATION_TYPE.replace, source: 'R', target: original.entryUuid }] });
        expect(result.errors.map((e) => e.code)).to.deep.equal(['XDSPatientIdDoesNotMatch']);
        expect(await statusOf(req.uniqueIds.documents[0]!)).to.equal(STATUS.approved);
      });
    });
  });
});
