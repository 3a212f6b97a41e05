import { expect } from 'chai';
import { CdaValidator } from '../../src/cda/validate-document.js';
import type { CdaIssue } from '../../src/cda/issues.js';
import { registryErrorListXml, registryResponseXml } from '../../src/ebrim/response.js';
import { NS, RESPONSE_STATUS } from '../../src/ebrim/uuids.js';
import { XdsError } from '../../src/errors.js';
import { CachedReading } from '../../src/metrics/cached-reading.js';
import { cdaRuleOf } from '../../src/metrics/cda-rules.js';
import { GatewayMetrics, transactionOfEndpoint } from '../../src/metrics/gateway-metrics.js';
import { forEachErrorCode, responseOutcome } from '../../src/metrics/registry-response.js';
import { entryFor, mutated, removeAll } from '../cda/helpers.js';
import { makeLabResult, newPatientId } from '../support/requests.js';
import { parseExposition } from './exposition.js';

const codesOf = (body: string): string[] => {
  const codes: string[] = [];
  forEachErrorCode(body, (c) => codes.push(c));
  return codes;
};

describe('reading the outcome and error codes of a response body', () => {
  it('reads Success, Failure and PartialSuccess from rs:RegistryResponse', () => {
    expect(responseOutcome(registryResponseXml([]))).to.equal('Success');
    expect(responseOutcome(registryResponseXml([new XdsError('XDSRepositoryError', 'x', undefined, 'Warning')]))).to.equal('Success');
    expect(responseOutcome(registryResponseXml([new XdsError('XDSUnknownPatientId', 'x')]))).to.equal('Failure');
    expect(responseOutcome(registryResponseXml([new XdsError('XDSDocumentUniqueIdError', 'x')], { partialSuccess: true }))).to.equal('PartialSuccess');
  });

  it('reads every error code, Warnings included, in order', () => {
    const body = registryResponseXml([
      new XdsError('XDSRegistryMetadataError', 'slot "creationTime" is missing errorCode="XDSFake"', 'Document01'),
      new XdsError('XDSRepositoryError', 'optional section absent', 'Document02', 'Warning'),
      new XdsError('XDSRegistryMetadataError', 'another one'),
    ]);
    expect(codesOf(body)).to.deep.equal(['XDSRegistryMetadataError', 'XDSRepositoryError', 'XDSRegistryMetadataError']);
    expect(codesOf(registryResponseXml([]))).to.deep.equal([]);
  });

  it('reads the list of an ITI-43 answer and of an ITI-18 answer, never the objects after it', () => {
    const retrieve = `<xdsb:RetrieveDocumentSetResponse xmlns:xdsb="${NS.xdsb}" xmlns:rs="${NS.rs}">${registryResponseXml([new XdsError('XDSDocumentUniqueIdError', 'unknown')], { partialSuccess: true })}<xdsb:DocumentResponse/></xdsb:RetrieveDocumentSetResponse>`;
    expect([responseOutcome(retrieve), ...codesOf(retrieve)]).to.deep.equal(['PartialSuccess', 'XDSDocumentUniqueIdError']);
    // A slot value in the result that looks like an error must not be counted.
    const objects = '<rim:ExtrinsicObject><rim:Slot name="x"><rim:ValueList><rim:Value>errorCode="XDSFake"</rim:Value></rim:ValueList></rim:Slot></rim:ExtrinsicObject>';
    const query = (errors: XdsError[]) =>
      `<query:AdhocQueryResponse xmlns:query="${NS.query}" xmlns:rim="${NS.rim}" xmlns:rs="${NS.rs}" status="${errors.length ? RESPONSE_STATUS.failure : RESPONSE_STATUS.success}">${registryErrorListXml(errors)}<rim:RegistryObjectList>${objects}</rim:RegistryObjectList></query:AdhocQueryResponse>`;
    expect([responseOutcome(query([])), ...codesOf(query([]))]).to.deep.equal(['Success']);
    expect(codesOf(query([new XdsError('XDSTooManyResults', 'too many')]))).to.deep.equal(['XDSTooManyResults']);
  });

  it('names the transaction of a dedicated endpoint for faults raised before the Action is read', () => {
    expect(['/xds/iti41', '/xds/iti43/', '/XDS/ITI18', '/xds', '/xds/other'].map(transactionOfEndpoint)).to.deep.equal(['ITI-41', 'ITI-43', 'ITI-18', 'unknown', 'unknown']);
  });
});

