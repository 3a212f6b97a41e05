import { expect } from 'chai';
import { request } from 'undici';
import { SOAP_ACTION } from '../../src/ebrim/uuids.js';
import { forEachRegistryMode, httpPost, startTestGateway, type TestGateway } from '../support/gateway.js';
import { buildIti18Request, buildIti41Request, buildIti43Request, codeSpec, makeLabResult, newOid, newPatientId, queryString, soapContentType, soapEnvelope } from '../support/requests.js';
import { faultOf, retrieveResult, submissionResult } from '../support/responses.js';
import type { Exposition } from './exposition.js';
import { eventually, metricsOf } from './scrape.js';

const FIND_DOCUMENTS = 'urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d';
const TRANSACTIONS = ['ITI-41', 'ITI-43', 'ITI-18', 'ITI-42', 'ITI-57', 'ITI-62'];

/** Each histogram series: cumulative buckets, +Inf bucket equal to _count. */
function expectConsistentHistogram(m: Exposition, family: string, label: string, value: string): void {
  const buckets = m.all(`${family}_bucket`).filter((s) => s.labels[label] === value);
  expect(buckets.length, `${family}{${label}="${value}"} buckets`).to.be.greaterThan(1);
  const bounds = buckets.map((s) => (s.labels.le === '+Inf' ? Infinity : Number(s.labels.le)));
  expect(bounds).to.deep.equal([...bounds].sort((a, b) => a - b));
  for (let i = 1; i < buckets.length; i++) expect(buckets[i]!.value).to.be.at.least(buckets[i - 1]!.value);
  expect(buckets.at(-1)!.labels.le).to.equal('+Inf');
  expect(buckets.at(-1)!.value).to.equal(m.value(`${family}_count`, { [label]: value }));
}

