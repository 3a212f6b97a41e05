import { expect } from 'chai';
import { STATUS } from '../../src/ebrim/uuids.js';
import type { BuiltRequest } from '../support/requests.js';
import { buildIti18Request, buildIti41Request, buildIti42Request, newOid, newPatientId, queryList, queryString, type DocSpec } from '../support/requests.js';
import { submissionResult, type RegistryResponseView } from '../support/responses.js';
import { buildIti57Request, buildIti62Request, registeredIds } from '../transactions/iti57-requests.js';
import { DOCTOR, type AssertionSpec } from './idp.js';
import { AUTHOR, recordPath, startPolicyGateway, type PolicyGateway } from './support.js';

const PACS_REPOSITORY = newOid();
const BLOCKED = '810007777777';
const blockedRule = 'access refused by rule PROFESSIONAL_BLOCKED: the patient has blocked this professional';
const closedRule = 'access refused by rule RECORD_CLOSED: the patient has no open record';

interface HistoryEvent {
  operation: string;
  userId: string | null;
  breakGlass: boolean;
  outcome: number;
  at: string;
  documentIds: string[];
}

describe('ITI-42, ITI-57 and ITI-62 under the access policy (signed VIHF assertions)', function () {
  this.timeout(120_000);
  let p: PolicyGateway;

  before(async () => {
    p = await startPolicyGateway({ KNOWN_REPOSITORY_IDS: PACS_REPOSITORY, SIGNING: 'off' });
  });
  after(async () => {
    await p?.close();
  });

  const security = (spec: AssertionSpec = {}): string => p.idp.security(p.idp.assertion(spec));
  const textDoc = (): DocSpec => ({ bytes: Buffer.from(`note ${Math.random()}`), mimeType: 'text/plain' });
  /** A request built without a WS-Security header, given one. */
  const signed = (req: BuiltRequest, as: AssertionSpec): BuiltRequest => ({
    ...req,
    body: Buffer.from(req.body.toString('utf8').replace('</soap:Header>', `${security(as)}\n  </soap:Header>`), 'utf8'),
  });
  const setBlocked = async (patientId: string, token: string, blocked: boolean) =>
    expect((await p.api(blocked ? 'PUT' : 'DELETE', recordPath(patientId, `/blocked-professionals/${BLOCKED}`), { token })).status).to.equal(200);
  const closeRecord = async (patientId: string, token: string) => expect((await p.api('POST', recordPath(patientId, '/close'), { token, body: {} })).status).to.equal(200);
  const contexts = (r: RegistryResponseView): string[] => r.errors.map((e) => e.context);

  async function submit(patientId: string): Promise<string> {
    const req = buildIti41Request({ patientId, documents: [textDoc()] }, 'mtom', { headersXml: security({ ...AUTHOR }) });
    const reply = await p.gw.post('/xds/iti41', req);
    expect(submissionResult(reply).status, reply.text).to.equal('Success');
    return req.uniqueIds.documents[0]!;
  }

  const register = async (patientId: string, as: AssertionSpec) =>
    submissionResult(await p.gw.post('/xds/iti42', buildIti42Request({ patientId, documents: [textDoc()] }, PACS_REPOSITORY, { headersXml: security(as) })));

  const deprecate = async (patientId: string, uniqueId: string, as: AssertionSpec) => {
    const { entryUuid } = await registeredIds(p.gw, uniqueId);
    const req = buildIti57Request({ patientId, repositoryUniqueId: p.gw.config.repositoryUniqueId, statusChanges: [{ target: entryUuid, from: STATUS.approved, to: STATUS.deprecated }] });
    return submissionResult(await p.gw.post('/xds/iti57', signed(req, as)));
  };

  const remove = async (uniqueId: string, as: AssertionSpec) => {
    const ids = await registeredIds(p.gw, uniqueId);
    return submissionResult(await p.gw.post('/xds/iti62', signed(buildIti62Request([ids.entryUuid, ids.membership]), as)));
  };

  describe('ITI-42 Register Document Set-b', () => {
    it('registers for an allowed professional and refuses a blocked one, naming the rule', async () => {
      const patientId = newPatientId();
      const token = await p.openRecord(patientId);
      expect(await register(patientId, {})).to.deep.equal({ status: 'Success', errors: [] });
      await setBlocked(patientId, token, true);
      const refused = await register(patientId, { professionalId: BLOCKED });
      expect(refused.status).to.equal('Failure');
      expect(contexts(refused)).to.deep.equal([blockedRule]);
      expect(await register(patientId, {})).to.deep.equal({ status: 'Success', errors: [] });
    });

    it('refuses a patient without a record (NO_RECORD) and a closed record (RECORD_CLOSED)', async () => {
      const none = newPatientId();
      expect(await p.gw.registerPatient(none)).to.equal(201);
      expect(contexts(await register(none, {}))[0]).to.match(/^access refused by rule NO_RECORD/);
      const patientId = newPatientId();
      const token = await p.openRecord(patientId);
      await closeRecord(patientId, token);
      expect(contexts(await register(patientId, {}))).to.deep.equal([closedRule]);
    });

    it('refuses break-glass registration once the patient refused emergency access', async () => {
      const patientId = newPatientId();
      const token = await p.openRecord(patientId);
      expect((await register(patientId, { purposeOfUse: 'BRIS_DE_GLACE' })).status).to.equal('Success');
      expect((await p.api('PUT', recordPath(patientId, '/emergency-access'), { token, body: { access: 'refused' } })).status).to.equal(200);
      expect(contexts(await register(patientId, { purposeOfUse: 'BRIS_DE_GLACE' }))[0]).to.match(/^access refused by rule EMERGENCY_ACCESS_REFUSED/);
    });
  });

  describe('ITI-57 Update Document Set', () => {
    it('applies an update for an allowed professional and refuses a blocked one, naming the rule', async () => {
      const patientId = newPatientId();
      const token = await p.openRecord(patientId);
      const uniqueId = await submit(patientId);
      await setBlocked(patientId, token, true);
      const refused = await deprecate(patientId, uniqueId, { professionalId: BLOCKED });
      expect(refused.status).to.equal('Failure');
      expect(contexts(refused)).to.deep.equal([blockedRule]);
      const [row] = await p.gw.backends.db.query<{ status: string }>('select status from document_entries where unique_id = $1', [uniqueId]);
      expect(row!.status).to.equal(STATUS.approved);
      expect(await deprecate(patientId, uniqueId, { ...AUTHOR })).to.deep.equal({ status: 'Success', errors: [] });
    });

    it('refuses any update of a closed record', async () => {
      const patientId = newPatientId();
      const token = await p.openRecord(patientId);
      const uniqueId = await submit(patientId);
      await closeRecord(patientId, token);
      expect(contexts(await deprecate(patientId, uniqueId, { ...AUTHOR }))).to.deep.equal([closedRule]);
    });
  });

  describe('ITI-62 Delete Document Set', () => {
    it("refuses a blocked professional even of the author's organisation, and lets them delete once unblocked", async () => {
      const patientId = newPatientId();
      const token = await p.openRecord(patientId);
      const uniqueId = await submit(patientId);
      await setBlocked(patientId, token, true);
      const refused = await remove(uniqueId, { professionalId: BLOCKED, structureId: AUTHOR.structureId });
      expect(refused.status).to.equal('Failure');
      expect(contexts(refused)).to.deep.equal([blockedRule]);
      await setBlocked(patientId, token, false);
      expect(await remove(uniqueId, { professionalId: BLOCKED, structureId: AUTHOR.structureId })).to.deep.equal({ status: 'Success', errors: [] });
    });

    it('refuses another organisation with NOT_THE_AUTHOR', async () => {
      const patientId = newPatientId();
      await p.openRecord(patientId);
      const uniqueId = await submit(patientId);
      const refused = await remove(uniqueId, { structureId: '1999000099' });
      expect(refused.status).to.equal('Failure');
      expect(contexts(refused)).to.deep.equal(["access refused by rule NOT_THE_AUTHOR: only the author's organisation may delete the document"]);
    });

    it('refuses deletion from a closed record, even by the author', async () => {
      const patientId = newPatientId();
      const token = await p.openRecord(patientId);
      const uniqueId = await submit(patientId);
      await closeRecord(patientId, token);
      expect(contexts(await remove(uniqueId, { ...AUTHOR }))).to.deep.equal([closedRule]);
      const [row] = await p.gw.backends.db.query<{ deleted_at: Date | null }>('select deleted_at from document_entries where unique_id = $1', [uniqueId]);
      expect(row!.deleted_at).to.equal(null);
    });

    it('with a token naming the patient, refuses the blocked professional whether the objects exist or not', async () => {
      const patientId = newPatientId();
      const token = await p.openRecord(patientId);
      const uniqueId = await submit(patientId);
      await setBlocked(patientId, token, true);
      const ids = await registeredIds(p.gw, uniqueId);
      const as = { professionalId: BLOCKED, patientId };
      const existing = submissionResult(await p.gw.post('/xds/iti62', signed(buildIti62Request([ids.entryUuid, ids.membership]), as)));
      const unknown = submissionResult(await p.gw.post('/xds/iti62', signed(buildIti62Request(['urn:uuid:00000000-0000-4000-8000-000000000001']), as)));
      expect(existing).to.deep.equal(unknown);
      expect(contexts(existing)).to.deep.equal([blockedRule]);
    });
  });

  describe('audit of ITI-18, ITI-42, ITI-57 and ITI-62', () => {
    it('puts every access in the patient access history, in order, with the documents and the break-glass flag', async () => {
      const patientId = newPatientId();
      const token = await p.openRecord(patientId);
      const uniqueId = await submit(patientId);
      const other = await submit(patientId);
      const find = buildIti18Request({
        queryId: 'urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d',
        params: { $XDSDocumentEntryPatientId: queryString(patientId), $XDSDocumentEntryStatus: queryList(STATUS.approved) },
      });
      expect((await p.gw.post('/xds/iti18', signed(find, {}))).status).to.equal(200);
      expect((await register(patientId, { purposeOfUse: 'BRIS_DE_GLACE' })).status).to.equal('Success');
      await setBlocked(patientId, token, true);
      expect((await register(patientId, { professionalId: BLOCKED })).status).to.equal('Failure');
      expect((await deprecate(patientId, uniqueId, { ...AUTHOR })).status).to.equal('Success');
      const ids = await registeredIds(p.gw, other);
      expect((await remove(other, { ...AUTHOR })).status).to.equal('Success');

      const history = await p.api('GET', recordPath(patientId, '/access-history'), { token });
      expect(history.status).to.equal(200);
      const events = (history.body.events as HistoryEvent[]).filter((e) => /^ITI-/.test(e.operation));
      expect(events.map((e) => [e.operation, e.userId, e.breakGlass, e.outcome])).to.deep.equal([
        ['ITI-41', AUTHOR.professionalId, false, 0],
        ['ITI-41', AUTHOR.professionalId, false, 0],
        ['ITI-18', DOCTOR.professionalId, false, 0],
        ['ITI-42', DOCTOR.professionalId, true, 0],
        ['ITI-42', BLOCKED, false, 4],
        ['ITI-57', AUTHOR.professionalId, false, 0],
        ['ITI-62', AUTHOR.professionalId, false, 0],
      ]);
      expect(events[0]!.documentIds).to.include(uniqueId);
      expect(events[3]!.documentIds).to.have.length(1);
      expect(events[5]!.documentIds).to.deep.equal([(await registeredIds(p.gw, uniqueId)).entryUuid]);
      expect(events[6]!.documentIds).to.include(ids.entryUuid);
      const times = (history.body.events as HistoryEvent[]).map((e) => Date.parse(e.at));
      expect(times).to.deep.equal([...times].sort((a, b) => a - b));
    });
  });
});
