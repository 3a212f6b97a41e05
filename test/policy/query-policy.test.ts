import { expect } from 'chai';
import { DOCUMENT_ENTRY_SCHEME, NS, STATUS } from '../../src/ebrim/uuids.js';
import type { PatientCaller } from '../../src/policy/caller.js';
import { registryStoredQuery } from '../../src/transactions/iti18.js';
import { bodyBytes } from '../../src/xml/pieces.js';
import { child, childrenOf, parseXml, type XmlElement } from '../../src/xml/tree.js';
import type { HttpReply } from '../support/gateway.js';
import { buildIti18Request, buildIti41Request, DMP_CODES, newPatientId, queryList, queryString, type DocSpec, type StoredQuerySpec } from '../support/requests.js';
import { readSoapReply, submissionResult } from '../support/responses.js';
import { registeredIds } from '../transactions/iti57-requests.js';
import { DOCTOR, type AssertionSpec } from './idp.js';
import { AUTHOR, recordPath, startPolicyGateway, type PolicyGateway } from './support.js';

const Q = {
  findDocuments: 'urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d',
  getAll: 'urn:uuid:10b545ea-725c-446d-9b95-8aeb444eddf3',
  getDocuments: 'urn:uuid:5c4f972b-d56b-40ac-a5fc-c8ca9b40b9d4',
  getAssociations: 'urn:uuid:a7ae438b-4bc2-4642-93e9-be891f7bb155',
  getSubmissionSetAndContents: 'urn:uuid:e8e3cb2c-e39c-46b9-99e4-c12f57260b83',
} as const;

interface QueryView {
  status: string;
  errors: { code: string; context: string }[];
  /** Every returned object: its tag, id, and for associations its ends; for documents their uniqueId. */
  objects: { tag: string; id: string; source?: string; target?: string; uniqueId?: string }[];
}

function queryView(body: XmlElement): QueryView {
  const list = child(body, NS.rim, 'RegistryObjectList');
  return {
    status: (body.attrs.status ?? '').split(':').pop()!,
    errors: (child(body, NS.rs, 'RegistryErrorList')?.children ?? []).map((e) => ({ code: e.attrs.errorCode ?? '', context: e.attrs.codeContext ?? '' })),
    objects: (list?.children ?? []).map((o) => ({
      tag: o.local,
      id: o.attrs.id ?? '',
      source: o.attrs.sourceObject,
      target: o.attrs.targetObject,
      uniqueId: childrenOf(o, NS.rim, 'ExternalIdentifier').find((e) => e.attrs.identificationScheme === DOCUMENT_ENTRY_SCHEME.uniqueId)?.attrs.value,
    })),
  };
}

const queryResult = (reply: HttpReply): QueryView => queryView(readSoapReply(reply).body);
const documentsOf = (v: QueryView): string[] => v.objects.flatMap((o) => (o.tag === 'ExtrinsicObject' ? [o.uniqueId!] : [])).sort();
const findDocuments = (patientId: string, returnType: 'LeafClass' | 'ObjectRef' = 'LeafClass'): StoredQuerySpec => ({
  queryId: Q.findDocuments,
  params: { $XDSDocumentEntryPatientId: queryString(patientId), $XDSDocumentEntryStatus: queryList(STATUS.approved) },
  returnType,
});
const MONTH_AND_A_DAY = 32 * 24 * 3600_000;

