import { expect } from 'chai';
import type { Author, Code, DocumentEntry } from '../../../src/ebrim/model.js';
import type { AdhocQuery } from '../../../src/ebrim/query-request.js';
import { LeafClassWriter, rimObjectTemplate, rimObjectXml, type RegistryFacts } from '../../../src/ebrim/serialize.js';
import { ASSOCIATION_TYPE, OBJECT_TYPE, STATUS } from '../../../src/ebrim/uuids.js';
import { insertSubmission } from '../../../src/registry/insert.js';
import { migrate } from '../../../src/registry/migrate.js';
import { STORED_QUERIES } from '../../../src/registry/stored-queries/definitions.js';
import { writeLeafClass, type ResultObject } from '../../../src/registry/stored-queries/execute.js';
import { runStoredQuery, type StoredQueryAnswer } from '../../../src/registry/stored-queries/run.js';
import { describeEachDb } from '../../support/db.js';
import { queryList as list, queryString as quoted } from '../../support/requests.js';
import { makeAssociation, makeSubmission, newPatientId, newSubmissionId, type Submission } from '../factory.js';

/** The LeafClass XML of an answer object as ITI-18 writes it. */
function leafClassXml(o: ResultObject, facts: RegistryFacts): string {
  const out = new LeafClassWriter();
  writeLeafClass(out, o, facts);
  return out.bytes().toString('utf8');
}

const Q = Object.fromEntries(STORED_QUERIES.map((q) => [q.name, q.id])) as Record<string, string>;
const HOME = 'urn:oid:1.2.250.1.999.1.1';
const CLASS_SCHEME = '1.2.250.1.213.1.1.4.1';
const EVENT_SCHEME = '1.2.250.1.213.2.16';
const CONF_HL7 = '2.16.840.1.113883.5.25';
const REFERENCE_ID_LIST = 'urn:ihe:iti:xds:2013:referenceIdList';

type Params = Record<string, string | string[] | string[][]>;

/** A request as parsed: a string is one rim:Value, an array several rim:Values, an array of arrays repeated slots. */
function request(name: string, params: Params, returnType: 'LeafClass' | 'ObjectRef' = 'ObjectRef'): AdhocQuery {
  const slots = Object.entries(params).flatMap(([slotName, v]) => {
    if (typeof v === 'string') return [{ name: slotName, values: [v] }];
    if (v.every((x) => typeof x === 'string')) return [{ name: slotName, values: v as string[] }];
    return (v as string[][]).map((values) => ({ name: slotName, values }));
  });
  return { queryId: Q[name]!, returnType, slots };
}

const code = (c: string, scheme: string, displayName?: string): Code => ({ code: c, codingScheme: scheme, displayName });
const author = (person: string): Author => ({ person, institutions: [], roles: [], specialties: [], telecommunications: [] });

/** Changes the queried attributes of a factory entry (typed fields feed the indexed columns). */
function vary(d: DocumentEntry, v: Partial<DocumentEntry> & { referenceIds?: string[] }): void {
  Object.assign(d, v);
  if (v.entryType === 'on-demand') d.rim.objectType = OBJECT_TYPE.onDemandDocumentEntry;
  if (v.referenceIds) d.rim.slots.push({ name: REFERENCE_ID_LIST, values: v.referenceIds });
}

