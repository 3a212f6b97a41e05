import { rm } from 'node:fs/promises';
import { expect } from 'chai';
import { hashBytes } from '../../src/content/store.js';
import { NS } from '../../src/ebrim/uuids.js';
import { retrieveDocumentSet } from '../../src/transactions/iti43.js';
import { child, parseXml } from '../../src/xml/tree.js';
import { buildIti41Request, buildIti43Request, makeLabResult, newOid, newPatientId } from '../support/requests.js';
import { forEachRegistryMode, startTestGateway, type TestGateway } from '../support/gateway.js';
import { faultOf, retrieveResult, submissionResult } from '../support/responses.js';

forEachRegistryMode((mode) => {
  describe(`ITI-43 Retrieve Document Set (${mode})`, function () {
    this.timeout(60_000);
    let gw: TestGateway;
    let stored: { uniqueId: string; bytes: Buffer; mimeType: string }[];
    let patientId: string;

    before(async () => {
      gw = await startTestGateway(mode);
      patientId = newPatientId();
      await gw.registerPatient(patientId);
      const docs = [
        { bytes: makeLabResult(patientId, { sizeKb: 5 }), mimeType: 'text/xml' },
        { bytes: Buffer.from('%PDF-1.4\n%\xe2\xe3\xcf\xd3\nbinary\x00\x01', 'latin1'), mimeType: 'application/pdf' },
      ];
      const req = buildIti41Request({ patientId, documents: docs }, 'mtom');
      expect(submissionResult(await gw.post('/xds/iti41', req)).status).to.equal('Success');
      stored = docs.map((d, i) => ({ ...d, uniqueId: req.uniqueIds.documents[i]! }));
    });
    after(async () => {
      await gw?.close();
    });

    const ask = async (items: { repositoryUniqueId?: string; documentUniqueId: string }[]) =>
      retrieveResult(
        await gw.post(
          '/xds/iti43',
          buildIti43Request(items.map((i) => ({ repositoryUniqueId: i.repositoryUniqueId ?? gw.config.repositoryUniqueId, documentUniqueId: i.documentUniqueId }))),
        ),
      );

    it('returns several documents as MTOM parts, each byte-identical with its mimeType', async () => {
      const got = await ask(stored.map((s) => ({ documentUniqueId: s.uniqueId })));
      expect(got.status).to.equal('Success');
      expect(got.errors).to.deep.equal([]);
      expect(got.documents.map((d) => d.mimeType)).to.deep.equal(['text/xml', 'application/pdf']);
      got.documents.forEach((d, i) => {
        expect(d.documentUniqueId).to.equal(stored[i]!.uniqueId);
        expect(d.repositoryUniqueId).to.equal(gw.config.repositoryUniqueId);
        expect(d.bytes.equals(stored[i]!.bytes)).to.equal(true);
      });
    });

    it('answers XDSDocumentUniqueIdError for an unknown document and PartialSuccess for the rest', async () => {
      const unknown = newOid();
      const got = await ask([{ documentUniqueId: stored[0]!.uniqueId }, { documentUniqueId: unknown }]);
      expect(got.status).to.equal('PartialSuccess');
      expect(got.documents).to.have.length(1);
      expect(got.errors).to.have.length(1);
      expect(got.errors[0]!.code).to.equal('XDSDocumentUniqueIdError');
      expect(got.errors[0]!.location).to.equal(unknown);
    });

    it('answers the documents and the errors each in the order asked when some bytes are missing from the store', async () => {
      const patientId = newPatientId();
      await gw.registerPatient(patientId);
      const lost = makeLabResult(patientId, { sizeKb: 3 });
      const req = buildIti41Request({ patientId, documents: [{ bytes: lost }] }, 'mtom');
      expect(submissionResult(await gw.post('/xds/iti41', req)).status).to.equal('Success');
      await rm(gw.backends.content.pathOf(hashBytes(lost).sha256));
      const lostId = req.uniqueIds.documents[0]!;
      const unknown = newOid();

      const got = await ask([{ documentUniqueId: stored[1]!.uniqueId }, { documentUniqueId: lostId }, { documentUniqueId: unknown }, { documentUniqueId: stored[0]!.uniqueId }]);
      expect(got.status).to.equal('PartialSuccess');
      expect(got.documents.map((d) => d.documentUniqueId)).to.deep.equal([stored[1]!.uniqueId, stored[0]!.uniqueId]);
      expect(got.documents.map((d) => d.bytes.equals(d.documentUniqueId === stored[0]!.uniqueId ? stored[0]!.bytes : stored[1]!.bytes))).to.deep.equal([true, true]);
      expect(got.errors.map((e) => [e.code, e.location])).to.deep.equal([
        ['XDSRepositoryError', lostId],
        ['XDSDocumentUniqueIdError', unknown],
      ]);
    });

    it('hands the audit record the patient of the documents asked for, and leaves it to the audit trail when one is unknown', async () => {
      const retrieve = async (ids: string[]) => {
        const req = buildIti43Request(ids.map((documentUniqueId) => ({ repositoryUniqueId: gw.config.repositoryUniqueId, documentUniqueId })));
        return retrieveDocumentSet(child(parseXml(req.body.toString('utf8')), NS.soap12, 'Body')!.children[0]!, gw.gateway.context);
      };
      expect((await retrieve(stored.map((s) => s.uniqueId))).patientIdsOfAnswer).to.deep.equal([patientId]);
      expect((await retrieve([stored[0]!.uniqueId, newOid()])).patientIdsOfAnswer).to.equal(undefined);
      // Either way, the record of a retrieve names the documents' patient.
      for (const ids of [[stored[1]!.uniqueId], [stored[1]!.uniqueId, newOid()]]) {
        await ask(ids.map((documentUniqueId) => ({ documentUniqueId })));
        const [last] = await gw.gateway.context.registry.db.query<{ patient_ids: string[]; document_ids: string[] }>(
          `select patient_ids, document_ids from audit_events where event_type = 'ITI-43' order by id desc limit 1`,
        );
        expect(last).to.deep.equal({ patient_ids: [patientId], document_ids: ids });
      }
    });

    it('answers XDSUnknownRepositoryId for another repository', async () => {
      const got = await ask([{ repositoryUniqueId: '1.2.3.4.5.6', documentUniqueId: stored[0]!.uniqueId }]);
      expect(got.status).to.equal('Failure');
      expect(got.errors.map((e) => e.code)).to.deep.equal(['XDSUnknownRepositoryId']);
      expect(got.documents).to.have.length(0);
    });

    it('answers Failure when no document is found', async () => {
      const got = await ask([{ documentUniqueId: newOid() }]);
      expect(got.status).to.equal('Failure');
      expect(got.errors.map((e) => e.code)).to.deep.equal(['XDSDocumentUniqueIdError']);
    });

    it('answers a Sender fault naming the missing field of a DocumentRequest', async () => {
      const req = buildIti43Request([{ repositoryUniqueId: gw.config.repositoryUniqueId, documentUniqueId: 'X' }]);
      const body = req.body.toString('utf8').replace(/<(\w+:)?DocumentUniqueId>X<\/(\w+:)?DocumentUniqueId>/, '');
      const reply = await gw.post('/xds/iti43', { contentType: req.contentType, body });
      expect(reply.status).to.equal(400);
      expect(faultOf(reply).reason).to.match(/DocumentUniqueId/);
    });
  });
});