describe('ITI-18 under the access policy (signed VIHF assertions)', function () {
  this.timeout(120_000);
  let p: PolicyGateway;

  before(async () => {
    // The gateway's own submission signatures are left out so that each answer holds only the documents submitted here.
    p = await startPolicyGateway({ SIGNING: 'off' });
  });
  after(async () => {
    await p?.close();
  });

  const security = (spec: AssertionSpec = {}): string => p.idp.security(p.idp.assertion(spec));
  const textDoc = (over: Partial<DocSpec> = {}): DocSpec => ({ bytes: Buffer.from(`note ${Math.random()}`), mimeType: 'text/plain', ...over });
  const query = async (spec: StoredQuerySpec, as: AssertionSpec = {}): Promise<QueryView> => queryResult(await p.gw.post('/xds/iti18', buildIti18Request(spec, { headersXml: security(as) })));

  async function submit(patientId: string, docs: DocSpec[]): Promise<{ submissionSet: string; documents: string[] }> {
    const req = buildIti41Request({ patientId, documents: docs }, 'mtom', { headersXml: security({ ...AUTHOR }) });
    const reply = await p.gw.post('/xds/iti41', req);
    expect(submissionResult(reply).status, reply.text).to.equal('Success');
    return req.uniqueIds;
  }

  /** The same stored query run by the ITI-18 transaction for a patient (patients do not speak SOAP: their caller is set directly). */
  async function queryAsPatient(spec: StoredQuerySpec, patientId: string, now?: Date): Promise<QueryView> {
    const envelope = parseXml(buildIti18Request(spec).body.toString('utf8'));
    const body = child(envelope, NS.soap12, 'Body')!.children[0]!;
    const caller: PatientCaller = { kind: 'patient', patientId };
    const answer = await registryStoredQuery(body, { ...p.gw.gateway.context, caller, clock: now ? () => now : undefined });
    return queryView(parseXml(bodyBytes(answer.bodyXml).toString('utf8')));
  }

  describe('masked documents', () => {
    let patientId: string;
    let token: string;
    let plain: string;
    let masquePs: string;
    let maskedByPatient: string;
    let later: string;
    let firstSet: { submissionSet: string; documents: string[] };
    let secondSet: { submissionSet: string; documents: string[] };

    before(async () => {
      patientId = newPatientId();
      token = await p.openRecord(patientId);
      firstSet = await submit(patientId, [textDoc(), textDoc({ confidentiality: [DMP_CODES.masquePs] }), textDoc()]);
      [plain, masquePs, maskedByPatient] = firstSet.documents as [string, string, string];
      secondSet = await submit(patientId, [textDoc()]);
      later = secondSet.documents[0]!;
      expect((await p.api('PUT', recordPath(patientId, `/masked-documents/${maskedByPatient}`), { token })).status).to.equal(200);
    });

    it('leaves MASQUE_PS and patient-masked documents out of FindDocuments for another professional', async () => {
      const got = await query(findDocuments(patientId));
      expect(got.status).to.equal('Success');
      expect(documentsOf(got)).to.deep.equal([plain, later].sort());
    });

    it('leaves them out of an ObjectRef answer too', async () => {
      const got = await query(findDocuments(patientId, 'ObjectRef'));
      const expected = await Promise.all([plain, later].map(async (u) => (await registeredIds(p.gw, u)).entryUuid));
      expect(got.objects.map((o) => o.id).sort()).to.deep.equal(expected.sort());
    });

    it('gives their author every document of FindDocuments', async () => {
      const got = await query(findDocuments(patientId), { ...AUTHOR });
      expect(documentsOf(got)).to.deep.equal([plain, masquePs, maskedByPatient, later].sort());
    });

    it('gives the patient every document, masked ones included', async () => {
      expect(documentsOf(await queryAsPatient(findDocuments(patientId), patientId))).to.deep.equal([plain, masquePs, maskedByPatient, later].sort());
    });

    it('GetSubmissionSetAndContents reveals no hidden document: the set that holds one and every association to one are withheld', async () => {
      const hidden = await Promise.all([masquePs, maskedByPatient].map(async (u) => (await registeredIds(p.gw, u)).entryUuid));
      const spec = (uniqueId: string): StoredQuerySpec => ({ queryId: Q.getSubmissionSetAndContents, params: { $XDSSubmissionSetUniqueId: queryString(uniqueId) } });
      const first = await query(spec(firstSet.submissionSet));
      expect(first.status).to.equal('Success');
      expect(documentsOf(first)).to.deep.equal([plain]);
      expect(first.objects.filter((o) => o.tag === 'RegistryPackage')).to.have.length(0);
      expect(first.objects.filter((o) => o.tag === 'Association')).to.have.length(0);
      for (const o of first.objects) expect([o.id, o.source, o.target]).to.not.include.members(hidden);
      const second = await query(spec(secondSet.submissionSet));
      expect(second.objects.map((o) => o.tag).sort()).to.deep.equal(['Association', 'ExtrinsicObject', 'RegistryPackage']);
      const asAuthor = await query(spec(firstSet.submissionSet), { ...AUTHOR });
      expect(documentsOf(asAuthor)).to.have.length(3);
      expect(asAuthor.objects.filter((o) => o.tag === 'Association')).to.have.length(3);
    });

    it('GetAll and GetAssociations return no hidden document and no association with a hidden end', async () => {
      const hidden = await Promise.all([masquePs, maskedByPatient].map(async (u) => (await registeredIds(p.gw, u)).entryUuid));
      const all = await query({
        queryId: Q.getAll,
        params: {
          $patientId: queryString(patientId),
          $XDSDocumentEntryStatus: queryList(STATUS.approved),
          $XDSSubmissionSetStatus: queryList(STATUS.approved),
          $XDSFolderStatus: queryList(STATUS.approved),
        },
      });
      expect(all.status).to.equal('Success');
      expect(documentsOf(all)).to.deep.equal([plain, later].sort());
      for (const o of all.objects) expect([o.id, o.source, o.target]).to.not.include.members(hidden);
      const associations = await query({ queryId: Q.getAssociations, params: { $uuid: queryList(...hidden) } });
      expect(associations.objects).to.deep.equal([]);
    });

    it('answers GetDocuments for a masked document exactly as for an unknown one', async () => {
      const spec = (uniqueId: string): StoredQuerySpec => ({ queryId: Q.getDocuments, params: { $XDSDocumentEntryUniqueId: queryList(uniqueId) } });
      const masked = await query(spec(masquePs));
      const unknown = await query(spec('1.2.250.1.999.9.515151'));
      expect(masked).to.deep.equal(unknown);
      expect(masked).to.deep.equal({ status: 'Success', errors: [], objects: [] });
      expect(documentsOf(await query(spec(masquePs), { ...AUTHOR }))).to.deep.equal([masquePs]);
    });

    it('writes a GetDocuments, which names no patient, into the access history of the patient whose documents it found, hidden ones too', async () => {
      const spec = (uniqueId: string): StoredQuerySpec => ({ queryId: Q.getDocuments, params: { $XDSDocumentEntryUniqueId: queryList(uniqueId) } });
      const unknown = '1.2.250.1.999.9.515152';
      // The transaction hands the audit the patients it found, so that the trail need not read them again.
      const asPatient = async (s: StoredQuerySpec) => {
        const envelope = parseXml(buildIti18Request(s).body.toString('utf8'));
        const caller: PatientCaller = { kind: 'patient', patientId };
        return registryStoredQuery(child(envelope, NS.soap12, 'Body')!.children[0]!, { ...p.gw.gateway.context, caller });
      };
      expect((await asPatient(spec(masquePs))).patientIdsOfAnswer).to.deep.equal([patientId]);
      expect((await asPatient(spec(unknown))).patientIdsOfAnswer).to.equal(undefined);

      const queriesInHistory = async (): Promise<number> => {
        const history = await p.api('GET', recordPath(patientId, '/access-history'), { token });
        return (history.body.events as { operation: string }[]).filter((e) => e.operation === 'ITI-18').length;
      };
      const before = await queriesInHistory();
      expect(documentsOf(await query(spec(plain)))).to.deep.equal([plain]);
      expect(documentsOf(await query(spec(masquePs)))).to.deep.equal([]);
      expect(documentsOf(await query(spec(unknown)))).to.deep.equal([]);
      expect(await queriesInHistory()).to.equal(before + 2);
    });
  });

  describe("the gateway's submission signatures", () => {
    let signing: PolicyGateway;
    before(async () => {
      signing = await startPolicyGateway();
    });
    after(async () => {
      await signing?.close();
    });

    it('withholds the signature of a submission that holds a masked document, and shows the others', async () => {
      const patientId = newPatientId();
      await signing.openRecord(patientId);
      const as = (spec: AssertionSpec): string => signing.idp.security(signing.idp.assertion(spec));
      const send = async (docs: DocSpec[]) => {
        const req = buildIti41Request({ patientId, documents: docs }, 'mtom', { headersXml: as({ ...AUTHOR }) });
        expect(submissionResult(await signing.gw.post('/xds/iti41', req)).status).to.equal('Success');
        return req.uniqueIds.documents;
      };
      const [plain, masked] = (await send([textDoc(), textDoc({ confidentiality: [DMP_CODES.masquePs] })])) as [string, string];
      const [other] = (await send([textDoc()])) as [string];
      const found = async (spec: AssertionSpec) => documentsOf(queryResult(await signing.gw.post('/xds/iti18', buildIti18Request(findDocuments(patientId), { headersXml: as(spec) }))));
      const byAuthor = await found({ ...AUTHOR });
      expect(byAuthor).to.have.length(5);
      const signatures = byAuthor.filter((u) => ![plain, masked, other].includes(u));
      expect(signatures).to.have.length(2);
      const byOther = await found({});
      expect(byOther.filter((u) => !signatures.includes(u))).to.deep.equal([plain, other].sort());
      expect(byOther.filter((u) => signatures.includes(u))).to.have.length(1);
    });
  });

  describe('documents hidden from the patient', () => {
    let patientId: string;
    let plain: string;
    let invisible: string;

    before(async () => {
      patientId = newPatientId();
      await p.openRecord(patientId);
      [plain, invisible] = (await submit(patientId, [textDoc(), textDoc({ confidentiality: [DMP_CODES.invisiblePatient] })])).documents as [string, string];
    });

    it('hides an INVISIBLE_PATIENT document from the patient and shows it after one month (clock injected)', async () => {
      expect(documentsOf(await queryAsPatient(findDocuments(patientId), patientId))).to.deep.equal([plain]);
      const inAMonth = new Date(Date.now() + MONTH_AND_A_DAY);
      expect(documentsOf(await queryAsPatient(findDocuments(patientId), patientId, inAMonth))).to.deep.equal([plain, invisible].sort());
    });

    it('leaves it visible to professionals', async () => {
      expect(documentsOf(await query(findDocuments(patientId)))).to.deep.equal([plain, invisible].sort());
    });
  });

  describe('record-level rules', () => {
    const BLOCKED = '810006666666';
    const refusalOf = (v: QueryView) => ({ status: v.status, errors: v.errors, objects: v.objects.length });

    it('refuses a blocked professional with the rule, the same whether the record holds documents or not', async () => {
      const full = newPatientId();
      const fullToken = await p.openRecord(full);
      const documents = (await submit(full, [textDoc()])).documents;
      const empty = newPatientId();
      const emptyToken = await p.openRecord(empty);
      for (const [patientId, token] of [[full, fullToken], [empty, emptyToken]] as const) {
        expect((await p.api('PUT', recordPath(patientId, `/blocked-professionals/${BLOCKED}`), { token })).status).to.equal(200);
      }
      const expected = { status: 'Failure', errors: [{ code: 'XDSRegistryError', context: 'access refused by rule PROFESSIONAL_BLOCKED: the patient has blocked this professional' }], objects: 0 };
      expect(refusalOf(await query(findDocuments(full), { professionalId: BLOCKED }))).to.deep.equal(expected);
      expect(refusalOf(await query(findDocuments(empty), { professionalId: BLOCKED }))).to.deep.equal(expected);
      const byId = (uniqueId: string): StoredQuerySpec => ({ queryId: Q.getDocuments, params: { $XDSDocumentEntryUniqueId: queryList(uniqueId) } });
      expect(refusalOf(await query(byId(documents[0]!), { professionalId: BLOCKED, patientId: full }))).to.deep.equal(expected);
      expect(refusalOf(await query(byId('1.2.250.1.999.9.616161'), { professionalId: BLOCKED, patientId: full }))).to.deep.equal(expected);
      expect(documentsOf(await query(findDocuments(full)))).to.deep.equal(documents);
    });

    it('refuses any query on a patient without a record (NO_RECORD) or with a closed one (RECORD_CLOSED)', async () => {
      const none = newPatientId();
      expect(await p.gw.registerPatient(none)).to.equal(201);
      const noRecord = await query(findDocuments(none));
      expect(noRecord.status).to.equal('Failure');
      expect(noRecord.errors[0]!.context).to.match(/^access refused by rule NO_RECORD/);
      const closed = newPatientId();
      const token = await p.openRecord(closed);
      await submit(closed, [textDoc()]);
      expect(documentsOf(await query(findDocuments(closed)))).to.have.length(1);
      expect((await p.api('POST', recordPath(closed, '/close'), { token, body: {} })).status).to.equal(200);
      const afterClose = await query(findDocuments(closed), { ...AUTHOR });
      expect(refusalOf(afterClose)).to.deep.include({ status: 'Failure', objects: 0 });
      expect(afterClose.errors[0]!.context).to.match(/^access refused by rule RECORD_CLOSED/);
    });

    it('refuses a token issued for another patient than the one queried', async () => {
      const patientId = newPatientId();
      await p.openRecord(patientId);
      const other = newPatientId();
      await p.openRecord(other);
      const got = await query(findDocuments(patientId), { patientId: other });
      expect(got.errors[0]!.context).to.match(/rule TOKEN_NAMES_ANOTHER_PATIENT/);
    });

    it('allows break-glass unless the patient refused it, and flags it in the access history', async () => {
      const patientId = newPatientId();
      const token = await p.openRecord(patientId);
      const documents = (await submit(patientId, [textDoc()])).documents;
      expect(documentsOf(await query(findDocuments(patientId), { purposeOfUse: 'BRIS_DE_GLACE' }))).to.deep.equal(documents);
      expect((await p.api('PUT', recordPath(patientId, '/emergency-access'), { token, body: { access: 'refused' } })).status).to.equal(200);
      const refused = await query(findDocuments(patientId), { purposeOfUse: 'BRIS_DE_GLACE' });
      expect(refusalOf(refused)).to.deep.equal({
        status: 'Failure',
        errors: [{ code: 'XDSRegistryError', context: 'access refused by rule EMERGENCY_ACCESS_REFUSED: the patient has refused emergency access' }],
        objects: 0,
      });
      expect(documentsOf(await query(findDocuments(patientId)))).to.deep.equal(documents);

      const history = await p.api('GET', recordPath(patientId, '/access-history'), { token });
      const queries = (history.body.events as { operation: string; userId: string; breakGlass: boolean; outcome: number; at: string }[]).filter((e) => e.operation === 'ITI-18');
      expect(queries.map((e) => [e.userId, e.breakGlass, e.outcome])).to.deep.equal([
        [DOCTOR.professionalId, true, 0],
        [DOCTOR.professionalId, true, 4],
        [DOCTOR.professionalId, false, 0],
      ]);
    });
  });
});
