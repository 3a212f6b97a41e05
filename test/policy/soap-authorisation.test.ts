import { expect } from 'chai';
import { NS, SOAP_ACTION } from '../../src/ebrim/uuids.js';
import { buildIti41Request, buildIti43Request, DMP_CODES, newPatientId, soapContentType, soapEnvelope, type DocSpec } from '../support/requests.js';
import { registeredIds } from '../transactions/iti57-requests.js';
import type { PatientCaller, ProfessionalCaller } from '../../src/policy/caller.js';
import { queryVisibility } from '../../src/policy/enforce.js';
import { SIGNATURE_ENTRY } from '../../src/signature/dsg.js';
import { faultOf, retrieveResult, submissionResult } from '../support/responses.js';
import { DOCTOR } from './idp.js';
import { AUTHOR, recordPath, startPolicyGateway, type PolicyGateway } from './support.js';
import type { AssertionSpec } from './idp.js';

describe('SOAP transactions with authentication and the access policy', function () {
  this.timeout(90_000);
  let p: PolicyGateway;

  before(async () => {
    p = await startPolicyGateway();
  });
  after(async () => {
    await p?.close();
  });

  const security = (spec: AssertionSpec = {}): string => p.idp.security(p.idp.assertion(spec));
  const textDoc = (over: Partial<DocSpec> = {}): DocSpec => ({ bytes: Buffer.from(`note ${Math.random()}`), mimeType: 'text/plain', ...over });

  async function submit(patientId: string, docs: DocSpec[], headersXml: string | null = security({ ...AUTHOR })) {
    const req = buildIti41Request({ patientId, documents: docs }, 'mtom', { headersXml: headersXml ?? undefined });
    const reply = await p.gw.post('/xds/iti41', req);
    return { req, reply };
  }

  async function retrieve(uniqueIds: string[], headersXml: string | undefined) {
    const req = buildIti43Request(
      uniqueIds.map((documentUniqueId) => ({ repositoryUniqueId: p.gw.config.repositoryUniqueId, documentUniqueId })),
      { headersXml },
    );
    return p.gw.post('/xds/iti43', req);
  }

  describe('authentication faults', () => {
    let patientId: string;
    before(async () => {
      patientId = newPatientId();
      await p.openRecord(patientId);
    });

    it('answers a request without an assertion with wsse:InvalidSecurity', async () => {
      const { reply } = await submit(patientId, [textDoc()], null);
      expect(reply.status).to.equal(400);
      expect(faultOf(reply)).to.include({ code: 'Sender', subcode: 'InvalidSecurity' });
    });

    it('answers an unsigned assertion with wsse:FailedAuthentication', async () => {
      const reply = await retrieve(['1.2.3'], p.idp.security(p.idp.unsignedAssertion()));
      expect(faultOf(reply)).to.include({ subcode: 'FailedAuthentication' });
    });

    it('answers a tampered assertion with wsse:FailedAuthentication', async () => {
      const tampered = p.idp.assertion().replace(DOCTOR.structureId, '1999000099');
      const reply = await retrieve(['1.2.3'], p.idp.security(tampered));
      expect(faultOf(reply)).to.include({ subcode: 'FailedAuthentication' });
    });

    it('answers an expired assertion with wsse:FailedAuthentication', async () => {
      const reply = await retrieve(['1.2.3'], security({ issueInstant: new Date(Date.now() - 3 * 3600_000) }));
      const fault = faultOf(reply);
      expect(fault.subcode).to.equal('FailedAuthentication');
      expect(fault.reason).to.match(/expired/);
    });

    it('answers an assertion for another audience with wsse:FailedAuthentication', async () => {
      const reply = await retrieve(['1.2.3'], security({ audience: 'urn:another-service' }));
      expect(faultOf(reply)).to.include({ subcode: 'FailedAuthentication' });
    });

    it('registers nothing for a refused request', async () => {
      const before = await p.gw.backends.registry.counts();
      await submit(patientId, [textDoc()], p.idp.security(p.idp.unsignedAssertion({ ...AUTHOR })));
      expect((await p.gw.backends.registry.counts()).documentEntries).to.equal(before.documentEntries);
    });
  });

  describe('ITI-41 write check', () => {
    it('refuses a submission for a patient without a record, naming NO_RECORD', async () => {
      const patientId = newPatientId();
      expect(await p.gw.registerPatient(patientId)).to.equal(201);
      const { reply } = await submit(patientId, [textDoc()]);
      const result = submissionResult(reply);
      expect(result.status).to.equal('Failure');
      expect(result.errors[0]!.context).to.match(/rule NO_RECORD/);
    });

    it('accepts a submission to an open record from an authenticated professional', async () => {
      const patientId = newPatientId();
      await p.openRecord(patientId);
      const { reply } = await submit(patientId, [textDoc()]);
      expect(submissionResult(reply), reply.text).to.deep.equal({ status: 'Success', errors: [] });
    });

    it('refuses a professional the patient blocked, and accepts them again once unblocked', async () => {
      const patientId = newPatientId();
      const token = await p.openRecord(patientId);
      expect((await p.api('PUT', recordPath(patientId, `/blocked-professionals/${AUTHOR.professionalId}`), { token })).status).to.equal(200);
      const refused = submissionResult((await submit(patientId, [textDoc()])).reply);
      expect(refused.status).to.equal('Failure');
      expect(refused.errors.map((e) => e.context)).to.deep.equal(['access refused by rule PROFESSIONAL_BLOCKED: the patient has blocked this professional']);
      expect((await p.api('DELETE', recordPath(patientId, `/blocked-professionals/${AUTHOR.professionalId}`), { token })).status).to.equal(200);
      expect(submissionResult((await submit(patientId, [textDoc()])).reply).status).to.equal('Success');
    });

    it('refuses any submission to a closed record', async () => {
      const patientId = newPatientId();
      const token = await p.openRecord(patientId);
      expect((await p.api('POST', recordPath(patientId, '/close'), { token, body: {} })).status).to.equal(200);
      const result = submissionResult((await submit(patientId, [textDoc()])).reply);
      expect(result.errors[0]!.context).to.match(/rule RECORD_CLOSED/);
    });
  });

  describe('ITI-62 with the authenticated caller', () => {
    const removeAs = async (refs: string[], structureId: string) => {
      const items = refs.map((id) => `<rim:ObjectRef id="${id}"/>`).join('');
      const body = `<lcm:RemoveObjectsRequest xmlns:lcm="${NS.lcm}" xmlns:rim="${NS.rim}"><rim:ObjectRefList>${items}</rim:ObjectRefList></lcm:RemoveObjectsRequest>`;
      const envelope = soapEnvelope(SOAP_ACTION.iti62, body, { headersXml: security({ structureId }) });
      return submissionResult(await p.gw.post('/xds/iti62', { contentType: soapContentType(SOAP_ACTION.iti62), body: envelope }));
    };

    it("lets the author's organisation, named by the assertion, delete, and refuses another organisation", async () => {
      const patientId = newPatientId();
      await p.openRecord(patientId);
      const { req, reply } = await submit(patientId, [textDoc()]);
      expect(submissionResult(reply).status).to.equal('Success');
      const ids = await registeredIds(p.gw, req.uniqueIds.documents[0]!);
      expect((await removeAs([ids.entryUuid, ids.membership], '1999000099')).status).to.equal('Failure');
      expect((await removeAs([ids.entryUuid, ids.membership], AUTHOR.structureId)).status).to.equal('Success');
    });
  });

  describe('ITI-43 read check', () => {
    let patientId: string;
    let token: string;
    let plain: string;
    let masked: string;
    let maskedByPatient: string;

    before(async () => {
      patientId = newPatientId();
      token = await p.openRecord(patientId);
      const { req, reply } = await submit(patientId, [textDoc(), textDoc({ confidentiality: [DMP_CODES.masquePs] }), textDoc()]);
      expect(submissionResult(reply).status, reply.text).to.equal('Success');
      [plain, masked, maskedByPatient] = req.uniqueIds.documents as [string, string, string];
      expect((await p.api('PUT', recordPath(patientId, `/masked-documents/${maskedByPatient}`), { token })).status).to.equal(200);
    });

    it('gives another professional the plain document and answers the masked ones as unknown', async () => {
      const got = retrieveResult(await retrieve([plain, masked, maskedByPatient], security()));
      expect(got.status).to.equal('PartialSuccess');
      expect(got.documents).to.have.length(1);
      expect(got.errors.map((e) => e.code)).to.deep.equal(['XDSDocumentUniqueIdError', 'XDSDocumentUniqueIdError']);
      const unknown = retrieveResult(await retrieve(['1.2.250.1.999.9.424242'], security()));
      expect(got.errors[0]!.context.replace(masked, 'X')).to.equal(unknown.errors[0]!.context.replace('1.2.250.1.999.9.424242', 'X'));
    });

    it('answers the DSG signature of a submission with a masked document as unknown to another professional, and gives it to the author', async () => {
      // A patient of its own: the access history test below counts this patient's accesses.
      const other = newPatientId();
      await p.openRecord(other);
      const { req, reply } = await submit(other, [textDoc(), textDoc({ confidentiality: [DMP_CODES.masquePs] })]);
      expect(submissionResult(reply).status, reply.text).to.equal('Success');
      const [plain, masked] = req.uniqueIds.documents as [string, string];
      const [row] = await p.gw.backends.db.query<{ unique_id: string }>(
        `select s.unique_id from document_entries s join document_entries d on d.submission_set_uuid = s.submission_set_uuid
          where d.unique_id = $1 and s.format_code = $2`,
        [masked, SIGNATURE_ENTRY.formatCode.code],
      );
      const signature = row!.unique_id;
      const refused = retrieveResult(await retrieve([signature, plain], security()));
      expect(refused.status).to.equal('PartialSuccess');
      expect(refused.errors.map((e) => [e.code, e.location])).to.deep.equal([['XDSDocumentUniqueIdError', signature]]);
      const unknown = retrieveResult(await retrieve(['1.2.250.1.999.9.434343'], security()));
      expect(refused.errors[0]!.context.replace(signature, 'X')).to.equal(unknown.errors[0]!.context.replace('1.2.250.1.999.9.434343', 'X'));
      const author = retrieveResult(await retrieve([signature], security({ ...AUTHOR })));
      expect(author.status).to.equal('Success');
      expect(author.documents[0]!.bytes.toString('utf8')).to.include(masked);
    });

    it('gives the author every document, masked ones included', async () => {
      const got = retrieveResult(await retrieve([plain, masked, maskedByPatient], security({ ...AUTHOR })));
      expect(got.status).to.equal('Success');
      expect(got.documents).to.have.length(3);
    });

    it('allows break-glass when the patient has not refused it', async () => {
      const got = retrieveResult(await retrieve([plain], security({ purposeOfUse: 'BRIS_DE_GLACE' })));
      expect(got.status).to.equal('Success');
    });

    it('refuses break-glass once the patient refused emergency access, naming the rule', async () => {
      expect((await p.api('PUT', recordPath(patientId, '/emergency-access'), { token, body: { access: 'refused' } })).status).to.equal(200);
      try {
        const got = retrieveResult(await retrieve([plain], security({ purposeOfUse: 'BRIS_DE_GLACE' })));
        expect(got.status).to.equal('Failure');
        expect(got.errors[0]!.context).to.match(/rule EMERGENCY_ACCESS_REFUSED/);
        expect(retrieveResult(await retrieve([plain], security())).status).to.equal('Success');
      } finally {
        await p.api('PUT', recordPath(patientId, '/emergency-access'), { token, body: { access: 'allowed' } });
      }
    });

    it('refuses a blocked professional the same way whether the document exists or not', async () => {
      const blocked = '810005555555';
      await p.api('PUT', recordPath(patientId, `/blocked-professionals/${blocked}`), { token });
      const got = retrieveResult(await retrieve([plain, '1.2.250.1.999.9.434343'], security({ professionalId: blocked, patientId })));
      expect(got.status).to.equal('Failure');
      expect(got.errors.map((e) => e.context)).to.deep.equal(Array(2).fill('access refused by rule PROFESSIONAL_BLOCKED: the patient has blocked this professional'));
    });

    it('sorts query results for ITI-18: masked documents absent for another professional, present for the author and the patient', async () => {
      const ctx = p.gw.gateway.context;
      const all = [plain, masked, maskedByPatient];
      const professional = (over: Partial<ProfessionalCaller>): ProfessionalCaller => ({
        kind: 'professional', professionalId: DOCTOR.professionalId, professionalIdType: 'RPPS', roles: [{ code: '10' }], organisationId: DOCTOR.structureId,
        organisationIdType: 'FINESS', purposeOfUse: 'normal', assertionId: '_x', issuer: 'idp', ...over,
      });
      const visibleTo = async (caller: ProfessionalCaller | PatientCaller) => [...(await queryVisibility({ ...ctx, caller }, patientId, all)).visible].sort();
      expect(await visibleTo(professional({}))).to.deep.equal([plain]);
      expect(await visibleTo(professional({ professionalId: AUTHOR.professionalId }))).to.deep.equal([...all].sort());
      expect(await visibleTo({ kind: 'patient', patientId })).to.deep.equal([...all].sort());
      const blocked = await queryVisibility({ ...ctx, caller: professional({ professionalId: '810005555555' }) }, patientId, all);
      expect(blocked.visible.size).to.equal(0);
      expect(blocked.refusal?.message).to.match(/rule PROFESSIONAL_BLOCKED/);
    });

    it('records every access in the patient access history, in order, break-glass flagged', async () => {
      const history = await p.api('GET', recordPath(patientId, '/access-history'), { token });
      expect(history.status).to.equal(200);
      const events = history.body.events as { operation: string; userId: string | null; breakGlass: boolean; outcome: number; at: string }[];
      const operations = events.map((e) => e.operation);
      expect(operations.slice(0, 4)).to.deep.equal(['PATIENT-SESSION', 'RECORD-CREATE', 'ITI-41', 'DOCUMENT-MASK']);
      const retrieves = events.filter((e) => e.operation === 'ITI-43');
      expect(retrieves.map((e) => [e.userId, e.breakGlass, e.outcome])).to.deep.equal([
        [DOCTOR.professionalId, false, 4],
        [AUTHOR.professionalId, false, 0],
        [DOCTOR.professionalId, true, 0],
        [DOCTOR.professionalId, true, 4],
        [DOCTOR.professionalId, false, 0],
        ['810005555555', false, 4],
      ]);
      const times = events.map((e) => Date.parse(e.at));
      expect(times).to.deep.equal([...times].sort((a, b) => a - b));
    });
  });
});