describe('the rule of a CDA validation failure', function () {
  this.timeout(30_000);
  let validator: CdaValidator;
  const patientId = newPatientId();

  before(async () => {
    validator = await CdaValidator.load();
  });
  after(() => validator?.dispose());

  const rulesOf = (bytes: Buffer, withEntry = false): string[] => {
    const report = validator.validate(bytes, withEntry ? entryFor({ bytes }, patientId) : undefined);
    return [...new Set(report.issues.filter((i) => i.severity === 'Error').map((i) => cdaRuleOf(i, report.type)))].sort();
  };

  it('gives no rule for a valid document', () => {
    expect(rulesOf(makeLabResult(patientId, { sizeKb: 4 }), true)).to.deep.equal([]);
  });

  it('names the document type rule broken, with the templateId or header path of the rule file', () => {
    const lab = makeLabResult(patientId, { sizeKb: 4 });
    const noLegal = mutated(lab, (doc) => removeAll(doc, '/hl7:ClinicalDocument/hl7:legalAuthenticator'));
    expect(rulesOf(noLegal.bytes)).to.deep.equal(['CR-BIO:header:legalAuthenticator/assignedEntity']);
    const noSection = mutated(lab, (doc) => removeAll(doc, "//hl7:section[hl7:templateId/@root='1.3.6.1.4.1.19376.1.3.3.2.1']/.."));
    expect(noSection.changed).to.be.greaterThan(0);
    expect(rulesOf(noSection.bytes)).to.include('CR-BIO:section:1.3.6.1.4.1.19376.1.3.3.2.1');
    const otherCode = Buffer.from(lab.toString('utf8').replace('<code code="11502-2"', '<code code="11488-4"'), 'utf8');
    expect(rulesOf(otherCode)).to.deep.equal(['CR-BIO:code']);
  });

  it('counts every schema problem under one rule', () => {
    const lab = makeLabResult(patientId, { sizeKb: 4 }).toString('utf8');
    expect(rulesOf(Buffer.from(lab.replace('<title>', '<bogus/><title>'), 'utf8'))).to.deep.equal(['schema']);
    expect(rulesOf(Buffer.from('<ClinicalDocument xmlns="urn:hl7-org:v3"><unclosed></ClinicalDocument>'))).to.deep.equal(['schema']);
  });

  it('never takes a label value from the submitted document', () => {
    const issue = (kind: CdaIssue['kind'], message: string): CdaIssue => ({ kind, severity: 'Error', message });
    const hostile = 'DocumentEntry.x\u0000{evil="1"} \n';
    expect(cdaRuleOf(issue('consistency', `CDA author ${hostile} (1.2.3) is missing from DocumentEntry.author`), 'CR-BIO')).to.equal('consistency:author');
    expect(cdaRuleOf(issue('consistency', `DocumentEntry.${hostile} does not match`), 'CR-BIO')).to.equal('consistency:other');
    expect(cdaRuleOf(issue('type', `CR-BIO: ClinicalDocument/code is ${hostile}, expected 11502-2`), 'CR-BIO')).to.equal('CR-BIO:code');
    expect(cdaRuleOf(issue('type', `CR-BIO: section "x" (templateId ${hostile}) has code`), 'CR-BIO')).to.equal('CR-BIO:other');
    expect(cdaRuleOf(issue('type', 'document type unknown to this gateway (ClinicalDocument/templateId 1.2.3); unknown types are refused'), undefined)).to.equal('type:unknown');
  });
});