forEachRegistryMode((mode) => {
  describe(`GET /metrics after a mix of transactions (${mode})`, function () {
    this.timeout(90_000);
    let gw: TestGateway;
    let m: Exposition;
    let registeredPatient: string;

    before(async () => {
      gw = await startTestGateway(mode);
      registeredPatient = newPatientId();
      expect(await gw.registerPatient(registeredPatient)).to.equal(201);

      const accepted = buildIti41Request({ patientId: registeredPatient, documents: [{ bytes: makeLabResult(registeredPatient, { sizeKb: 8 }) }] }, 'mtom');
      expect(submissionResult(await gw.post('/xds/iti41', accepted)).status).to.equal('Success');

      const stranger = newPatientId();
      const unknownPatient = submissionResult(await gw.post('/xds/iti41', buildIti41Request({ patientId: stranger, documents: [{ bytes: makeLabResult(stranger, { sizeKb: 4 }) }] }, 'mtom')));
      expect(unknownPatient.status).to.equal('Failure');
      expect(unknownPatient.errors.map((e) => e.code)).to.deep.equal(['XDSUnknownPatientId']);

      // One document whose typeCode (and so the builder's formatCode) contradicts its header, one that lacks a
      // templateId its type (CR-BIO) requires.
      const withoutTemplate = Buffer.from(makeLabResult(registeredPatient, { sizeKb: 4 }).toString('utf8').replace('<templateId root="1.2.250.1.213.1.1.1.55"/>', ''), 'utf8');
      const brokenCda = submissionResult(
        await gw.post(
          '/xds/iti41',
          buildIti41Request(
            {
              patientId: registeredPatient,
              documents: [
                { bytes: makeLabResult(registeredPatient, { sizeKb: 4 }), typeCode: codeSpec('11488-4', '2.16.840.1.113883.6.1', 'Consultation note') },
                { bytes: withoutTemplate },
              ],
            },
            'mtom',
          ),
        ),
      );
      expect(brokenCda.status).to.equal('Failure');
      expect(brokenCda.errors.map((e) => e.code).sort()).to.deep.equal(['XDSRepositoryError', 'XDSRepositoryMetadataError', 'XDSRepositoryMetadataError']);

      const wrongAction = await gw.post('/xds/iti41', { contentType: soapContentType(SOAP_ACTION.iti43), body: soapEnvelope(SOAP_ACTION.iti43, '<x:Nothing xmlns:x="urn:x"/>') });
      expect(faultOf(wrongAction).subcode).to.equal('ActionNotSupported');
      const malformed = await gw.post('/xds/iti43', { contentType: soapContentType(SOAP_ACTION.iti43), body: '<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Body>' });
      expect(faultOf(malformed)).to.include({ code: 'Sender', subcode: undefined });

      const repositoryUniqueId = gw.config.repositoryUniqueId;
      const retrieved = retrieveResult(await gw.post('/xds/iti43', buildIti43Request([{ repositoryUniqueId, documentUniqueId: accepted.uniqueIds.documents[0]! }])));
      expect(retrieved.status).to.equal('Success');
      const partial = retrieveResult(
        await gw.post(
          '/xds/iti43',
          buildIti43Request([
            { repositoryUniqueId, documentUniqueId: accepted.uniqueIds.documents[0]! },
            { repositoryUniqueId, documentUniqueId: newOid() },
          ]),
        ),
      );
      expect(partial.status).to.equal('PartialSuccess');

      const query = await gw.post('/xds/iti18', buildIti18Request({ queryId: FIND_DOCUMENTS, params: { $XDSDocumentEntryPatientId: queryString(registeredPatient), $XDSDocumentEntryStatus: "('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')" } }));
      expect(query.text).to.contain('ResponseStatusType:Success');

      // The worker records a job when its own 'completed' event fires, which may come just after the answer.
      await eventually('the index job duration', async () => (await metricsOf(gw.url)).value('xdsgw_job_duration_seconds_count', { queue: 'index' }) === 1);
      m = await metricsOf(gw.url);
    });
    after(async () => {
      await gw?.close();
    });

    it('counts requests by transaction and outcome, every transaction starting at zero', () => {
      const count = (transaction: string, outcome: string) => m.value('xdsgw_requests_total', { transaction, outcome });
      expect(m.types.get('xdsgw_requests_total')).to.equal('counter');
      expect([count('ITI-41', 'Success'), count('ITI-41', 'Failure'), count('ITI-41', 'Fault'), count('ITI-41', 'PartialSuccess')]).to.deep.equal([1, 2, 1, 0]);
      expect([count('ITI-43', 'Success'), count('ITI-43', 'PartialSuccess'), count('ITI-43', 'Failure'), count('ITI-43', 'Fault')]).to.deep.equal([1, 1, 0, 1]);
      expect(count('ITI-18', 'Success')).to.equal(1);
      for (const t of TRANSACTIONS.slice(3)) for (const o of ['Success', 'PartialSuccess', 'Failure', 'Fault']) expect(count(t, o), `${t} ${o}`).to.equal(0);
    });

    it('counts each returned XDS error code and each SOAP fault by its subcode, or its code when it has none', () => {
      const errors = m.all('xdsgw_errors_total').map((s) => `${s.labels.transaction} ${s.labels.code} ${s.value}`).sort();
      expect(errors).to.deep.equal([
        'ITI-41 Fault:wsa:ActionNotSupported 1',
        'ITI-41 XDSRepositoryError 1',
        'ITI-41 XDSRepositoryMetadataError 2',
        'ITI-41 XDSUnknownPatientId 1',
        'ITI-43 Fault:Sender 1',
        'ITI-43 XDSDocumentUniqueIdError 1',
      ]);
    });

    it('counts CDA validation failures by the rule broken', () => {
      const rules = m.all('xdsgw_cda_validation_failures_total').map((s) => `${s.labels.rule} ${s.value}`).sort();
      expect(rules).to.deep.equal(['CR-BIO:templateId:1.2.250.1.213.1.1.1.55 1', 'consistency:formatCode 1', 'consistency:typeCode 1']);
    });

    it('observes one request duration per answer, in consistent histograms', () => {
      expect(m.types.get('xdsgw_request_duration_seconds')).to.equal('histogram');
      expect(m.value('xdsgw_request_duration_seconds_count', { transaction: 'ITI-41' })).to.equal(4);
      expect(m.value('xdsgw_request_duration_seconds_count', { transaction: 'ITI-43' })).to.equal(3);
      expect(m.value('xdsgw_request_duration_seconds_count', { transaction: 'ITI-18' })).to.equal(1);
      for (const t of ['ITI-41', 'ITI-43', 'ITI-18']) {
        expectConsistentHistogram(m, 'xdsgw_request_duration_seconds', 'transaction', t);
        expect(m.value('xdsgw_request_duration_seconds_sum', { transaction: t })).to.be.greaterThan(0);
      }
      const bounds = m.all('xdsgw_request_duration_seconds_bucket').filter((s) => s.labels.transaction === 'ITI-41').map((s) => s.labels.le);
      expect(bounds[0]).to.equal('0.001');
      expect(bounds).to.include('30');
    });

    it('observes the job of the accepted submission', () => {
      expect(m.value('xdsgw_job_duration_seconds_count', { queue: 'index' })).to.equal(1);
      expectConsistentHistogram(m, 'xdsgw_job_duration_seconds', 'queue', 'index');
    });

    it('reports the job counts of the submission queue in every state', () => {
      for (const queue of ['index']) {
        for (const state of ['waiting', 'active', 'delayed', 'failed']) expect(m.value('xdsgw_queue_jobs', { queue, state }), `${queue} ${state}`).to.equal(0);
        expect(m.value('xdsgw_queue_jobs', { queue, state: 'completed' }), `${queue} completed`).to.equal(1);
      }
    });

    it('reports the registry size by object type', async () => {
      // The accepted submission: its document and the gateway's DSG signature document, each with a HasMember
      // association, and the signature's `signs` association.
      expect(Object.fromEntries(m.all('xdsgw_registry_objects').map((s) => [s.labels.type, s.value]))).to.deep.equal({
        documents: 2,
        submission_sets: 1,
        folders: 0,
        associations: 3,
        patients: 1,
      });
      const [row] = await gw.backends.db.query<{ n: string }>('select count(*) as n from document_entries');
      expect(Number(row!.n)).to.equal(2);
    });

    it('answers a burst of concurrent scrapes, each complete', async () => {
      const burst = await Promise.all(Array.from({ length: 20 }, () => metricsOf(gw.url)));
      for (const b of burst) {
        expect(b.value('xdsgw_registry_objects', { type: 'documents' })).to.equal(2);
        expect(b.value('xdsgw_queue_jobs', { queue: 'index', state: 'completed' })).to.equal(1);
        expect(b.value('xdsgw_requests_total', { transaction: 'ITI-18', outcome: 'Success' })).to.equal(1);
      }
    });

    it('includes the process metrics, prefixed xdsgw_', () => {
      expect(m.types.get('xdsgw_process_cpu_seconds_total')).to.equal('counter');
      expect(m.value('xdsgw_process_resident_memory_bytes')).to.be.greaterThan(0);
      expect(m.types.get('xdsgw_nodejs_eventloop_lag_seconds')).to.equal('gauge');
    });

    it('exposes the prom-client registry to the rest of the gateway', async () => {
      const metric = gw.gateway.context.metrics!.registry.getSingleMetric('xdsgw_requests_total');
      const values = (await metric!.get()).values.filter((v) => v.labels.transaction === 'ITI-18' && v.labels.outcome === 'Success');
      expect(values.map((v) => v.value)).to.deep.equal([1]);
    });
  });
});

