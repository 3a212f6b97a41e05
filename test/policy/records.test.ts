import { expect } from 'chai';
import { issuePatientToken } from '../../src/policy/patient-token.js';
import { entryFacts } from '../../src/policy/records.js';
import { buildIti41Request, DMP_CODES, newPatientId } from '../support/requests.js';
import { submissionResult } from '../support/responses.js';
import { AUTHOR, FRONT_END_KEY, recordPath, startPolicyGateway, TOKEN_SECRET, type PolicyGateway } from './support.js';

describe('patient record API', function () {
  this.timeout(60_000);
  let p: PolicyGateway;

  before(async () => {
    p = await startPolicyGateway();
  });
  after(async () => {
    await p?.close();
  });
  afterEach(() => {
    p.gw.gateway.context.clock = undefined;
  });

  it('serves an OpenAPI 3.1 document describing every route', async () => {
    const r = await p.api('GET', '/api/openapi.json');
    expect(r.status).to.equal(200);
    expect(r.body.openapi).to.equal('3.1.0');
    expect(Object.keys(r.body.paths as object)).to.include.members([
      '/api/records',
      '/api/records/{patientId}/close',
      '/api/records/{patientId}/blocked-professionals/{professionalId}',
      '/api/records/{patientId}/emergency-access',
      '/api/records/{patientId}/masked-documents/{documentUniqueId}',
      '/api/records/{patientId}/access-history',
    ]);
  });

  describe('creating a record', () => {
    it('creates the record of a patient online, with their consent, and registers the patient id', async () => {
      const patientId = newPatientId();
      const token = await p.patientToken(patientId);
      const r = await p.api('POST', '/api/records', { token, body: { patientId, consent: true } });
      expect(r.status).to.equal(201);
      expect(r.body).to.include({ patientId, status: 'open', consentChannel: 'patient-online', emergencyAccess: 'allowed', createdBy: patientId });
      expect(await p.gw.registerPatient(patientId)).to.equal(409);
      expect((await p.api('POST', '/api/records', { token, body: { patientId, consent: true } })).status).to.equal(200);
    });

    it('records the channel when the front end opens it for a pharmacist, an insurance office or a hospital', async () => {
      for (const channel of ['pharmacist', 'insurance-office', 'hospital', 'professional']) {
        const patientId = newPatientId();
        const r = await p.api('POST', '/api/records', { token: FRONT_END_KEY, body: { patientId, consent: true, consentChannel: channel, createdBy: '1999000017' } });
        expect(r.status).to.equal(201);
        expect(r.body).to.include({ consentChannel: channel, createdBy: '1999000017' });
      }
    });

    it('refuses without the consent, with an unknown channel, or for another patient', async () => {
      const patientId = newPatientId();
      const token = await p.patientToken(patientId);
      expect((await p.api('POST', '/api/records', { token, body: { patientId } })).body.error).to.equal('consent_required');
      expect((await p.api('POST', '/api/records', { token: FRONT_END_KEY, body: { patientId, consent: true, consentChannel: 'mail' } })).body.error).to.equal('invalid_consent_channel');
      expect((await p.api('POST', '/api/records', { token, body: { patientId: newPatientId(), consent: true } })).status).to.equal(403);
    });

    it('keeps POST /api/patients working alongside', async () => {
      expect(await p.gw.registerPatient(newPatientId())).to.equal(201);
    });
  });

  describe('patient session tokens', () => {
    it('refuses a call without a token, with a forged token and with an expired one', async () => {
      const patientId = newPatientId();
      await p.openRecord(patientId);
      expect((await p.api('GET', recordPath(patientId))).status).to.equal(401);
      const forged = issuePatientToken('another-secret-another-secret-another-secret', patientId, 600, new Date()).token;
      expect((await p.api('GET', recordPath(patientId), { token: forged })).status).to.equal(401);
      const expired = issuePatientToken(TOKEN_SECRET, patientId, 60, new Date(Date.now() - 3600_000)).token;
      expect((await p.api('GET', recordPath(patientId), { token: expired })).status).to.equal(401);
      expect((await p.api('GET', recordPath(patientId), { token: issuePatientToken(TOKEN_SECRET, patientId, 60, new Date()).token })).status).to.equal(200);
    });

    it('issues tokens to the front end only', async () => {
      const patientId = newPatientId();
      const token = await p.patientToken(patientId);
      expect((await p.api('POST', '/api/patient-sessions', { token, body: { patientId } })).status).to.equal(403);
    });

    it('lets a patient see their own record only', async () => {
      const mine = newPatientId();
      const theirs = newPatientId();
      const token = await p.openRecord(mine);
      await p.openRecord(theirs);
      expect((await p.api('GET', recordPath(theirs), { token })).status).to.equal(403);
      expect((await p.api('GET', recordPath(theirs, '/access-history'), { token })).status).to.equal(403);
    });
  });

  describe("the patient's settings", () => {
    it('blocks and unblocks a professional, refuses and allows emergency access', async () => {
      const patientId = newPatientId();
      const token = await p.openRecord(patientId);
      let r = await p.api('PUT', recordPath(patientId, '/blocked-professionals/810001234567'), { token });
      expect(r.body.blockedProfessionals).to.deep.equal(['810001234567']);
      r = await p.api('DELETE', recordPath(patientId, '/blocked-professionals/810001234567'), { token });
      expect(r.body.blockedProfessionals).to.deep.equal([]);
      r = await p.api('PUT', recordPath(patientId, '/emergency-access'), { token, body: { access: 'refused' } });
      expect(r.body.emergencyAccess).to.equal('refused');
      expect((await p.api('PUT', recordPath(patientId, '/emergency-access'), { token, body: { access: 'maybe' } })).status).to.equal(400);
    });

    it('masks only a document of the record', async () => {
      const patientId = newPatientId();
      const token = await p.openRecord(patientId);
      const r = await p.api('PUT', recordPath(patientId, '/masked-documents/1.2.250.1.999.9.1'), { token });
      expect(r.status).to.equal(404);
      expect(r.body.error).to.equal('no_document');
    });

    it('takes no setting once the record is closed', async () => {
      const patientId = newPatientId();
      const token = await p.openRecord(patientId);
      expect((await p.api('POST', recordPath(patientId, '/close'), { token, body: { reason: 'patient request' } })).body.status).to.equal('closed');
      expect((await p.api('PUT', recordPath(patientId, '/blocked-professionals/810001234567'), { token })).status).to.equal(404);
      expect((await p.api('POST', '/api/records', { token, body: { patientId, consent: true } })).status).to.equal(409);
    });
  });

  describe("the patient's own documents", () => {
    it('registers a document the patient adds, authored by the patient, through the ITI-41 path', async () => {
      const patientId = newPatientId();
      const token = await p.openRecord(patientId);
      const r = await p.api('POST', recordPath(patientId, '/documents'), {
        token,
        body: { title: 'Mes directives anticipées', mimeType: 'text/plain', content: Buffer.from('je refuse tout acharnement').toString('base64') },
      });
      expect(r.status, JSON.stringify(r.body)).to.equal(201);
      const uniqueId = r.body.uniqueId as string;
      const facts = await entryFacts(p.gw.backends.db, [uniqueId]);
      expect(facts.get(uniqueId)).to.include({ patientId, addedByPatient: true });
      const [row] = await p.gw.backends.db.query<{ title: string; mime_type: string }>('select title, mime_type from document_entries where unique_id = $1', [uniqueId]);
      expect(row).to.deep.equal({ title: 'Mes directives anticipées', mime_type: 'text/plain' });
      const history = await p.api('GET', recordPath(patientId, '/access-history'), { token });
      expect((history.body.events as { operation: string }[]).map((e) => e.operation)).to.include('PATIENT-DOCUMENT');
    });

    it('refuses a document on a closed record, naming the rule', async () => {
      const patientId = newPatientId();
      const token = await p.openRecord(patientId);
      await p.api('POST', recordPath(patientId, '/close'), { token, body: {} });
      const r = await p.api('POST', recordPath(patientId, '/documents'), { token, body: { title: 't', mimeType: 'text/plain', content: 'eA==' } });
      expect(r.status).to.equal(422);
      expect(JSON.stringify(r.body.errors)).to.match(/RECORD_CLOSED/);
    });
  });

  describe('documents as the patient sees them', () => {
    it('lists masked documents to the patient, and a document hidden from them only after one month', async () => {
      const patientId = newPatientId();
      const token = await p.openRecord(patientId);
      const docs = [
        { bytes: Buffer.from('plain'), mimeType: 'text/plain' },
        { bytes: Buffer.from('masked'), mimeType: 'text/plain', confidentiality: [DMP_CODES.masquePs] },
        { bytes: Buffer.from('hidden'), mimeType: 'text/plain', confidentiality: [DMP_CODES.invisiblePatient] },
      ];
      const req = buildIti41Request({ patientId, documents: docs }, 'mtom', { headersXml: p.idp.security(p.idp.assertion({ ...AUTHOR })) });
      expect(submissionResult(await p.gw.post('/xds/iti41', req)).status).to.equal('Success');
      const [plain, masked, hidden] = req.uniqueIds.documents;
      const listed = async (t: string) => ((await p.api('GET', recordPath(patientId, '/documents'), { token: t })).body.documents as { uniqueId: string }[]).map((d) => d.uniqueId);

      expect(await listed(token)).to.include.members([plain, masked]).and.not.include(hidden);
      p.gw.gateway.context.clock = () => new Date(Date.now() + 27 * 86_400_000);
      expect(await listed(await p.patientToken(patientId))).to.not.include(hidden);
      p.gw.gateway.context.clock = () => new Date(Date.now() + 32 * 86_400_000);
      expect(await listed(await p.patientToken(patientId))).to.include(hidden);
    });
  });

  describe('closing, retention and purge', () => {
    it('keeps a closed record for the retention period, then the purge destroys it and audits it', async () => {
      const patientId = newPatientId();
      await p.openRecord(patientId);
      const req = buildIti41Request({ patientId, documents: [{ bytes: Buffer.from('kept ten years'), mimeType: 'text/plain' }] }, 'mtom', {
        headersXml: p.idp.security(p.idp.assertion({ ...AUTHOR })),
      });
      expect(submissionResult(await p.gw.post('/xds/iti41', req)).status).to.equal('Success');

      const closedAt = new Date('2027-03-01T12:00:00Z');
      p.gw.gateway.context.clock = () => closedAt;
      const closed = await p.api('POST', recordPath(patientId, '/close'), { token: FRONT_END_KEY, body: {} });
      expect(closed.body).to.include({ status: 'closed', closedAt: closedAt.toISOString(), purgeAfter: '2037-03-01T12:00:00.000Z' });

      const db = p.gw.backends.db;
      const documents = async () => (await db.query('select 1 from document_entries where patient_id = $1', [patientId])).length;
      p.gw.gateway.context.clock = () => new Date('2037-02-28T12:00:00Z');
      expect((await p.api('POST', '/api/records/purge', { token: FRONT_END_KEY })).body.purged).to.not.include(patientId);
      expect(await documents()).to.be.greaterThan(0);

      p.gw.gateway.context.clock = () => new Date('2037-03-01T12:00:01Z');
      expect((await p.api('POST', '/api/records/purge', { token: FRONT_END_KEY })).body.purged).to.include(patientId);
      expect(await documents()).to.equal(0);
      expect((await p.api('GET', recordPath(patientId), { token: FRONT_END_KEY })).status).to.equal(404);
      const audit = await db.query<{ event_type: string }>(`select event_type from audit_events where patient_ids @> array[$1]::text[] order by id`, [patientId]);
      expect(audit.map((a) => a.event_type)).to.include('RECORD-PURGE');
    });
  });
});