describeEachDb('ITI-18 stored queries on the registry', (suite) => {
  const p1 = newPatientId();
  const p2 = newPatientId();
  let a: Submission; // p1: folder with a1, a2, a3
  let b: Submission; // p1: b1 XFRM a1, b2 APND a1, b3 signs a1
  let c: Submission; // p2: c1
  let a1: DocumentEntry, a2: DocumentEntry, a3: DocumentEntry, b1: DocumentEntry, b2: DocumentEntry, c1: DocumentEntry;

  const run = (name: string, params: Params, returnType: 'LeafClass' | 'ObjectRef' = 'ObjectRef', maxResults = 1000): Promise<StoredQueryAnswer> =>
    runStoredQuery(suite.db, request(name, params, returnType), { maxResults, homeCommunityId: HOME });
  const ids = async (name: string, params: Params): Promise<string[]> => {
    const answer = await run(name, params);
    expect(answer.errors.filter((e) => e.severity === 'Error'), JSON.stringify(answer.errors)).to.deep.equal([]);
    return answer.objects.map((o) => o.id).sort();
  };
  const errorCodes = async (name: string, params: Params, returnType: 'LeafClass' | 'ObjectRef' = 'ObjectRef', maxResults = 1000): Promise<string[]> => {
    const answer = await run(name, params, returnType, maxResults);
    expect(answer.objects).to.deep.equal([]);
    return answer.errors.filter((e) => e.severity === 'Error').map((e) => e.code);
  };
  const sorted = (...docs: { id: string }[]): string[] => docs.map((d) => d.id).sort();
  const approved = list(STATUS.approved);
  const findP1 = (more: Params = {}): Params => ({ $XDSDocumentEntryPatientId: quoted(p1), $XDSDocumentEntryStatus: approved, ...more });

  before(async function () {
    this.timeout(60_000);
    await migrate(suite.db);
    a = makeSubmission({ patientId: p1, documents: 3, folder: true });
    [a1, a2, a3] = a.metadata.documentEntries as [DocumentEntry, DocumentEntry, DocumentEntry];
    vary(a1, {
      classCode: code('10', CLASS_SCHEME),
      creationTime: '20240115103000',
      serviceStartTime: '20240115080000',
      serviceStopTime: '20240115090000',
      eventCodes: [code('GLUC', EVENT_SCHEME)],
      confidentialityCodes: [code('N', CONF_HL7), code('MASQUE_PS', '1.2.250.1.213.1.1.4.13')],
      authors: [author('801234567890^MARTIN^Jeanne^^^Dr^^^&1.2.250.1.71.4.2.1&ISO')],
      referenceIds: ['ORD-1^^^&1.2.250.1.999.5&ISO^urn:ihe:iti:xds:2013:order'],
    });
    vary(a2, {
      classCode: code('11', CLASS_SCHEME),
      typeCode: code('74207-2', '2.16.840.1.113883.6.1'),
      formatCode: code('urn:asip:ci-sis:dlu:2015', '1.2.250.1.213.1.1.4.2.282'),
      practiceSettingCode: code('AMBULATOIRE', '1.2.250.1.213.1.1.4.9'),
      healthcareFacilityTypeCode: code('SA25', '1.2.250.1.71.4.2.4'),
      creationTime: '2023',
      serviceStartTime: '20231201',
      serviceStopTime: '20231202',
      eventCodes: [code('GLUC', EVENT_SCHEME), code('HBA1C', EVENT_SCHEME)],
      confidentialityCodes: [code('N', CONF_HL7)],
      authors: [author('809999999999^DURAND^Paul^^^Dr^^^&1.2.250.1.71.4.2.1&ISO')],
    });
    vary(a3, { entryType: 'on-demand', creationTime: '20240201' });

    b = makeSubmission({
      patientId: p1,
      documents: 3,
      associations: (_ss, docs) => [
        makeAssociation(ASSOCIATION_TYPE.transform, docs[0]!.id, a1.id),
        makeAssociation(ASSOCIATION_TYPE.append, docs[1]!.id, a1.id),
        makeAssociation(ASSOCIATION_TYPE.signs, docs[2]!.id, a1.id),
      ],
    });
    [b1, b2] = b.metadata.documentEntries as [DocumentEntry, DocumentEntry];
    for (const d of b.metadata.documentEntries) {
      vary(d, {
        classCode: code('12', CLASS_SCHEME),
        creationTime: '20220601',
        serviceStartTime: '20220601',
        serviceStopTime: '20220602',
        eventCodes: [],
        confidentialityCodes: [code('R', CONF_HL7)],
        authors: [author('^ROBOT^Automate^^^^^^&1.2.250.1.999.6&ISO')],
      });
    }
    b.metadata.submissionSet.sourceId = '1.2.250.1.999.8';
    b.metadata.submissionSet.submissionTime = '20240301120000';
    b.metadata.submissionSet.authors = [author('^SOURCE^Automate')];
    b.metadata.submissionSet.contentTypeCode = code('01', '1.2.250.1.213.1.1.4.12');

    c = makeSubmission({ patientId: p2, documents: 1 });
    [c1] = c.metadata.documentEntries as [DocumentEntry];
    for (const s of [a, b, c]) await insertSubmission(suite.db, newSubmissionId(), s.metadata, s.stored, '20240301120000');
  });

  describe('FindDocuments', () => {
    it("finds the patient's Approved stable documents and no other patient's", async () => {
      expect(await ids('FindDocuments', findP1())).to.deep.equal(sorted(a1, a2, ...b.metadata.documentEntries));
      expect(await ids('FindDocuments', { ...findP1(), $XDSDocumentEntryPatientId: quoted(newPatientId()) })).to.deep.equal([]);
    });

    it('selects on-demand entries only when $XDSDocumentEntryType asks for them', async () => {
      expect(await ids('FindDocuments', findP1({ $XDSDocumentEntryType: list(OBJECT_TYPE.onDemandDocumentEntry) }))).to.deep.equal(sorted(a3));
      const both = await ids('FindDocuments', findP1({ $XDSDocumentEntryType: list(OBJECT_TYPE.onDemandDocumentEntry, OBJECT_TYPE.stableDocumentEntry) }));
      expect(both).to.include(a3.id).and.include(a1.id);
    });

    it('ORs the values of one code slot and matches the scheme when given', async () => {
      expect(await ids('FindDocuments', findP1({ $XDSDocumentEntryClassCode: list('11') }))).to.deep.equal(sorted(a2));
      expect(await ids('FindDocuments', findP1({ $XDSDocumentEntryClassCode: list(`11^^${CLASS_SCHEME}`, '99') }))).to.deep.equal(sorted(a2));
      expect(await ids('FindDocuments', findP1({ $XDSDocumentEntryClassCode: list('11^^9.9.9') }))).to.deep.equal([]);
      expect(await ids('FindDocuments', findP1({ $XDSDocumentEntryClassCode: [list('11'), quoted('10')] }))).to.include(a1.id).and.include(a2.id);
    });

    for (const [param, value] of [
      ['$XDSDocumentEntryTypeCode', '74207-2'],
      ['$XDSDocumentEntryFormatCode', 'urn:asip:ci-sis:dlu:2015'],
      ['$XDSDocumentEntryPracticeSettingCode', 'AMBULATOIRE'],
      ['$XDSDocumentEntryHealthcareFacilityTypeCode', 'SA25'],
    ] as const) {
      it(`narrows on ${param}`, async () => {
        expect(await ids('FindDocuments', findP1({ [param]: list(value) }))).to.deep.equal(sorted(a2));
        expect(await ids('FindDocuments', findP1({ [param]: list('no-such-code') }))).to.deep.equal([]);
      });
    }

    it('takes creationTime From as inclusive and To as exclusive', async () => {
      expect(await ids('FindDocuments', findP1({ $XDSDocumentEntryCreationTimeFrom: '20240115103000', $XDSDocumentEntryCreationTimeTo: '20240115103001' }))).to.deep.equal(
        sorted(a1),
      );
      expect(await ids('FindDocuments', findP1({ $XDSDocumentEntryCreationTimeFrom: '20240115103001', $XDSDocumentEntryClassCode: list('10') }))).to.not.include(a1.id);
      expect(await ids('FindDocuments', findP1({ $XDSDocumentEntryCreationTimeTo: '20240115103000', $XDSDocumentEntryClassCode: list('10') }))).to.deep.equal([]);
    });

    it('compares partial times by the first second of their period', async () => {
      // a2 was created in '2023', i.e. from 20230101000000.
      expect(await ids('FindDocuments', findP1({ $XDSDocumentEntryCreationTimeFrom: '2023', $XDSDocumentEntryCreationTimeTo: '2024' }))).to.deep.equal(sorted(a2));
      expect(await ids('FindDocuments', findP1({ $XDSDocumentEntryCreationTimeFrom: '202301', $XDSDocumentEntryCreationTimeTo: '20230101000001' }))).to.deep.equal(sorted(a2));
      expect(await ids('FindDocuments', findP1({ $XDSDocumentEntryCreationTimeFrom: '20230101000001', $XDSDocumentEntryCreationTimeTo: '2024' }))).to.deep.equal([]);
      expect(await ids('FindDocuments', findP1({ $XDSDocumentEntryCreationTimeFrom: '202401', $XDSDocumentEntryCreationTimeTo: '202402' }))).to.deep.equal(sorted(a1));
    });

    it('narrows on service start and stop time ranges', async () => {
      expect(await ids('FindDocuments', findP1({ $XDSDocumentEntryServiceStartTimeFrom: '202312', $XDSDocumentEntryServiceStartTimeTo: '2024' }))).to.deep.equal(sorted(a2));
      expect(await ids('FindDocuments', findP1({ $XDSDocumentEntryServiceStopTimeFrom: '20240115090000', $XDSDocumentEntryServiceStopTimeTo: '20240115090001' }))).to.deep.equal(
        sorted(a1),
      );
    });

    it('ORs event codes inside a slot and ANDs repeated slots', async () => {
      expect(await ids('FindDocuments', findP1({ $XDSDocumentEntryEventCodeList: list('HBA1C', 'GLUC') }))).to.deep.equal(sorted(a1, a2));
      expect(await ids('FindDocuments', findP1({ $XDSDocumentEntryEventCodeList: [[list('GLUC')], [list('HBA1C')]] }))).to.deep.equal(sorted(a2));
      expect(await ids('FindDocuments', findP1({ $XDSDocumentEntryEventCodeList: [[list(`GLUC^^${EVENT_SCHEME}`)], [list('NONE')]] }))).to.deep.equal([]);
    });

    it('ANDs repeated confidentiality code slots', async () => {
      expect(await ids('FindDocuments', findP1({ $XDSDocumentEntryConfidentialityCode: list('MASQUE_PS', 'V') }))).to.deep.equal(sorted(a1));
      expect(await ids('FindDocuments', findP1({ $XDSDocumentEntryConfidentialityCode: [[list('N')], [list('MASQUE_PS')]] }))).to.deep.equal(sorted(a1));
      expect(await ids('FindDocuments', findP1({ $XDSDocumentEntryConfidentialityCode: [[list('N')], [list('V')]] }))).to.deep.equal([]);
    });

    it('matches author persons with % and _ wildcards, values ORed', async () => {
      expect(await ids('FindDocuments', findP1({ $XDSDocumentEntryAuthorPerson: list('%^MARTIN^%') }))).to.deep.equal(sorted(a1));
      expect(await ids('FindDocuments', findP1({ $XDSDocumentEntryAuthorPerson: list('%^DUR_ND^%', '%^MARTIN^%') }))).to.deep.equal(sorted(a1, a2));
      expect(await ids('FindDocuments', findP1({ $XDSDocumentEntryAuthorPerson: list('MARTIN') }))).to.deep.equal([]);
      expect(await ids('FindDocuments', findP1({ $XDSDocumentEntryAuthorPerson: list('%^MART^%') }))).to.deep.equal([]);
    });

    it('narrows on status: Deprecated entries only when asked', async () => {
      await suite.db.query('update document_entries set status = $1 where entry_uuid = $2', [STATUS.deprecated, b2.id]);
      try {
        expect(await ids('FindDocuments', findP1())).to.not.include(b2.id);
        expect(await ids('FindDocuments', findP1({ $XDSDocumentEntryStatus: list(STATUS.deprecated) }))).to.deep.equal(sorted(b2));
        expect(await ids('FindDocuments', findP1({ $XDSDocumentEntryStatus: list(STATUS.deprecated, STATUS.approved) }))).to.include(b2.id).and.include(a1.id);
      } finally {
        await suite.db.query('update document_entries set status = $1 where entry_uuid = $2', [STATUS.approved, b2.id]);
      }
    });

    it('leaves logically deleted entries out', async () => {
      await suite.db.query('update document_entries set deleted_at = now() where entry_uuid = $1', [b2.id]);
      try {
        expect(await ids('FindDocuments', findP1())).to.not.include(b2.id);
        expect(await ids('GetDocuments', { $XDSDocumentEntryEntryUUID: list(b2.id) })).to.deep.equal([]);
      } finally {
        await suite.db.query('update document_entries set deleted_at = null where entry_uuid = $1', [b2.id]);
      }
    });

    it('returns LeafClass objects with their stored ebRIM form and registry status', async () => {
      const answer = await run('FindDocuments', findP1({ $XDSDocumentEntryClassCode: list('11') }), 'LeafClass');
      expect(answer.objects).to.have.length(1);
      const o = answer.objects[0]!;
      expect(o.id).to.equal(a2.id);
      expect(o.leafXml, 'rendered at commit').to.be.a('string');
      expect(leafClassXml(o, { status: o.status, lid: o.logicalId, versionName: '1' })).to.equal(rimObjectXml(a2.rim, { status: STATUS.approved, lid: a2.id, versionName: '1' }));
      expect(o.status).to.equal(STATUS.approved);
      expect(answer.objects[0]!.version).to.equal(1);
    });

    it('renders an object committed without a template from its stored ebRIM form', async () => {
      await suite.db.query('update document_entries set leaf_xml = null where entry_uuid = $1', [a2.id]);
      try {
        const o = (await run('FindDocuments', findP1({ $XDSDocumentEntryClassCode: list('11') }), 'LeafClass')).objects[0]!;
        expect(o.leafXml).to.equal(undefined);
        expect(leafClassXml(o, { status: o.status })).to.equal(rimObjectXml(a2.rim, { status: STATUS.approved }));
      } finally {
        await suite.db.query('update document_entries set leaf_xml = $2 where entry_uuid = $1', [a2.id, rimObjectTemplate(a2.rim)]);
      }
    });

    it('answers XDSTooManyResults above the limit for LeafClass, not for ObjectRef', async () => {
      expect(await errorCodes('FindDocuments', findP1(), 'LeafClass', 2)).to.deep.equal(['XDSTooManyResults']);
      expect((await run('FindDocuments', findP1(), 'ObjectRef', 2)).objects.length).to.be.greaterThan(2);
    });
  });

  describe('FindDocumentsByReferenceId', () => {
    it('finds the entry carrying one of the reference ids, and nothing for others', async () => {
      const ref = 'ORD-1^^^&1.2.250.1.999.5&ISO^urn:ihe:iti:xds:2013:order';
      expect(await ids('FindDocumentsByReferenceId', findP1({ $XDSDocumentEntryReferenceIdList: list(ref, 'other') }))).to.deep.equal(sorted(a1));
      expect(await ids('FindDocumentsByReferenceId', findP1({ $XDSDocumentEntryReferenceIdList: list('ORD-1') }))).to.deep.equal([]);
      expect(await errorCodes('FindDocumentsByReferenceId', findP1())).to.deep.equal(['XDSStoredQueryMissingParam']);
    });
  });

  describe('FindSubmissionSets', () => {
    const findSets = (more: Params = {}): Params => ({ $XDSSubmissionSetPatientId: quoted(p1), $XDSSubmissionSetStatus: approved, ...more });
    const setB = () => b.metadata.submissionSet.id;

    it("finds the patient's submission sets and narrows on source, time, author and content type", async () => {
      expect(await ids('FindSubmissionSets', findSets())).to.deep.equal([a.metadata.submissionSet.id, setB()].sort());
      expect(await ids('FindSubmissionSets', findSets({ $XDSSubmissionSetSourceId: list('1.2.250.1.999.8') }))).to.deep.equal([setB()]);
      expect(await ids('FindSubmissionSets', findSets({ $XDSSubmissionSetSubmissionTimeFrom: '20240301120000', $XDSSubmissionSetSubmissionTimeTo: '2025' }))).to.deep.equal([setB()]);
      expect(await ids('FindSubmissionSets', findSets({ $XDSSubmissionSetAuthorPerson: quoted('%SOURCE%') }))).to.deep.equal([setB()]);
      expect(await ids('FindSubmissionSets', findSets({ $XDSSubmissionSetContentType: list('01^^1.2.250.1.213.1.1.4.12') }))).to.deep.equal([setB()]);
      expect(await ids('FindSubmissionSets', findSets({ $XDSSubmissionSetStatus: list(STATUS.deprecated) }))).to.deep.equal([]);
    });
  });

  describe('FindFolders', () => {
    const findFolders = (more: Params = {}): Params => ({ $XDSFolderPatientId: quoted(p1), $XDSFolderStatus: approved, ...more });

    it('finds the folder by patient, code list and lastUpdateTime range', async () => {
      const folder = a.metadata.folders[0]!.id;
      expect(await ids('FindFolders', findFolders())).to.deep.equal([folder]);
      expect(await ids('FindFolders', findFolders({ $XDSFolderCodeList: [[list('BIO', 'X')], [list('BIO^^1.2.250.1.999.3')]] }))).to.deep.equal([folder]);
      expect(await ids('FindFolders', findFolders({ $XDSFolderCodeList: [[list('BIO')], [list('X')]] }))).to.deep.equal([]);
      expect(await ids('FindFolders', findFolders({ $XDSFolderLastUpdateTimeFrom: '20240301', $XDSFolderLastUpdateTimeTo: '20240302' }))).to.deep.equal([folder]);
      expect(await ids('FindFolders', findFolders({ $XDSFolderLastUpdateTimeTo: '20240301120000' }))).to.deep.equal([]);
      expect(await ids('FindFolders', { ...findFolders(), $XDSFolderPatientId: quoted(p2) })).to.deep.equal([]);
    });
  });

  describe('GetAll', () => {
    it('returns every object of the patient with the associations between them', async () => {
      const got = await ids('GetAll', { $patientId: quoted(p1), $XDSDocumentEntryStatus: approved, $XDSSubmissionSetStatus: approved, $XDSFolderStatus: approved });
      const m = [a.metadata, b.metadata];
      const expected = m.flatMap((x) => [x.submissionSet.id, ...x.folders.map((f) => f.id), ...x.documentEntries.filter((d) => d.entryType === 'stable').map((d) => d.id)]);
      expect(got).to.include.members(expected);
      expect(got).to.include.members(b.metadata.associations.map((x) => x.id));
      expect(got).to.not.include(a3.id).and.not.include(c1.id);
    });

    it('narrows documents on format and confidentiality codes', async () => {
      const got = await ids('GetAll', {
        $patientId: quoted(p1),
        $XDSDocumentEntryStatus: approved,
        $XDSSubmissionSetStatus: approved,
        $XDSFolderStatus: approved,
        $XDSDocumentEntryConfidentialityCode: list('MASQUE_PS'),
      });
      expect(got).to.include(a1.id).and.not.include(a2.id);
    });
  });

  describe('Get queries by id', () => {
    const nobody = 'urn:uuid:00000000-0000-4000-8000-000000000001';

    it('Get queries answer nothing for ids the registry does not hold', async () => {
      expect(await ids('GetAssociations', { $uuid: list(nobody) })).to.deep.equal([]);
      expect(await ids('GetDocumentsAndAssociations', { $XDSDocumentEntryUniqueId: list('1.2.3.4.5') })).to.deep.equal([]);
      expect(await ids('GetSubmissionSets', { $uuid: list(nobody) })).to.deep.equal([]);
      expect(await ids('GetFolderAndContents', { $XDSFolderEntryUUID: quoted(nobody) })).to.deep.equal([]);
      expect(await ids('GetFolders', { $XDSFolderEntryUUID: list(nobody) })).to.deep.equal([]);
    });

    it('GetDocuments finds entries by entryUUID or by uniqueId, whatever their status', async () => {
      expect(await ids('GetDocuments', { $XDSDocumentEntryEntryUUID: list(a1.id, a2.id) })).to.deep.equal(sorted(a1, a2));
      expect(await ids('GetDocuments', { $XDSDocumentEntryUniqueId: list(a3.uniqueId) })).to.deep.equal(sorted(a3));
      expect(await ids('GetDocuments', { $XDSDocumentEntryUniqueId: list('1.2.3.4.5') })).to.deep.equal([]);
    });

    it('GetDocuments answers XDSResultNotSinglePatient for entries of two patients', async () => {
      expect(await errorCodes('GetDocuments', { $XDSDocumentEntryEntryUUID: list(a1.id, c1.id) })).to.deep.equal(['XDSResultNotSinglePatient']);
    });

    it('GetFolders finds the folder by entryUUID or uniqueId', async () => {
      const folder = a.metadata.folders[0]!;
      expect(await ids('GetFolders', { $XDSFolderEntryUUID: list(folder.id) })).to.deep.equal([folder.id]);
      expect(await ids('GetFolders', { $XDSFolderUniqueId: list(folder.uniqueId) })).to.deep.equal([folder.id]);
      expect(await ids('GetFolders', { $XDSFolderUniqueId: list(a1.uniqueId) })).to.deep.equal([]);
    });

    it('GetAssociations returns the associations with the object at either end', async () => {
      const got = await ids('GetAssociations', { $uuid: list(a1.id) });
      const expected = [...a.metadata.associations, ...b.metadata.associations].filter((x) => x.sourceObject === a1.id || x.targetObject === a1.id).map((x) => x.id);
      expect(got).to.deep.equal(expected.sort());
    });

    it('GetDocumentsAndAssociations returns the entries and their associations', async () => {
      const got = await ids('GetDocumentsAndAssociations', { $XDSDocumentEntryUniqueId: list(b1.uniqueId) });
      const expected = b.metadata.associations.filter((x) => x.sourceObject === b1.id || x.targetObject === b1.id).map((x) => x.id);
      expect(got).to.deep.equal([b1.id, ...expected].sort());
    });

    it('GetSubmissionSets returns the submission sets holding the objects, with the HasMember associations', async () => {
      const got = await ids('GetSubmissionSets', { $uuid: list(a1.id, b1.id) });
      const members = [...a.metadata.associations, ...b.metadata.associations].filter(
        (x) => (x.targetObject === a1.id || x.targetObject === b1.id) && (x.sourceObject === a.metadata.submissionSet.id || x.sourceObject === b.metadata.submissionSet.id),
      );
      expect(got).to.deep.equal([a.metadata.submissionSet.id, b.metadata.submissionSet.id, ...members.map((x) => x.id)].sort());
    });

    it('GetSubmissionSetAndContents returns the set, its documents, folder and associations, narrowed by format code', async () => {
      const all = await ids('GetSubmissionSetAndContents', { $XDSSubmissionSetUniqueId: quoted(a.metadata.submissionSet.uniqueId) });
      expect(all).to.include.members([a.metadata.submissionSet.id, a1.id, a2.id, a.metadata.folders[0]!.id]);
      expect(all).to.not.include(a3.id);
      expect(all).to.include.members(a.metadata.associations.filter((x) => x.targetObject !== a3.id && !a.metadata.associations.some((y) => y.id === x.targetObject && y.targetObject === a3.id)).map((x) => x.id));
      const narrowed = await ids('GetSubmissionSetAndContents', {
        $XDSSubmissionSetEntryUUID: quoted(a.metadata.submissionSet.id),
        $XDSDocumentEntryFormatCode: list('urn:asip:ci-sis:dlu:2015'),
      });
      expect(narrowed).to.include(a2.id).and.not.include(a1.id);
      expect(await ids('GetSubmissionSetAndContents', { $XDSSubmissionSetUniqueId: quoted('1.2.3.4') })).to.deep.equal([]);
    });

    it('GetFolderAndContents returns the folder, its documents and the HasMember associations', async () => {
      const folder = a.metadata.folders[0]!;
      const links = a.metadata.associations.filter((x) => x.sourceObject === folder.id && x.targetObject !== a3.id).map((x) => x.id);
      expect(await ids('GetFolderAndContents', { $XDSFolderEntryUUID: quoted(folder.id) })).to.deep.equal([folder.id, a1.id, a2.id, ...links].sort());
      const confidential = await ids('GetFolderAndContents', { $XDSFolderUniqueId: quoted(folder.uniqueId), $XDSDocumentEntryConfidentialityCode: list('MASQUE_PS') });
      expect(confidential).to.include(a1.id).and.not.include(a2.id);
    });

    it('GetFoldersForDocument returns the folders holding the document', async () => {
      expect(await ids('GetFoldersForDocument', { $XDSDocumentEntryUniqueId: quoted(a1.uniqueId) })).to.deep.equal([a.metadata.folders[0]!.id]);
      expect(await ids('GetFoldersForDocument', { $XDSDocumentEntryEntryUUID: quoted(b1.id) })).to.deep.equal([]);
    });
  });

  describe('GetRelatedDocuments', () => {
    const related = (types: string[], doc = a1) => ids('GetRelatedDocuments', { $XDSDocumentEntryEntryUUID: quoted(doc.id), $AssociationTypes: list(...types) });
    const assoc = (type: string) => b.metadata.associations.find((x) => x.type === type)!;

    it('follows XFRM, APND and signs associations, with the document itself', async () => {
      expect(await related([ASSOCIATION_TYPE.transform])).to.deep.equal([a1.id, b1.id, assoc(ASSOCIATION_TYPE.transform).id].sort());
      expect(await related([ASSOCIATION_TYPE.append, ASSOCIATION_TYPE.signs])).to.deep.equal(
        [a1.id, b2.id, b.metadata.documentEntries[2]!.id, assoc(ASSOCIATION_TYPE.append).id, assoc(ASSOCIATION_TYPE.signs).id].sort(),
      );
    });

    it('follows an RPLC association from the replacement to the deprecated original', async () => {
      const r = makeSubmission({ patientId: p1, documents: 1, associations: (_ss, docs) => [makeAssociation(ASSOCIATION_TYPE.replace, docs[0]!.id, a2.id)] });
      await insertSubmission(suite.db, newSubmissionId(), r.metadata, r.stored, '20240401120000');
      await suite.db.query('update document_entries set status = $1 where entry_uuid = $2', [STATUS.deprecated, a2.id]);
      try {
        const replacement = r.metadata.documentEntries[0]!;
        const rplc = r.metadata.associations.find((x) => x.type === ASSOCIATION_TYPE.replace)!;
        expect(await related([ASSOCIATION_TYPE.replace, ASSOCIATION_TYPE.transformAndReplace], replacement)).to.deep.equal([replacement.id, a2.id, rplc.id].sort());
      } finally {
        await suite.db.query('update document_entries set status = $1 where entry_uuid = $2', [STATUS.approved, a2.id]);
        await suite.db.query('update document_entries set deleted_at = now() where submission_set_uuid = $1', [r.metadata.submissionSet.id]);
      }
    });

    it('returns nothing when no association of those types exists', async () => {
      expect(await related([ASSOCIATION_TYPE.replace])).to.deep.equal([]);
      expect(await related([ASSOCIATION_TYPE.transform], a2)).to.deep.equal([]);
    });
  });

  describe('errors', () => {
    it('answers XDSUnknownStoredQuery for an id that is not a stored query', async () => {
      const answer = await runStoredQuery(suite.db, { queryId: 'urn:uuid:00000000-0000-4000-8000-000000000000', returnType: 'ObjectRef', slots: [] }, { maxResults: 10, homeCommunityId: HOME });
      expect(answer.errors.map((e) => e.code)).to.deep.equal(['XDSUnknownStoredQuery']);
    });

    it('answers XDSStoredQueryMissingParam, XDSStoredQueryParamNumber and XDSRegistryError', async () => {
      expect(await errorCodes('FindDocuments', { $XDSDocumentEntryStatus: approved })).to.deep.equal(['XDSStoredQueryMissingParam']);
      expect(await errorCodes('FindDocuments', findP1({ $XDSDocumentEntryPatientId: list(p1, p2) }))).to.deep.equal(['XDSStoredQueryParamNumber']);
      expect(await errorCodes('FindDocuments', findP1({ $XDSDocumentEntryCreationTimeFrom: '20241301' }))).to.deep.equal(['XDSRegistryError']);
      expect(await errorCodes('GetFolderAndContents', { $XDSFolderEntryUUID: list(a.metadata.folders[0]!.id, a.metadata.folders[0]!.id) })).to.deep.equal(['XDSStoredQueryParamNumber']);
    });

    it('answers XDSUnknownCommunity for another homeCommunityId and accepts ours', async () => {
      expect(await errorCodes('GetDocuments', { $XDSDocumentEntryEntryUUID: list(a1.id), $homeCommunityId: quoted('urn:oid:1.2.3') })).to.deep.equal(['XDSUnknownCommunity']);
      const answer = await run('GetDocuments', { $XDSDocumentEntryEntryUUID: list(a1.id), $homeCommunityId: quoted(HOME) });
      expect(answer.home).to.equal(HOME);
      expect(answer.objects.map((o) => o.id)).to.deep.equal([a1.id]);
    });
  });

  describe('SQL injection', () => {
    const attempts = ["x' or '1'='1", "'); drop table document_entries; --", 'x%\' or 1=1 --', '\\\'; select pg_sleep(5); --'];
    const stringTypes = new Set(['text', 'uniqueId', 'authorPattern', 'associationType', 'code', 'patientId', 'uuid', 'homeCommunityId']);

    it('treats an injection attempt in every string parameter of every query as a value: an error or no match', async function () {
      this.timeout(60_000);
      const before = await suite.db.query<{ n: number }>('select count(*)::int as n from document_entries');
      for (const def of STORED_QUERIES) {
        for (const p of def.params.filter((x) => stringTypes.has(x.type))) {
          for (const attempt of attempts) {
            const params: Params = {};
            for (const other of def.params.filter((x) => x.required)) params[other.name] = other.type === 'status' ? approved : quoted(p1);
            if (def.oneOf && !def.oneOf.some((g) => g.includes(p.name))) params[def.oneOf[0]![0]] = quoted(attempt);
            if (def.name === 'GetRelatedDocuments' && p.name !== '$AssociationTypes') params.$AssociationTypes = list(ASSOCIATION_TYPE.transform);
            params[p.name] = quoted(attempt);
            const answer = await run(def.name, params);
            const failed = answer.errors.some((e) => e.severity === 'Error');
            // Without an error, the answer is the one a harmless value that matches nothing gets.
            const baseline = failed ? [] : (await run(def.name, { ...params, [p.name]: quoted('zz-no-match') })).objects.map((o) => o.id);
            expect(failed || answer.objects.map((o) => o.id).join() === baseline.join(), `${def.name} ${p.name} ${attempt}`).to.equal(true);
          }
        }
      }
      const after = await suite.db.query<{ n: number }>('select count(*)::int as n from document_entries');
      expect(after).to.deep.equal(before);
    });
  });
});