describe('GET /metrics with METRICS_TOKEN', function () {
  this.timeout(60_000);
  const token = 'scrape-token-0123456789abcdef';
  let gw: TestGateway;

  before(async () => {
    gw = await startTestGateway('postgres', { METRICS_TOKEN: token });
  });
  after(async () => {
    await gw?.close();
  });

  it('refuses a scrape without the bearer token or with another one, with 401 and a challenge', async () => {
    for (const headers of [{}, { authorization: `Bearer ${token}x` }, { authorization: `Basic ${Buffer.from(`x:${token}`).toString('base64')}` }]) {
      const res = await request(`${gw.url}/metrics`, { headers });
      expect(res.statusCode).to.equal(401);
      expect(res.headers['www-authenticate']).to.equal('Bearer realm="metrics"');
      expect(await res.body.json()).to.deep.include({ error: 'unauthorized' });
    }
  });

  it('answers a scrape that presents the token', async () => {
    const m = await metricsOf(gw.url, { authorization: `Bearer ${token}` });
    expect(m.value('xdsgw_requests_total', { transaction: 'ITI-41', outcome: 'Success' })).to.equal(0);
  });

  it('leaves the other endpoints as they were', async () => {
    const reply = await httpPost(`${gw.url}/api/patients`, 'application/json', JSON.stringify({ patientId: newPatientId() }));
    expect(reply.status).to.equal(201);
  });
});

describe('several gateways in one process', function () {
  this.timeout(60_000);

  it('keep their metrics apart', async () => {
    const [a, b] = await Promise.all([startTestGateway('postgres'), startTestGateway('postgres')]);
    try {
      const patientId = newPatientId();
      expect(await a.registerPatient(patientId)).to.equal(201);
      await a.post('/xds/iti18', buildIti18Request({ queryId: FIND_DOCUMENTS, params: { $XDSDocumentEntryPatientId: queryString(patientId), $XDSDocumentEntryStatus: "('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')" } }));
      const [ma, mb] = await Promise.all([metricsOf(a.url), metricsOf(b.url)]);
      expect(ma.value('xdsgw_requests_total', { transaction: 'ITI-18', outcome: 'Success' })).to.equal(1);
      expect(mb.value('xdsgw_requests_total', { transaction: 'ITI-18', outcome: 'Success' })).to.equal(0);
      expect(ma.value('xdsgw_registry_objects', { type: 'patients' })).to.equal(1);
      expect(mb.value('xdsgw_registry_objects', { type: 'patients' })).to.equal(0);
      expect(a.gateway.context.metrics!.registry).to.not.equal(b.gateway.context.metrics!.registry);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