describe('recording into a gateway metrics registry', () => {
  it('counts each rule once per document and never the Warnings', async () => {
    const metrics = new GatewayMetrics();
    const error = (message: string): CdaIssue => ({ kind: 'type', severity: 'Error', message });
    metrics.cdaReport({
      type: 'CR-BIO',
      valid: false,
      issues: [
        error('CR-BIO: ClinicalDocument/code is 1 (2), expected 11502-2 (2.16.840.1.113883.6.1)'),
        error('CR-BIO: ClinicalDocument/code is 3 (4), expected 11502-2 (2.16.840.1.113883.6.1)'),
        { kind: 'type', severity: 'Warning', message: 'CR-BIO: optional section "Commentaire" (templateId 1.2.3) is absent' },
      ],
    });
    metrics.cdaReport({ type: 'CR-BIO', valid: true, issues: [{ kind: 'type', severity: 'Warning', message: 'CR-BIO: optional section' }] });
    const m = parseExposition(await metrics.text());
    expect(m.all('xdsgw_cda_validation_failures_total').map((s) => [s.labels.rule, s.value])).to.deep.equal([['CR-BIO:code', 1]]);
    await metrics.close();
  });

  it('labels a fault by its subcode, or by its code when it has none', async () => {
    const metrics = new GatewayMetrics({ transactions: ['ITI-41'] });
    const start = process.hrtime.bigint();
    metrics.fault('ITI-41', { code: 'Sender', subcode: { prefix: 'wsse', local: 'InvalidSecurity' } }, start);
    metrics.fault('unknown', { code: 'VersionMismatch' }, start);
    metrics.response('ITI-41', registryResponseXml([]), undefined);
    const m = parseExposition(await metrics.text());
    expect(m.all('xdsgw_errors_total').map((s) => `${s.labels.transaction} ${s.labels.code} ${s.value}`)).to.deep.equal([
      'ITI-41 Fault:wsse:InvalidSecurity 1',
      'unknown Fault:VersionMismatch 1',
    ]);
    expect(m.value('xdsgw_requests_total', { transaction: 'ITI-41', outcome: 'Fault' })).to.equal(1);
    expect(m.value('xdsgw_requests_total', { transaction: 'ITI-41', outcome: 'Success' })).to.equal(1);
    expect(m.value('xdsgw_request_duration_seconds_count', { transaction: 'ITI-41' })).to.equal(2);
    await metrics.close();
  });
});

describe('a backend reading at scrape time', () => {
  const clock = () => {
    let t = 0;
    return { now: () => t, advance: (ms: number) => (t += ms) };
  };

  it('runs one reading for many concurrent scrapes and reuses it while fresh', async () => {
    const c = clock();
    let reads = 0;
    const reading = new CachedReading(async () => ++reads, { minAgeMs: 5000, costFactor: 50, timeoutMs: 1000, now: c.now });
    expect(await Promise.all(Array.from({ length: 20 }, () => reading.get()))).to.deep.equal(Array(20).fill(1));
    c.advance(4999);
    expect(await reading.get()).to.equal(1);
    c.advance(2);
    expect(await reading.get()).to.equal(2);
    expect(reads).to.equal(2);
  });

  it('waits longer between readings that are slow', async () => {
    const c = clock();
    let reads = 0;
    const reading = new CachedReading(
      async () => {
        c.advance(400);
        return ++reads;
      },
      { minAgeMs: 5000, costFactor: 50, timeoutMs: 1000, now: c.now },
    );
    await reading.get();
    c.advance(19_000);
    expect(await reading.get()).to.equal(1);
    c.advance(1001);
    expect(await reading.get()).to.equal(2);
  });

  it('gives nothing when the backend fails, and does not ask it again at once', async () => {
    const c = clock();
    let reads = 0;
    const reading = new CachedReading(
      async () => {
        reads++;
        throw new Error('connection refused');
      },
      { minAgeMs: 1000, costFactor: 20, timeoutMs: 1000, now: c.now },
    );
    expect(await reading.get()).to.equal(undefined);
    expect(await reading.get()).to.equal(undefined);
    expect(reads).to.equal(1);
  });

  it('gives nothing when the backend does not answer in time, and serves its late answer to the next scrape', async () => {
    let answer: (v: number) => void = () => undefined;
    const reading = new CachedReading(() => new Promise<number>((r) => (answer = r)), { minAgeMs: 1000, costFactor: 20, timeoutMs: 20 });
    expect(await reading.get()).to.equal(undefined);
    answer(7);
    expect(await reading.get()).to.equal(7);
  });
});
