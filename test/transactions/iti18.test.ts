import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { CdaSchemaValidator } from '../../src/cda/schema.js';
import { DOCUMENT_ENTRY_SCHEME, NS, SOAP_ACTION } from '../../src/ebrim/uuids.js';
import { answerBuffers } from '../../src/xml/buffer-pool.js';
import { child, childrenOf, type XmlElement } from '../../src/xml/tree.js';
import { httpGet, forEachRegistryMode, startTestGateway, type TestGateway } from '../support/gateway.js';
import { buildIti18Request, buildIti41Request, codeSpec, queryList, queryString, soapContentType, type DocSpec } from '../support/requests.js';
import { faultOf, readSoapReply, submissionResult } from '../support/responses.js';

const FIND_DOCUMENTS = 'urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d';
const GET_DOCUMENTS = 'urn:uuid:5c4f972b-d56b-40ac-a5fc-c8ca9b40b9d4';
const APPROVED = 'urn:oasis:names:tc:ebxml-regrep:StatusType:Approved';
const EBRS_DIR = path.resolve(process.cwd(), '../shared/schemas/xds/schema/ebRS');
const XML_XSD = path.resolve(process.cwd(), '../shared/schemas/cda/schema/xml.xsd');

/** The ebRS query schema set in a temporary directory, rim.xsd importing xml.xsd from disk instead of the web. */
async function loadQuerySchema(): Promise<{ validator: CdaSchemaValidator; dispose(): void }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ebrs-'));
  for (const f of ['query.xsd', 'rs.xsd']) writeFileSync(path.join(dir, f), readFileSync(path.join(EBRS_DIR, f)));
  writeFileSync(path.join(dir, 'rim.xsd'), readFileSync(path.join(EBRS_DIR, 'rim.xsd'), 'utf8').replace('http://www.w3.org/2001/xml.xsd', 'xml.xsd'));
  writeFileSync(path.join(dir, 'xml.xsd'), readFileSync(XML_XSD));
  const validator = await CdaSchemaValidator.load(dir, 'query.xsd');
  return {
    validator,
    dispose() {
      validator.dispose();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
const IHE_SAMPLE = path.resolve(process.cwd(), '../shared/samples/xds/RegistryStoredQueryRequest_SOAP.xml');
/** The patient, affinity domain and facility the IHE sample request asks for. */
const SAMPLE_AUTHORITY = '1.3.6.1.4.1.21367.2005.3.7';
const SAMPLE_PATIENT = `st3498702^^^&${SAMPLE_AUTHORITY}&ISO`;
const EMERGENCY = codeSpec('Emergency Department', 'Connect-a-thon healthcareFacilityTypeCodes', 'Emergency Department');

interface QueryView {
  status: string;
  errors: string[];
  objects: XmlElement[];
}

function queryResult(reply: { contentType: string; body: Buffer; text: string; status: number }): QueryView {
  const soap = readSoapReply(reply);
  expect(soap.action).to.equal('urn:ihe:iti:2007:RegistryStoredQueryResponse');
  const body = soap.body;
  expect(body.ns).to.equal(NS.query);
  expect(body.local).to.equal('AdhocQueryResponse');
  const errorList = child(body, NS.rs, 'RegistryErrorList');
  const list = child(body, NS.rim, 'RegistryObjectList')!;
  return {
    status: (body.attrs.status ?? '').split(':').pop()!,
    errors: (errorList?.children ?? []).map((e) => e.attrs.errorCode ?? ''),
    objects: list.children,
  };
}

const uniqueIdOf = (eo: XmlElement): string | undefined =>
  childrenOf(eo, NS.rim, 'ExternalIdentifier').find((e) => e.attrs.identificationScheme === DOCUMENT_ENTRY_SCHEME.uniqueId)?.attrs.value;
const slotOf = (eo: XmlElement, name: string): string[] =>
  childrenOf(eo, NS.rim, 'Slot')
    .find((s) => s.attrs.name === name)
    ?.children.flatMap((l) => l.children.map((v) => v.text)) ?? [];

const textDoc = (title: string, more: Partial<DocSpec> = {}): DocSpec => ({ bytes: Buffer.from(`${title}\n`), mimeType: 'text/plain', title, serviceStartTime: '200412230800', ...more });

forEachRegistryMode((mode) => {
  describe(`ITI-18 Registry Stored Query (${mode})`, function () {
    this.timeout(60_000);
    let gw: TestGateway;
    let uniqueIds: string[];

    before(async () => {
      gw = await startTestGateway(mode, { XDS_PATIENT_AUTHORITY: SAMPLE_AUTHORITY, STORED_QUERY_MAX_RESULTS: '3' });
      expect(await gw.registerPatient(SAMPLE_PATIENT)).to.equal(201);
      const req = buildIti41Request(
        {
          patientId: SAMPLE_PATIENT,
          documents: [
            textDoc('matching', { creationTime: '200412261119', healthcareFacilityType: EMERGENCY }),
            textDoc('created at the To bound', { creationTime: '200501010800', healthcareFacilityType: EMERGENCY }),
            textDoc('other facility', { creationTime: '200412261119' }),
          ],
        },
        'inline',
      );
      const reply = await gw.post('/xds/iti41', req);
      expect(submissionResult(reply).status, reply.text).to.equal('Success');
      uniqueIds = req.uniqueIds.documents;
    });
    after(async () => {
      await gw?.close();
    });

    const query = async (spec: Parameters<typeof buildIti18Request>[0]) => queryResult(await gw.post('/xds/iti18', buildIti18Request(spec)));

    it('answers the IHE sample request with the one matching DocumentEntry as LeafClass', async () => {
      const reply = await gw.post('/xds/iti18', { contentType: soapContentType(SOAP_ACTION.iti18), body: readFileSync(IHE_SAMPLE) });
      const got = queryResult(reply);
      expect(got.status, reply.text).to.equal('Success');
      expect(got.errors).to.deep.equal([]);
      expect(got.objects).to.have.length(1);
      const eo = got.objects[0]!;
      expect(eo.local).to.equal('ExtrinsicObject');
      expect(eo.attrs.status).to.equal(APPROVED);
      expect(uniqueIdOf(eo)).to.equal(uniqueIds[0]);
      expect(slotOf(eo, 'creationTime')).to.deep.equal(['200412261119']);
      expect(slotOf(eo, 'repositoryUniqueId')).to.deep.equal([gw.config.repositoryUniqueId]);
      expect(slotOf(eo, 'size')).to.deep.equal(['9']);
      expect(readSoapReply(reply).relatesTo).to.equal('urn:uuid:a02ca8cd-86fa-4afc-a27c-616c183b2055');
    });

    it('answers LeafClass and ObjectRef responses that are valid against the ebRS 3.0 query schema', async () => {
      const schema = await loadQuerySchema();
      const validator = schema.validator;
      try {
        for (const returnType of ['LeafClass', 'ObjectRef'] as const) {
          const reply = await gw.post('/xds/iti18', buildIti18Request({ queryId: GET_DOCUMENTS, returnType, params: { $XDSDocumentEntryUniqueId: queryList(...uniqueIds) } }));
          const response = /<query:AdhocQueryResponse[\s\S]*<\/query:AdhocQueryResponse>/.exec(reply.text)![0];
          expect(validator.validate(Buffer.from(response)), returnType).to.deep.equal([]);
        }
        const none = await gw.post('/xds/iti18', buildIti18Request({ queryId: GET_DOCUMENTS, params: { $XDSDocumentEntryUniqueId: queryList('1.2.3.4.5.404') } }));
        const empty = /<query:AdhocQueryResponse[\s\S]*<\/query:AdhocQueryResponse>/.exec(none.text)![0];
        expect(empty).to.include('<rim:RegistryObjectList/>');
        expect(validator.validate(Buffer.from(empty))).to.deep.equal([]);
        const failure = await gw.post('/xds/iti18', buildIti18Request({ queryId: GET_DOCUMENTS, params: {} }));
        expect(validator.validate(Buffer.from(/<query:AdhocQueryResponse[\s\S]*<\/query:AdhocQueryResponse>/.exec(failure.text)![0]))).to.deep.equal([]);
      } finally {
        schema.dispose();
      }
    });

    it('answers ObjectRefs when asked', async () => {
      const got = await query({
        queryId: FIND_DOCUMENTS,
        returnType: 'ObjectRef',
        params: { $XDSDocumentEntryPatientId: queryString(SAMPLE_PATIENT), $XDSDocumentEntryStatus: queryList(APPROVED), $XDSDocumentEntryCreationTimeTo: '2006' },
      });
      expect(got.status).to.equal('Success');
      expect(got.objects.map((o) => o.local)).to.deep.equal(['ObjectRef', 'ObjectRef', 'ObjectRef']);
      expect(got.objects.every((o) => /^urn:uuid:/.test(o.attrs.id ?? ''))).to.equal(true);
    });

    it('answers GetDocuments by uniqueId with the full entry, its classifications and external identifiers', async () => {
      const got = await query({ queryId: GET_DOCUMENTS, params: { $XDSDocumentEntryUniqueId: queryList(uniqueIds[2]!) } });
      expect(got.objects).to.have.length(1);
      const eo = got.objects[0]!;
      expect(uniqueIdOf(eo)).to.equal(uniqueIds[2]);
      expect(childrenOf(eo, NS.rim, 'Classification').length).to.be.greaterThan(5);
      expect(child(child(eo, NS.rim, 'Name')!, NS.rim, 'LocalizedString')!.attrs.value).to.equal('other facility');
      expect(eo.attrs.lid).to.match(/^urn:uuid:/);
      expect(child(eo, NS.rim, 'VersionInfo')!.attrs.versionName).to.equal('1');
    });

    it('gives the buffer of a LeafClass answer back to the pool once sent, and writes the next answer into it whole', async () => {
      const getAll = (ids: string[]) => buildIti18Request({ queryId: GET_DOCUMENTS, params: { $XDSDocumentEntryUniqueId: queryList(...ids) } });
      const first = await gw.post('/xds/iti18', getAll(uniqueIds));
      const size = Buffer.byteLength(/<rim:RegistryObjectList>([\s\S]*)<\/rim:RegistryObjectList>/.exec(first.text)![1]!);
      expect(size, 'an answer large enough to be lent a buffer').to.be.at.least(16 * 1024);
      // Take every free buffer of the answer's size out of the pool, so that the one the next answer gives back shows.
      const capacity = answerBuffers.capacityOf(size)!;
      expect(capacity, 'the size of the memory lent for it').to.be.a('number');
      const held: Buffer[] = [];
      while (answerBuffers.kept().get(capacity)) held.push(answerBuffers.acquire(size));
      try {
        const second = await gw.post('/xds/iti18', getAll([...uniqueIds].reverse()));
        // 'finish' comes once the answer is with the operating system, which may be just after the client has read it.
        for (let tries = 0; tries < 50 && !answerBuffers.kept().get(capacity); tries++) await new Promise((r) => setTimeout(r, 20));
        expect(answerBuffers.kept().get(capacity), 'the answer given back').to.equal(1);
        const third = await gw.post('/xds/iti18', getAll([uniqueIds[1]!, uniqueIds[0]!, uniqueIds[2]!]));
        for (const reply of [first, second, third]) expect(queryResult(reply).objects.map(uniqueIdOf).sort()).to.deep.equal([...uniqueIds].sort());
      } finally {
        for (const b of held) answerBuffers.release(b);
      }
    });

    it('leaves logicalId and version out at $MetadataLevel 1', async () => {
      const got = await query({ queryId: GET_DOCUMENTS, params: { $XDSDocumentEntryUniqueId: queryList(uniqueIds[2]!), $MetadataLevel: '1' } });
      expect(got.objects).to.have.length(1);
      expect(got.objects[0]!.attrs.lid).to.equal(undefined);
      expect(child(got.objects[0]!, NS.rim, 'VersionInfo')).to.equal(undefined);
    });

    it('answers XDSTooManyResults above STORED_QUERY_MAX_RESULTS for LeafClass', async () => {
      const got = await query({ queryId: FIND_DOCUMENTS, params: { $XDSDocumentEntryPatientId: queryString(SAMPLE_PATIENT), $XDSDocumentEntryStatus: queryList(APPROVED) } });
      expect(got.status).to.equal('Failure');
      expect(got.errors).to.deep.equal(['XDSTooManyResults']);
      expect(got.objects).to.deep.equal([]);
    });

    it('answers Failure with XDSUnknownStoredQuery and XDSStoredQueryMissingParam', async () => {
      expect((await query({ queryId: 'urn:uuid:11111111-2222-4333-8444-555555555555', params: {} })).errors).to.deep.equal(['XDSUnknownStoredQuery']);
      const missing = await query({ queryId: FIND_DOCUMENTS, params: { $XDSDocumentEntryStatus: queryList(APPROVED) } });
      expect(missing.status).to.equal('Failure');
      expect(missing.errors).to.deep.equal(['XDSStoredQueryMissingParam']);
    });

    it('answers a Sender fault when the Body is not an AdhocQueryRequest', async () => {
      const req = buildIti18Request({ queryId: FIND_DOCUMENTS, params: {} });
      const body = req.body.toString('utf8').replace(/query:AdhocQueryRequest/g, 'query:SomethingElse');
      const reply = await gw.post('/xds/iti18', { contentType: req.contentType, body });
      expect(reply.status).to.equal(400);
      expect(faultOf(reply).reason).to.match(/AdhocQueryRequest/);
    });

    it('serves the registry WSDL at /xds/iti18?wsdl', async () => {
      const reply = await httpGet(`${gw.url}/xds/iti18?wsdl`);
      expect(reply.status).to.equal(200);
      expect(reply.text).to.include('RegistryStoredQuery');
    });
  });
});
