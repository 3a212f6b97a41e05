import { expect } from 'chai';
import { pino } from 'pino';
import { EVENT_ID } from '../../src/audit/message.js';
import { AuditTrail } from '../../src/audit/trail.js';
import type { Db } from '../../src/registry/db.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { buildIti43Request, newPatientId } from '../support/requests.js';
import { retrieveResult } from '../support/responses.js';
import { startSyslogTlsServer, type SyslogTlsServer } from './syslog-server.js';

describe('audit trail of the gateway', function () {
  this.timeout(60_000);
  let server: SyslogTlsServer;
  let gw: TestGateway;

  before(async () => {
    server = await startSyslogTlsServer();
    gw = await startTestGateway('pglite', { AUDIT_SYSLOG_URL: server.url, AUDIT_SYSLOG_CA_FILE: server.caFile, AUDIT_SOURCE_ID: 'gw-under-test' });
  });
  after(async () => {
    await gw?.close();
    await server?.close();
  });

  it('writes an audit record of every SOAP transaction and forwards it to the audit repository', async () => {
    const before = server.messages.length;
    const reply = await gw.post('/xds/iti43', buildIti43Request([{ repositoryUniqueId: gw.config.repositoryUniqueId, documentUniqueId: '1.2.250.1.999.9.77' }]));
    expect(retrieveResult(reply).status).to.equal('Failure');
    const [row] = await gw.backends.db.query<{ event_type: string; outcome: number; document_ids: string[]; message: string }>(
      `select event_type, outcome, document_ids, message from audit_events where document_ids @> array['1.2.250.1.999.9.77']::text[]`,
    );
    expect(row).to.include({ event_type: 'ITI-43', outcome: 4 });
    const forwarded = (await server.waitFor(before + 1)).slice(before).map((m) => m.toString('utf8'));
    expect(forwarded.some((m) => m.includes('gw-under-test') && m.includes('csd-code="ITI-43"') && m.includes('1.2.250.1.999.9.77'))).to.equal(true);
  });

  it('audits SOAP faults too', async () => {
    const req = buildIti43Request([{ repositoryUniqueId: gw.config.repositoryUniqueId, documentUniqueId: '1.2.250.1.999.9.78' }]);
    const broken = Buffer.from(req.body.toString().replace('</xdsb:DocumentRequest>', '</xdsb:DocumentRequest><xdsb:DocumentRequest/>'));
    expect((await gw.post('/xds/iti43', { contentType: req.contentType, body: broken })).status).to.equal(400);
    const rows = await gw.backends.db.query<{ outcome: number }>(`select outcome from audit_events where document_ids @> array['1.2.250.1.999.9.78']::text[]`);
    expect(rows.map((r) => r.outcome)).to.deep.equal([8]);
  });

  it('audits API calls', async () => {
    const patientId = newPatientId();
    expect((await gw.post('/api/records', { contentType: 'application/json', body: JSON.stringify({ patientId, consent: true }) })).status).to.equal(401);
    const rows = await gw.backends.db.query<{ event_type: string; outcome: number }>(`select event_type, outcome from audit_events where event_type = 'RECORD-CREATE' order by id desc limit 1`);
    expect(rows[0]).to.deep.equal({ event_type: 'RECORD-CREATE', outcome: 4 });
  });

  it('never fails the audited operation when the audit table cannot be written', async () => {
    const broken = { query: () => Promise.reject(new Error('database down')) } as unknown as Db;
    const trail = new AuditTrail(broken, { sourceId: 'x' }, pino({ level: 'silent' }));
    await trail.record({
      at: new Date(),
      eventId: EVENT_ID.query,
      action: 'E',
      eventType: { code: 'ITI-18', system: 'IHE Transactions', display: 'Registry Stored Query' },
      outcome: 0,
      destination: '/xds/iti18',
      patientIds: [],
      documentIds: [],
    });
  });
});
