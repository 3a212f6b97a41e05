import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { buildIti41Request, buildIti43Request, makeLabResult, newOid, newPatientId, replayIheSample, type SubmissionSpec } from '../support/requests.js';
import { forEachRegistryMode, withGatewayAndPatient, type TestGateway } from '../support/gateway.js';
import { retrieveResult, submissionResult, readSoapReply } from '../support/responses.js';

const sha1 = (b: Buffer): string => createHash('sha1').update(b).digest('hex');

forEachRegistryMode((mode) => {
  describe(`ITI-41 Provide and Register Document Set-b (${mode})`, function () {
    this.timeout(60_000);
    let gw: TestGateway;
    let patientId: string;

    withGatewayAndPatient(mode, (g, p) => {
      gw = g;
      patientId = p;
    });

    async function submit(spec: SubmissionSpec, how: 'mtom' | 'inline' = 'mtom') {
      const req = buildIti41Request(spec, how);
      const reply = await gw.post('/xds/iti41', req);
      return { req, reply, result: submissionResult(reply) };
    }

    async function retrieve(uniqueIds: string[], repositoryUniqueId = gw.config.repositoryUniqueId) {
      const req = buildIti43Request(uniqueIds.map((documentUniqueId) => ({ repositoryUniqueId, documentUniqueId })));
      return retrieveResult(await gw.post('/xds/iti43', req));
    }

    async function expectNothingRegistered(before: { documentEntries: number; submissionSets: number }) {
      const now = await gw.backends.registry.counts();
      expect(now.documentEntries).to.equal(before.documentEntries);
      expect(now.submissionSets).to.equal(before.submissionSets);
    }

    it('accepts an MTOM submission and retrieves the document byte-identical with its mimeType', async () => {
      const bytes = makeLabResult(patientId, { sizeKb: 45 });
      const { reply, result, req } = await submit({ patientId, documents: [{ bytes }] }, 'mtom');
      expect(result, reply.text).to.deep.equal({ status: 'Success', errors: [] });
      expect(readSoapReply(reply).action).to.equal('urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-bResponse');
      expect(readSoapReply(reply).relatesTo).to.equal(req.messageId);

      const got = await retrieve(req.uniqueIds.documents);
      expect(got.status).to.equal('Success');
      expect(got.documents).to.have.length(1);
      expect(got.documents[0]!.mimeType).to.equal('text/xml');
      expect(got.documents[0]!.bytes.equals(bytes)).to.equal(true);
    });

    it('accepts documents sent inline as base64', async () => {
      const bytes = makeLabResult(patientId, { sizeKb: 10 });
      const { result, req } = await submit({ patientId, documents: [{ bytes }] }, 'inline');
      expect(result.status).to.equal('Success');
      const got = await retrieve(req.uniqueIds.documents);
      expect(got.documents[0]!.bytes.equals(bytes)).to.equal(true);
    });

    it('keeps the mimeType and every slot as submitted and adds hash, size and repositoryUniqueId', async () => {
      const bytes = Buffer.from([0, 1, 2, 255, 13, 10, 45, 45, 0x80]);
      const { result, req } = await submit({
        patientId,
        documents: [{ bytes, mimeType: 'text/goofy', extraSlots: [{ name: 'urn:example:custom', values: ['a', 'b & c'] }] }],
      });
      expect(result.status).to.equal('Success');
      const got = await retrieve(req.uniqueIds.documents);
      expect(got.documents[0]!.mimeType).to.equal('text/goofy');
      expect(got.documents[0]!.bytes.equals(bytes)).to.equal(true);

      const [row] = await gw.backends.db.query<{ rim: { mimeType: string; slots: { name: string; values: string[] }[] } }>(
        'SELECT rim FROM document_entries WHERE unique_id = $1',
        [req.uniqueIds.documents[0]],
      );
      const slots = new Map(row!.rim.slots.map((s) => [s.name, s.values]));
      expect(row!.rim.mimeType).to.equal('text/goofy');
      expect(slots.get('urn:example:custom')).to.deep.equal(['a', 'b & c']);
      expect(slots.get('hash')).to.deep.equal([sha1(bytes)]);
      expect(slots.get('size')).to.deep.equal([String(bytes.length)]);
      expect(slots.get('repositoryUniqueId')).to.deep.equal([gw.config.repositoryUniqueId]);
    });

    it('accepts a hash slot that matches the bytes in upper case', async () => {
      const bytes = makeLabResult(patientId, { sizeKb: 2 });
      const { result } = await submit({ patientId, documents: [{ bytes, hash: sha1(bytes).toUpperCase(), size: bytes.length }] });
      expect(result.status).to.equal('Success');
    });

    it('registers a multi-document submission as a whole', async () => {
      const docs = [1, 2, 3].map(() => ({ bytes: makeLabResult(patientId, { sizeKb: 3 }) }));
      const { result, req } = await submit({ patientId, documents: docs });
      expect(result.status).to.equal('Success');
      const got = await retrieve(req.uniqueIds.documents);
      expect(got.documents.map((d) => d.bytes.toString('base64'))).to.deep.equal(docs.map((d) => d.bytes.toString('base64')));
    });

    it('accepts a replay of the IHE sample request with fresh ids', async () => {
      const ihePatient = newPatientId(gw.config.patientAuthority);
      expect(await gw.registerPatient(ihePatient)).to.equal(201);
      // The sample's sourceId (3670984664) is not an OID as ITI TF-3 requires: it is replaced like the other ids.
      const req = replayIheSample({ patientId: ihePatient, sourceId: newOid() });
      const reply = await gw.post('/xds/iti41', req);
      expect(submissionResult(reply), reply.text).to.deep.equal({ status: 'Success', errors: [] });
      const got = await retrieve(req.uniqueIds.documents);
      expect(got.status).to.equal('Success');
    });

    describe('refuses a faulty submission with the XDS error code and registers nothing', () => {
      let counts: { documentEntries: number; submissionSets: number };
      beforeEach(async () => {
        counts = await gw.backends.registry.counts();
      });
      afterEach(async () => {
        await expectNothingRegistered(counts);
      });

      it('XDSMissingDocument when a DocumentEntry has no document', async () => {
        const { result } = await submit({ patientId, documents: [{ id: 'Doc1', bytes: Buffer.from('x') }], omitDocumentBytesFor: ['Doc1'] });
        expect(result.status).to.equal('Failure');
        expect(result.errors.map((e) => e.code)).to.include('XDSMissingDocument');
      });

      it('XDSMissingDocumentMetadata when a document has no DocumentEntry', async () => {
        const { result } = await submit({
          patientId,
          documents: [{ bytes: Buffer.from('a') }],
          extraDocumentsWithoutMetadata: [{ id: 'Orphan', bytes: Buffer.from('b') }],
        });
        expect(result.errors.map((e) => e.code)).to.include('XDSMissingDocumentMetadata');
      });

      it('XDSRepositoryDuplicateUniqueIdInMessage when two documents share a uniqueId', async () => {
        const uniqueId = newOid();
        const { result } = await submit({ patientId, documents: [{ bytes: Buffer.from('a'), uniqueId }, { bytes: Buffer.from('b'), uniqueId }] });
        expect(result.errors.map((e) => e.code)).to.include('XDSRepositoryDuplicateUniqueIdInMessage');
      });

      it('XDSRepositoryMetadataError when the hash slot disagrees with the bytes', async () => {
        const { result } = await submit({ patientId, documents: [{ bytes: Buffer.from('abc'), hash: sha1(Buffer.from('abd')) }] });
        expect(result.errors.map((e) => e.code)).to.deep.equal(['XDSRepositoryMetadataError']);
        expect(result.errors[0]!.context).to.match(/hash/);
      });

      it('XDSRepositoryMetadataError when the size slot disagrees with the bytes', async () => {
        const { result } = await submit({ patientId, documents: [{ bytes: Buffer.from('abc'), size: 4 }] });
        expect(result.errors.map((e) => e.code)).to.deep.equal(['XDSRepositoryMetadataError']);
        expect(result.errors[0]!.context).to.match(/size/);
      });

      it('XDSRegistryMetadataError when a required slot is missing', async () => {
        const req = buildIti41Request({ patientId, documents: [{ bytes: Buffer.from('abc') }] }, 'inline');
        const text = req.body.toString('utf8').replace(/<rim:Slot name="creationTime">[\s\S]*?<\/rim:Slot>/, '');
        const result = submissionResult(await gw.post('/xds/iti41', { contentType: req.contentType, body: text }));
        expect(result.errors.map((e) => e.code)).to.include('XDSRegistryMetadataError');
        expect(result.errors.find((e) => e.code === 'XDSRegistryMetadataError')!.context).to.match(/creationTime/);
      });

      it('XDSUnknownPatientId when the patient is not registered', async () => {
        const { result } = await submit({ patientId: newPatientId(), documents: [{ bytes: Buffer.from('abc') }] });
        expect(result.errors.map((e) => e.code)).to.include('XDSUnknownPatientId');
      });

      it('XDSUnknownPatientId when the patient id is of another assigning authority', async () => {
        const { result } = await submit({ patientId: newPatientId('1.2.3.4.5'), documents: [{ bytes: Buffer.from('abc') }] });
        expect(result.errors.map((e) => e.code)).to.include('XDSUnknownPatientId');
      });

      it('XDSPatientIdDoesNotMatch when a DocumentEntry names another patient than its SubmissionSet', async () => {
        const other = newPatientId();
        await gw.registerPatient(other);
        const { result } = await submit({ patientId, documents: [{ bytes: Buffer.from('abc'), patientId: other }] });
        expect(result.errors.map((e) => e.code)).to.include('XDSPatientIdDoesNotMatch');
      });

      it('XDSDuplicateUniqueIdInRegistry when the same document is submitted again', async () => {
        const bytes = Buffer.from('same bytes');
        const uniqueId = newOid();
        expect((await submit({ patientId, documents: [{ bytes, uniqueId }] })).result.status).to.equal('Success');
        counts = await gw.backends.registry.counts();
        const { result } = await submit({ patientId, documents: [{ bytes, uniqueId }] });
        expect(result.errors.map((e) => e.code)).to.deep.equal(['XDSDuplicateUniqueIdInRegistry']);
      });

      it('XDSNonIdenticalHash when a registered uniqueId comes back with other bytes', async () => {
        const uniqueId = newOid();
        expect((await submit({ patientId, documents: [{ bytes: Buffer.from('first'), uniqueId }] })).result.status).to.equal('Success');
        counts = await gw.backends.registry.counts();
        const { result } = await submit({ patientId, documents: [{ bytes: Buffer.from('second'), uniqueId }] });
        expect(result.errors.map((e) => e.code)).to.deep.equal(['XDSNonIdenticalHash']);
      });

      it('nothing of a multi-document submission when one document is refused', async () => {
        const uniqueId = newOid();
        expect((await submit({ patientId, documents: [{ bytes: Buffer.from('one'), uniqueId }] })).result.status).to.equal('Success');
        counts = await gw.backends.registry.counts();
        const fresh = { bytes: Buffer.from('fresh document') };
        const { result, req } = await submit({ patientId, documents: [fresh, { bytes: Buffer.from('other'), uniqueId }] });
        expect(result.status).to.equal('Failure');
        const got = await retrieve([req.uniqueIds.documents[0]!]);
        expect(got.errors.map((e) => e.code)).to.deep.equal(['XDSDocumentUniqueIdError']);
      });

      it('all metadata errors of a request together', async () => {
        const { result } = await submit({
          patientId,
          documents: [
            { bytes: Buffer.from('a'), hash: 'ab'.repeat(20) },
            { bytes: Buffer.from('b'), size: 99 },
          ],
        });
        expect(result.errors.filter((e) => e.code === 'XDSRepositoryMetadataError')).to.have.length(2);
      });
    });
  });
});
