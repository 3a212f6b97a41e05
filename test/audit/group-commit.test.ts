import { expect } from 'chai';
import { pino } from 'pino';
import { EVENT_ID, type AuditEvent } from '../../src/audit/message.js';
import { AuditTrail } from '../../src/audit/trail.js';
import { responseOutcome } from '../../src/audit/transaction.js';
import { registryResponseXml } from '../../src/ebrim/response.js';
import { XdsError } from '../../src/errors.js';
import type { Db } from '../../src/registry/db.js';
import { migrate } from '../../src/registry/migrate.js';
import { Registry } from '../../src/registry/registry.js';
import { describeEachDb } from '../support/db.js';
import { newPatientId } from '../support/requests.js';
import { makeSubmission, newOid, newSubmissionId } from '../registry/factory.js';

const silent = pino({ level: 'silent' });

function queryEvent(patientId: string, n: number, more: Partial<AuditEvent> = {}): AuditEvent {
  return {
    at: new Date(Date.UTC(2026, 0, 1, 0, 0, n)),
    eventId: EVENT_ID.query,
    action: 'E',
    eventType: { code: 'ITI-18', system: 'IHE Transactions', display: 'Registry Stored Query' },
    outcome: 0,
    destination: '/xds/iti18',
    patientIds: [patientId],
    documentIds: [`1.2.250.1.999.5.${n}`],
    ...more,
  };
}

/** The real database, with the statements that reach it counted. */
function counting(db: Db): { db: Db; statements: () => number } {
  let n = 0;
  return {
    db: { ...db, query: (sql, params, opts) => (n++, db.query(sql, params, opts)) },
    statements: () => n,
  };
}

describeEachDb('audit trail group commit', (suite) => {
  before(async function () {
    this.timeout(60_000);
    await migrate(suite.db);
  });

  it('writes events recorded at the same time in shared statements, each one committed when record() resolves, in order', async () => {
    const patientId = newPatientId();
    const spy = counting(suite.db);
    const trail = new AuditTrail(spy.db, { sourceId: 'gw' }, silent);
    await Promise.all(Array.from({ length: 40 }, (_, i) => trail.record(queryEvent(patientId, i))));
    // The first event goes alone; the 39 that arrived while it was written share the next statement.
    expect(spy.statements()).to.equal(2);
    const history = await trail.history(patientId);
    expect(history.map((h) => h.documentIds[0])).to.deep.equal(Array.from({ length: 40 }, (_, i) => `1.2.250.1.999.5.${i}`));
    expect(history[3]).to.deep.include({ at: '2026-01-01T00:00:03.000Z', operation: 'ITI-18', action: 'E', outcome: 0, userId: null, breakGlass: false });
  });

  it('writes a lone event at once, with every column', async () => {
    const patientId = newPatientId();
    const trail = new AuditTrail(suite.db, { sourceId: 'gw' }, silent);
    await trail.record(queryEvent(patientId, 7, { outcome: 4, requestorId: 'front-end', query: { id: 'urn:uuid:q', text: '$p=x' } }));
    const rows = await suite.db.query<{ event_id: string; event_action: string; outcome: number; user_id: string; patient_ids: string[]; document_ids: string[]; message: string }>(
      'select event_id, event_action, outcome, user_id, patient_ids, document_ids, message from audit_events where patient_ids @> array[$1]::text[]',
      [patientId],
    );
    expect(rows).to.have.length(1);
    expect(rows[0]).to.deep.include({ event_id: '110112', event_action: 'E', outcome: 4, user_id: 'front-end', patient_ids: [patientId], document_ids: ['1.2.250.1.999.5.7'] });
    expect(rows[0]!.message).to.include('<AuditMessage>').and.include('ParticipantObjectQuery');
  });

  it('keeps the other events of a batch when one of them cannot be written', async () => {
    const patientId = newPatientId();
    const trail = new AuditTrail(suite.db, { sourceId: 'gw' }, silent);
    // PostgreSQL text cannot hold U+0000: that event's row is refused.
    const events = Array.from({ length: 5 }, (_, i) => queryEvent(patientId, i, i === 2 ? { outcomeDescription: 'nul \u0000 byte' } : {}));
    await Promise.all(events.map((e) => trail.record(e)));
    const history = await trail.history(patientId);
    expect(history.map((h) => h.documentIds[0])).to.deep.equal(['1.2.250.1.999.5.0', '1.2.250.1.999.5.1', '1.2.250.1.999.5.3', '1.2.250.1.999.5.4']);
  });

  it('takes the patients of events that name documents only from the registry, in one query for the batch', async () => {
    const registry = new Registry(suite.db);
    const [alice, bob] = [newPatientId(), newPatientId()];
    const docs: { uniqueId: string; entryUuid: string }[] = [];
    for (const patientId of [alice, bob]) {
      await registry.registerPatient(patientId);
      const s = makeSubmission({ patientId, documents: 1 });
      await registry.commitSubmission({ submissionId: newSubmissionId(), metadata: s.metadata, stored: s.stored });
      docs.push({ uniqueId: s.metadata.documentEntries[0]!.uniqueId, entryUuid: s.metadata.documentEntries[0]!.id });
    }
    const spy = counting(suite.db);
    const trail = new AuditTrail(spy.db, { sourceId: 'gw' }, silent);
    const retrieve = (documentIds: string[]): AuditEvent => ({ ...queryEvent('', 0), eventType: { code: 'ITI-43', system: 'IHE Transactions', display: 'Retrieve' }, patientIds: [], documentIds });
    const unknown = newOid();
    await Promise.all([
      trail.record(retrieve([docs[0]!.uniqueId]), { patientsOfDocuments: true }),
      trail.record(retrieve([docs[0]!.uniqueId]), { patientsOfDocuments: true }),
      trail.record(retrieve([docs[1]!.entryUuid, docs[0]!.uniqueId]), { patientsOfDocuments: true }),
      trail.record(retrieve([unknown]), { patientsOfDocuments: true }),
      trail.record(retrieve([docs[1]!.uniqueId])),
    ]);
    // The first event alone (lookup + insert), then the four others together (lookup + insert).
    expect(spy.statements()).to.equal(4);
    const rows = await suite.db.query<{ patient_ids: string[]; document_ids: string[]; message: string }>(
      `select patient_ids, document_ids, message from audit_events where event_type = 'ITI-43' and document_ids && $1::text[] order by id`,
      [[...docs.flatMap((d) => [d.uniqueId, d.entryUuid]), unknown]],
    );
    expect(rows.map((r) => r.patient_ids)).to.deep.equal([[alice], [alice], [bob, alice], [], []]);
    expect(rows[2]!.message).to.include(`ParticipantObjectID="${bob.replaceAll('&', '&amp;')}"`);
  });

  it('goes on recording after the database failed', async () => {
    const patientId = newPatientId();
    let down = true;
    const flaky: Db = { ...suite.db, query: (sql, params, opts) => (down ? Promise.reject(new Error('database down')) : suite.db.query(sql, params, opts)) };
    const trail = new AuditTrail(flaky, { sourceId: 'gw' }, silent);
    await Promise.all([trail.record(queryEvent(patientId, 1)), trail.record(queryEvent(patientId, 2))]);
    down = false;
    await trail.record(queryEvent(patientId, 3));
    expect((await trail.history(patientId)).map((h) => h.documentIds[0])).to.deep.equal(['1.2.250.1.999.5.3']);
  });
});

