import net from 'node:net';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { expect } from 'chai';
import { request } from 'undici';
import { buildIti18Request, buildIti41Request, buildIti43Request, makeLabResult, newPatientId, queryList, queryString, soapEnvelope } from '../support/requests.js';
import { httpGet, httpPost, startTestGateway, type HttpReply, type TestGateway } from '../support/gateway.js';
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

    describe('request bodies', () => {
      const findDocuments = () =>
        buildIti18Request({ queryId: 'urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d', params: { $XDSDocumentEntryPatientId: queryString(newPatientId()), $XDSDocumentEntryStatus: queryList('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved') } });
      const answered = (reply: HttpReply) => {
        expect(reply.status, reply.text).to.equal(200);
        expect(readSoapReply(reply).action).to.equal('urn:ihe:iti:2007:RegistryStoredQueryResponse');
      };

      it('reads a body compressed with gzip, deflate or br (Content-Encoding)', async () => {
        const req = findDocuments();
        for (const [encoding, compress] of [
          ['gzip', zlib.gzipSync],
          ['deflate', zlib.deflateSync],
          ['br', zlib.brotliCompressSync],
        ] as const) {
          answered(await httpPost(`${gw.url}/xds/iti18`, req.contentType, compress(req.body), { 'content-encoding': encoding }));
        }
      });

      it('answers an unknown Content-Encoding with 415 and a fault naming it', async () => {
        const req = findDocuments();
        const reply = await httpPost(`${gw.url}/xds/iti18`, req.contentType, req.body, { 'content-encoding': 'compress' });
        expect(reply.status).to.equal(415);
        expect(faultOf(reply).code).to.equal('Sender');
        expect(faultOf(reply).reason).to.include("'compress'");
      });

      it('answers a compressed body that inflates past MAX_REQUEST_BYTES with 413, and corrupt compression with 400', async () => {
        const bomb = zlib.gzipSync(Buffer.alloc(4 * 1024 * 1024, ' '));
        expect(bomb.length).to.be.below(64 * 1024);
        const reply = await httpPost(`${gw.url}/xds/iti18`, 'application/soap+xml', bomb, { 'content-encoding': 'gzip' });
        expect(reply.status).to.equal(413);
        expect(faultOf(reply).reason).to.include('MAX_REQUEST_BYTES');
        const corrupt = await httpPost(`${gw.url}/xds/iti18`, 'application/soap+xml', Buffer.from('not gzip at all'), { 'content-encoding': 'gzip' });
        expect(corrupt.status).to.equal(400);
        expect(faultOf(corrupt).reason).to.match(/could not be decoded as gzip/);
      });

      it('survives a client that goes away in the middle of its body, and serves the next one', async () => {
        await new Promise<void>((resolve, reject) => {
          const socket = net.connect(Number(new URL(gw.url).port), '127.0.0.1', () => {
            socket.write('POST /xds/iti18 HTTP/1.1\r\nHost: x\r\nContent-Type: application/soap+xml\r\nContent-Length: 10000\r\n\r\n<s:Envelope');
            setTimeout(() => socket.destroy(), 50);
          });
          socket.on('close', () => resolve());
          socket.on('error', reject);
        });
        answered(await gw.post('/xds/iti18', findDocuments()));
      });

      it('routes SOAP POSTs as Express did: case-insensitive, trailing slash and query string ignored; other methods are not SOAP', async () => {
        const req = findDocuments();
        for (const path of ['/xds/iti18/', '/XDS/ITI18', '/xds/iti18?x=1']) answered(await httpPost(`${gw.url}${path}`, req.contentType, req.body));
        const put = await request(`${gw.url}/xds/iti18`, { method: 'PUT', body: req.body });
        expect(put.statusCode).to.equal(404);
        await put.body.text();
      });

      it('echoes a well-formed X-Request-Id and makes one otherwise', async () => {
        const req = findDocuments();
        const mine = await request(`${gw.url}/xds/iti18`, { method: 'POST', headers: { 'content-type': req.contentType, 'x-request-id': 'hospital-42.7' }, body: req.body });
        await mine.body.text();
        expect(mine.headers['x-request-id']).to.equal('hospital-42.7');
        const made = await request(`${gw.url}/xds/iti18`, { method: 'POST', headers: { 'content-type': req.contentType, 'x-request-id': 'bad id <script>' }, body: req.body });
        await made.body.text();
        expect(made.headers['x-request-id']).to.match(/^[0-9a-f-]{36}$/);
      });
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
