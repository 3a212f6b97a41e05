import { Readable } from 'node:stream';
import { expect } from 'chai';
import { request } from 'undici';
import { buildIti41Request, buildIti43Request, makeLabResult, newPatientId, soapEnvelope } from '../support/requests.js';
import { httpGet, httpPost, startTestGateway, type TestGateway } from '../support/gateway.js';
import { faultOf, readSoapReply, submissionResult } from '../support/responses.js';
import { parseXml } from '../../src/xml/tree.js';

describe('HTTP and SOAP endpoints', function () {
  this.timeout(60_000);
  let gw: TestGateway;

  before(async () => {
    gw = await startTestGateway('postgres', { MAX_REQUEST_BYTES: String(256 * 1024) });
  });
  after(async () => {
    await gw?.close();
  });

  describe('health and information', () => {
    it('answers /health', async () => {
      const reply = await httpGet(`${gw.url}/health`);
      expect(reply.status).to.equal(200);
      expect(JSON.parse(reply.text)).to.deep.equal({ status: 'ok', pid: process.pid });
    });

    it('answers /ready with Redis, database and content store up', async () => {
      const reply = await httpGet(`${gw.url}/ready`);
      expect(reply.status, reply.text).to.equal(200);
      const body = JSON.parse(reply.text);
      expect(body.status).to.equal('ready');
      expect(Object.keys(body.checks).sort()).to.deep.equal(['contentStore', 'database', 'redis']);
    });

    it('describes the gateway at /api/info', async () => {
      const info = JSON.parse((await httpGet(`${gw.url}/api/info`)).text);
      expect(info.repositoryUniqueId).to.equal(gw.config.repositoryUniqueId);
      expect(info.homeCommunityId).to.equal(gw.config.homeCommunityId);
      expect(info.version).to.match(/^\d+\.\d+\.\d+/);
      expect(info.transactions.map((t: { name: string }) => t.name)).to.include.members(['ITI-41', 'ITI-43']);
    });

    it('serves the WSDL of each endpoint with this gateway as address', async () => {
      for (const path of ['/xds/iti41', '/xds/iti43', '/xds']) {
        const reply = await httpGet(`${gw.url}${path}?wsdl`);
        expect(reply.status).to.equal(200);
        expect(reply.contentType).to.match(/xml/);
        parseXml(reply.text);
        expect(reply.text).to.include(gw.url.replace('http://', ''));
        expect(reply.text).to.not.include('{{BASE_URL}}');
      }
    });
  });

  describe('patients', () => {
    const post = (body: string) => httpPost(`${gw.url}/api/patients`, 'application/json', body);

    it('registers a patient of the affinity domain once (201, then 409)', async () => {
      const patientId = newPatientId();
      expect((await post(JSON.stringify({ patientId }))).status).to.equal(201);
      expect((await post(JSON.stringify({ patientId }))).status).to.equal(409);
    });

    it('refuses a malformed patient id, another authority and bad JSON with 400', async () => {
      for (const body of [JSON.stringify({ patientId: 'nonsense' }), JSON.stringify({ patientId: newPatientId('1.2.3') }), '{not json', JSON.stringify({})]) {
        const reply = await post(body);
        expect(reply.status, body).to.equal(400);
        expect(JSON.parse(reply.text).message).to.be.a('string');
      }
    });
  });

  describe('SOAP', () => {
    it('dispatches on the WS-Addressing Action at /xds', async () => {
      const patientId = newPatientId();
      await httpPost(`${gw.url}/api/patients`, 'application/json', JSON.stringify({ patientId }));
      const req = buildIti41Request({ patientId, documents: [{ bytes: makeLabResult(patientId, { sizeKb: 2 }) }] }, 'inline');
      const reply = await gw.post('/xds', req);
      expect(submissionResult(reply).status).to.equal('Success');
      const retrieve = await gw.post('/xds', buildIti43Request([{ repositoryUniqueId: gw.config.repositoryUniqueId, documentUniqueId: req.uniqueIds.documents[0]! }]));
      expect(readSoapReply(retrieve).action).to.equal('urn:ihe:iti:2007:RetrieveDocumentSetResponse');
    });

    it('answers a SOAP 1.1 envelope with a VersionMismatch fault', async () => {
      const body = '<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><x/></s:Body></s:Envelope>';
      const reply = await httpPost(`${gw.url}/xds/iti41`, 'text/xml; charset=utf-8', body);
      expect(reply.status).to.equal(500);
      expect(faultOf(reply).code).to.equal('VersionMismatch');
    });

    it('answers an Action the endpoint does not serve with wsa:ActionNotSupported', async () => {
      const body = soapEnvelope('urn:ihe:iti:2007:RetrieveDocumentSet', '<x xmlns="urn:x"/>');
      const reply = await httpPost(`${gw.url}/xds/iti41`, 'application/soap+xml; charset=utf-8', body);
      expect(reply.status).to.equal(400);
      const fault = faultOf(reply);
      expect(fault.code).to.equal('Sender');
      expect(fault.subcode).to.equal('ActionNotSupported');
      expect(fault.reason).to.include('urn:ihe:iti:2007:RetrieveDocumentSet');
    });

    it('answers an unknown Action at /xds with wsa:ActionNotSupported', async () => {
      const reply = await httpPost(`${gw.url}/xds`, 'application/soap+xml', soapEnvelope('urn:example:nothing', '<x xmlns="urn:x"/>'));
      expect(faultOf(reply).subcode).to.equal('ActionNotSupported');
    });

    it('answers unparsable XML with a Sender fault', async () => {
      const reply = await httpPost(`${gw.url}/xds/iti41`, 'application/soap+xml', '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>');
      expect(reply.status).to.equal(400);
      expect(faultOf(reply).code).to.equal('Sender');
    });

    it('refuses a DOCTYPE (XXE) with a Sender fault and reads no file', async () => {
      const body = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><x>&e;</x></s:Body></s:Envelope>';
      const reply = await httpPost(`${gw.url}/xds/iti41`, 'application/soap+xml', body);
      expect(reply.status).to.equal(400);
      expect(reply.text).to.not.include('root:');
      expect(faultOf(reply).reason).to.match(/DOCTYPE/);
    });

    it('answers a body above MAX_REQUEST_BYTES with 413 and a SOAP fault, before reading it all', async () => {
      const big = Buffer.alloc(1024 * 1024, 'a');
      const reply = await httpPost(`${gw.url}/xds/iti41`, 'application/soap+xml', big);
      expect(reply.status).to.equal(413);
      expect(faultOf(reply).reason).to.match(/limit/);
    });

    it('answers 413 for a chunked body that grows past the limit', async () => {
      async function* chunks() {
        for (let i = 0; i < 64; i++) yield Buffer.alloc(16 * 1024, 'b');
      }
      const res = await request(`${gw.url}/xds/iti41`, { method: 'POST', headers: { 'content-type': 'application/soap+xml' }, body: Readable.from(chunks()) });
      expect(res.statusCode).to.equal(413);
      await res.body.text();
    });

    it('never leaks a stack trace in a fault', async () => {
      const reply = await httpPost(`${gw.url}/xds/iti41`, 'multipart/related; boundary=zzz', Buffer.from('--zzz\r\ngarbage'));
      expect(reply.status).to.equal(400);
      expect(reply.text).to.not.match(/at .*\.ts:\d+/);
      expect(faultOf(reply).code).to.equal('Sender');
    });

    it('answers a Body that is not a ProvideAndRegisterDocumentSetRequest with an XDS error or a fault naming it', async () => {
      const reply = await httpPost(`${gw.url}/xds/iti41`, 'application/soap+xml', soapEnvelope('urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b', '<x xmlns="urn:x"/>'));
      expect(reply.status).to.be.oneOf([200, 400]);
      expect(reply.text).to.match(/ProvideAndRegisterDocumentSetRequest/);
    });
  });
});