describe('audit outcome of a response', () => {
  const query = (status: string, objects = ''): string =>
    `<query:AdhocQueryResponse xmlns:query="urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0" status="urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:${status}"><rim:RegistryObjectList>${objects}</rim:RegistryObjectList></query:AdhocQueryResponse>`;

  it('is success for Success, minor failure for Failure and PartialSuccess', () => {
    expect(responseOutcome(registryResponseXml([]))).to.equal(0);
    expect(responseOutcome(registryResponseXml([new XdsError('XDSRepositoryError', 'x', undefined, 'Warning')]))).to.equal(0);
    expect(responseOutcome(registryResponseXml([new XdsError('XDSRegistryError', 'x')]))).to.equal(4);
    expect(responseOutcome(registryResponseXml([new XdsError('XDSDocumentUniqueIdError', 'x')], { partialSuccess: true }))).to.equal(4);
    expect(responseOutcome(query('Failure'))).to.equal(4);
  });

  it('reads the status of the response, not a value of the objects it returns', () => {
    const slot = '<rim:Slot name="x"><rim:ValueList><rim:Value>ResponseStatusType:Failure" status="urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Failure"</rim:Value></rim:ValueList></rim:Slot>';
    expect(responseOutcome(query('Success', `<rim:ExtrinsicObject id="urn:uuid:1">${slot}</rim:ExtrinsicObject>`))).to.equal(0);
  });

  it('reads the status of a retrieve response from its RegistryResponse', () => {
    const body = (status: string): string =>
      `<xdsb:RetrieveDocumentSetResponse xmlns:xdsb="urn:ihe:iti:xds-b:2007"><rs:RegistryResponse xmlns:rs="urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0" status="urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:${status}"/></xdsb:RetrieveDocumentSetResponse>`;
    expect(responseOutcome(body('Success'))).to.equal(0);
    expect(responseOutcome(body('PartialSuccess'))).to.equal(4);
  });
});
