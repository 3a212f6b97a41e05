import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { ASSOCIATION_TYPE, STATUS } from '../../src/ebrim/uuids.js';
import { XdsFailure, type XdsError } from '../../src/errors.js';
import { migrate } from '../../src/registry/migrate.js';
import { DeadlineExceededError, Registry, SubmissionAbandonedError } from '../../src/registry/registry.js';
import { describeEachDb } from '../support/db.js';
import { makeAssociation, makeSubmission, newOid, newPatientId, newSubmissionId, type Submission } from './factory.js';
import { diffCounts, tableCounts } from './tables.js';
import { withRegistryAndPatient } from './suite.js';

const codesOf = (errors: XdsError[]): string[] => errors.map((e) => e.code);

describeEachDb('Registry.commitSubmission', (suite) => {
  let registry: Registry;
  let patientId: string;

  withRegistryAndPatient(suite, (r, p) => {
    registry = r;
    patientId = p;
  });

  const commit = (s: Submission, submissionId = newSubmissionId(), deadline?: number) =>
    registry.commitSubmission({ submissionId, metadata: s.metadata, stored: s.stored, deadline });

  /** Runs `work`, which must fail, and proves that the registry tables are exactly as before. */
  async function writesNothing(work: () => Promise<unknown>): Promise<unknown> {
    const before = await tableCounts(suite.db);
    let thrown: unknown;
    try {
      await work();
    } catch (err) {
      thrown = err;
    }
    expect(thrown, 'the commit should have failed').to.not.equal(undefined);
    expect(diffCounts(before, await tableCounts(suite.db))).to.deep.equal({});
    return thrown;
  }

  it('writes the submission set, documents, codes, authors, folder and associations in one commit', async () => {
    const s = makeSubmission({ patientId, documents: 2, folder: true });
    const before = await tableCounts(suite.db);
    expect(await commit(s)).to.equal('committed');
    expect(diffCounts(before, await tableCounts(suite.db))).to.deep.equal({
      submission_sets: 1,
      submission_set_authors: 1,
      document_entries: 2,
      document_entry_codes: 6,
      document_entry_authors: 2,
      folders: 1,
      folder_codes: 1,
      associations: 7,
    });
  });

  it('records each document with the repository facts and the attributes stored queries filter on', async () => {
    const s = makeSubmission({ patientId });
    const submissionId = newSubmissionId();
    await commit(s, submissionId);
    const doc = s.metadata.documentEntries[0]!;
    const stored = s.stored[0]!;
    const [row] = await suite.db.query<Record<string, unknown>>('select * from document_entries where entry_uuid = $1', [doc.id]);
    expect(row).to.include({
      logical_id: doc.id,
      version: 1,
      unique_id: doc.uniqueId,
      patient_id: patientId,
      status: STATUS.approved,
      mime_type: 'text/xml',
      hash: stored.sha1,
      content_key: stored.contentKey,
      class_code: '10',
      type_code: '11502-2',
      type_scheme: '2.16.840.1.113883.6.1',
      format_code: 'urn:ihe:lab:xd-lab:2008',
      practice_setting_code: 'ETABLISSEMENT',
      healthcare_facility_type_code: 'SA01',
      creation_time: '20240115103000',
      service_start_time: '20240115080000',
      service_stop_time: '20240115090000',
      language_code: 'fr-FR',
      submission_set_uuid: s.metadata.submissionSet.id,
    });
    expect(Number(row!.size)).to.equal(stored.size);
    const codes = await suite.db.query('select kind, code, scheme from document_entry_codes where entry_uuid = $1 order by kind, code', [doc.id]);
    expect(codes).to.deep.equal([
      { kind: 'confidentiality', code: 'MASQUE_PS', scheme: '1.2.250.1.213.1.1.4.13' },
      { kind: 'confidentiality', code: 'N', scheme: '2.16.840.1.113883.5.25' },
      { kind: 'event', code: 'GLUC', scheme: '1.2.250.1.213.2.16' },
    ]);
    const authors = await suite.db.query('select person, institutions, roles, specialties from document_entry_authors where entry_uuid = $1', [doc.id]);
    const author = doc.authors[0]!;
    expect(authors).to.deep.equal([{ person: author.person, institutions: author.institutions, roles: author.roles, specialties: author.specialties }]);
    const [set] = await suite.db.query<Record<string, unknown>>('select * from submission_sets where entry_uuid = $1', [s.metadata.submissionSet.id]);
    expect(set).to.include({ submission_id: submissionId, unique_id: s.metadata.submissionSet.uniqueId, source_id: '1.2.250.1.999.7', content_type_code: '04' });
  });

  it('keeps every object’s ebRIM form exactly as submitted', async () => {
    const s = makeSubmission({ patientId, documents: 2, folder: true });
    await commit(s);
    const rimOf = async (table: string, id: string) => (await suite.db.query<{ rim: unknown }>(`select rim from ${table} where entry_uuid = $1`, [id]))[0]?.rim;
    const { submissionSet, documentEntries, folders, associations } = s.metadata;
    expect(await rimOf('submission_sets', submissionSet.id)).to.deep.equal(submissionSet.rim);
    for (const d of documentEntries) expect(await rimOf('document_entries', d.id)).to.deep.equal(d.rim);
    for (const f of folders) expect(await rimOf('folders', f.id)).to.deep.equal(f.rim);
    for (const a of associations) expect(await rimOf('associations', a.id)).to.deep.equal(a.rim);
  });

  it('records an ITI-42 document with the submitted hash and size and no content key', async () => {
    const s = makeSubmission({ patientId });
    const doc = s.metadata.documentEntries[0]!;
    doc.hash = 'DA39A3EE5E6B4B0D3255BFEF95601890AFD80709';
    doc.size = '1234';
    doc.repositoryUniqueId = '1.2.250.1.999.1.1.9';
    await registry.commitSubmission({ submissionId: newSubmissionId(), metadata: s.metadata, stored: [] });
    const found = (await registry.findDocumentsForRetrieve([doc.uniqueId])).get(doc.uniqueId);
    expect(found).to.include({ contentKey: null, hash: 'da39a3ee5e6b4b0d3255bfef95601890afd80709', size: 1234, repositoryUniqueId: '1.2.250.1.999.1.1.9' });
  });

  it('answers already-committed, writing nothing, when the same submission id is committed again', async () => {
    const s = makeSubmission({ patientId, documents: 2 });
    const submissionId = newSubmissionId();
    expect(await commit(s, submissionId)).to.equal('committed');
    const before = await tableCounts(suite.db);
    expect(await commit(s, submissionId)).to.equal('already-committed');
    expect(diffCounts(before, await tableCounts(suite.db))).to.deep.equal({});
    expect(await registry.isSubmissionCommitted(submissionId)).to.equal(true);
    expect(await registry.isSubmissionCommitted(newSubmissionId())).to.equal(false);
  });

  it('rejects a submission for an unknown patient with XDSUnknownPatientId naming the patient, writing nothing', async () => {
    const stranger = newPatientId();
    const s = makeSubmission({ patientId: stranger });
    const err = await writesNothing(() => commit(s));
    expect(err).to.be.instanceOf(XdsFailure);
    const errors = (err as XdsFailure).errors;
    expect(codesOf(errors)).to.deep.equal(['XDSUnknownPatientId']);
    expect(errors[0]!.message).to.contain(stranger);
  });

  it('rejects a document uniqueId already registered for the same bytes with XDSDuplicateUniqueIdInRegistry, writing nothing', async () => {
    const bytes = randomBytes(100);
    const uniqueId = newOid();
    await commit(makeSubmission({ patientId, documents: [{ patientId, uniqueId, bytes }] }));
    const again = makeSubmission({ patientId, documents: [{ patientId, uniqueId, bytes }] });
    const err = (await writesNothing(() => commit(again))) as XdsFailure;
    expect(codesOf(err.errors)).to.deep.equal(['XDSDuplicateUniqueIdInRegistry']);
    expect(err.errors[0]!.message).to.contain(uniqueId);
    expect(err.errors[0]!.location).to.equal(again.metadata.documentEntries[0]!.submittedId);
  });

  it('rejects a document uniqueId already registered for other bytes with XDSNonIdenticalHash, writing nothing', async () => {
    const uniqueId = newOid();
    await commit(makeSubmission({ patientId, documents: [{ patientId, uniqueId }] }));
    const err = (await writesNothing(() => commit(makeSubmission({ patientId, documents: [{ patientId, uniqueId }] })))) as XdsFailure;
    expect(codesOf(err.errors)).to.deep.equal(['XDSNonIdenticalHash']);
  });

  it('rejects a submission set uniqueId already registered with XDSDuplicateUniqueIdInRegistry, writing nothing', async () => {
    const first = makeSubmission({ patientId });
    await commit(first);
    const second = makeSubmission({ patientId });
    second.metadata.submissionSet.uniqueId = first.metadata.submissionSet.uniqueId;
    const err = (await writesNothing(() => commit(second))) as XdsFailure;
    expect(codesOf(err.errors)).to.deep.equal(['XDSDuplicateUniqueIdInRegistry']);
    expect(err.errors[0]!.message).to.contain('SubmissionSet');
  });

  it('rejects a folder uniqueId already registered with XDSDuplicateUniqueIdInRegistry, writing nothing', async () => {
    const first = makeSubmission({ patientId, folder: true });
    await commit(first);
    const second = makeSubmission({ patientId, folder: true });
    second.metadata.folders[0]!.uniqueId = first.metadata.folders[0]!.uniqueId;
    const err = (await writesNothing(() => commit(second))) as XdsFailure;
    expect(codesOf(err.errors)).to.deep.equal(['XDSDuplicateUniqueIdInRegistry']);
    expect(err.errors[0]!.message).to.contain('Folder');
  });

  it('rejects an association to an object neither submitted nor registered with UnresolvedReferenceException naming it', async () => {
    const missing = 'urn:uuid:00000000-0000-4000-8000-000000000001';
    const s = makeSubmission({ patientId, associations: (_ss, docs) => [makeAssociation(ASSOCIATION_TYPE.replace, docs[0]!.id, missing)] });
    const err = (await writesNothing(() => commit(s))) as XdsFailure;
    expect(codesOf(err.errors)).to.deep.equal(['UnresolvedReferenceException']);
    expect(err.errors[0]!.message).to.contain(missing);
  });

  it('accepts associations to documents already in the registry', async () => {
    const first = makeSubmission({ patientId });
    await commit(first);
    const existing = first.metadata.documentEntries[0]!.id;
    const s = makeSubmission({
      patientId,
      associations: (ss, docs) => [makeAssociation(ASSOCIATION_TYPE.append, docs[0]!.id, existing), makeAssociation(ASSOCIATION_TYPE.hasMember, ss.id, existing, 'Reference')],
    });
    expect(await commit(s)).to.equal('committed');
  });

  it('reports every problem of a submission at once', async () => {
    const taken = makeSubmission({ patientId, documents: 2 });
    await commit(taken);
    const stranger = newPatientId();
    const s = makeSubmission({
      patientId,
      documents: taken.metadata.documentEntries.map((d) => ({ patientId, uniqueId: d.uniqueId })),
      associations: (ss) => [makeAssociation(ASSOCIATION_TYPE.hasMember, ss.id, 'urn:uuid:00000000-0000-4000-8000-000000000002', 'Reference')],
    });
    s.metadata.submissionSet.patientId = stranger;
    const err = (await writesNothing(() => commit(s))) as XdsFailure;
    expect(codesOf(err.errors)).to.have.members(['XDSUnknownPatientId', 'XDSNonIdenticalHash', 'XDSNonIdenticalHash', 'UnresolvedReferenceException']);
  });

  it('rejects a uniqueId repeated inside one submission with XDSRegistryDuplicateUniqueIdInMessage', async () => {
    const uniqueId = newOid();
    const s = makeSubmission({ patientId, documents: [{ patientId, uniqueId }, { patientId, uniqueId }] });
    const err = (await writesNothing(() => commit(s))) as XdsFailure;
    expect(codesOf(err.errors)).to.deep.equal(['XDSRegistryDuplicateUniqueIdInMessage']);
  });

  it('rejects an entryUUID already used in the registry with XDSRegistryMetadataError', async () => {
    const first = makeSubmission({ patientId });
    await commit(first);
    const s = makeSubmission({ patientId, folder: true });
    s.metadata.folders[0]!.id = first.metadata.documentEntries[0]!.id;
    const err = (await writesNothing(() => commit(s))) as XdsFailure;
    expect(codesOf(err.errors)).to.include('XDSRegistryMetadataError');
  });

  it('rolls back and throws DeadlineExceededError when the deadline has passed at commit time', async () => {
    const s = makeSubmission({ patientId, documents: 2, folder: true });
    const err = await writesNothing(() => commit(s, newSubmissionId(), Date.now() - 1));
    expect(err).to.be.instanceOf(DeadlineExceededError);
    expect(await registry.findDocumentsForRetrieve(s.metadata.documentEntries.map((d) => d.uniqueId))).to.have.property('size', 0);
  });

  it('commits when the deadline is still ahead', async () => {
    expect(await commit(makeSubmission({ patientId }), newSubmissionId(), Date.now() + 60_000)).to.equal('committed');
  });

  describe('a submission the gateway lost track of (abandonSubmission)', () => {
    const registered = async (s: Submission): Promise<number> =>
      (await registry.findDocumentsForRetrieve(s.metadata.documentEntries.map((d) => d.uniqueId))).size;

    it('is marked abandoned before its commit; the commit that comes later rolls back and writes nothing', async () => {
      const s = makeSubmission({ patientId, documents: 2, folder: true });
      const submissionId = newSubmissionId();
      expect(await registry.abandonSubmission(submissionId)).to.equal('abandoned');
      expect(await registry.abandonSubmission(submissionId), 'settled for good').to.equal('abandoned');
      const err = await writesNothing(() => commit(s, submissionId, Date.now() + 60_000));
      expect(err).to.be.instanceOf(SubmissionAbandonedError);
      expect(await registered(s)).to.equal(0);
    });

    it('is answered committed, and never marked, once its commit happened', async () => {
      const s = makeSubmission({ patientId });
      const submissionId = newSubmissionId();
      await commit(s, submissionId);
      expect(await registry.abandonSubmission(submissionId)).to.equal('committed');
      expect(await commit(s, submissionId)).to.equal('already-committed');
      const [row] = await suite.db.query<{ n: number }>('select count(*)::int as n from abandoned_submissions where submission_id = $1', [submissionId]);
      expect(row!.n).to.equal(0);
    });

    it('racing its commit, always gets the answer the registry holds', async () => {
      for (let round = 0; round < 12; round++) {
        const s = makeSubmission({ patientId });
        const submissionId = newSubmissionId();
        const [committed, abandoned] = await Promise.allSettled([commit(s, submissionId), registry.abandonSubmission(submissionId)]);
        if (abandoned.status !== 'fulfilled') throw abandoned.reason;
        if (abandoned.value === 'committed') {
          expect(committed.status).to.equal('fulfilled');
          expect(await registered(s)).to.equal(1);
        } else {
          expect(committed.status).to.equal('rejected');
          expect((committed as PromiseRejectedResult).reason).to.be.instanceOf(SubmissionAbandonedError);
          expect(await registered(s)).to.equal(0);
        }
      }
    });

    it('keeps its mark for the given time, then the purge removes it', async () => {
      const submissionId = newSubmissionId();
      await registry.abandonSubmission(submissionId);
      expect(await registry.purgeAbandonedSubmissions(60_000)).to.equal(0);
      await suite.db.query("update abandoned_submissions set abandoned_at = now() - interval '2 minutes' where submission_id = $1", [submissionId]);
      expect(await registry.purgeAbandonedSubmissions(60_000)).to.equal(1);
      const [row] = await suite.db.query<{ n: number }>('select count(*)::int as n from abandoned_submissions where submission_id = $1', [submissionId]);
      expect(row!.n).to.equal(0);
    });
  });

  it('lets exactly one of two concurrent submissions of the same document uniqueId win', async () => {
    for (let round = 0; round < 5; round++) {
      const uniqueId = newOid();
      const bytes = randomBytes(50);
      const a = makeSubmission({ patientId, documents: [{ patientId, uniqueId, bytes }] });
      const b = makeSubmission({ patientId, documents: [{ patientId, uniqueId, bytes }] });
      const results = await Promise.allSettled([commit(a), commit(b)]);
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(won.map((r) => r.value)).to.deep.equal(['committed']);
      expect(lost).to.have.length(1);
      expect(lost[0]!.reason).to.be.instanceOf(XdsFailure);
      expect(codesOf((lost[0]!.reason as XdsFailure).errors)).to.deep.equal(['XDSDuplicateUniqueIdInRegistry']);
      const [row] = await suite.db.query<{ n: number }>('select count(*)::int as n from document_entries where unique_id = $1', [uniqueId]);
      expect(row!.n).to.equal(1);
    }
  });

  it('settles two concurrent submissions sharing documents in opposite order: one wins, the other names both duplicates', async () => {
    const ids = [newOid(), newOid()];
    const bytes = [randomBytes(40), randomBytes(40)];
    const a = makeSubmission({ patientId, documents: [0, 1].map((i) => ({ patientId, uniqueId: ids[i], bytes: bytes[i] })) });
    const b = makeSubmission({ patientId, documents: [1, 0].map((i) => ({ patientId, uniqueId: ids[i], bytes: bytes[i] })) });
    const results = await Promise.allSettled([commit(a), commit(b)]);
    expect(results.filter((r) => r.status === 'fulfilled')).to.have.length(1);
    const lost = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(codesOf((lost!.reason as XdsFailure).errors)).to.deep.equal(['XDSDuplicateUniqueIdInRegistry', 'XDSDuplicateUniqueIdInRegistry']);
  });

  it('commits a submission once when the same job runs twice at the same time', async () => {
    const s = makeSubmission({ patientId, documents: 2 });
    const submissionId = newSubmissionId();
    const results = await Promise.all([commit(s, submissionId), commit(s, submissionId)]);
    expect(results.sort()).to.deep.equal(['already-committed', 'committed']);
    const [row] = await suite.db.query<{ n: number }>('select count(*)::int as n from submission_sets where submission_id = $1', [submissionId]);
    expect(row!.n).to.equal(1);
  });

  it('stamps an existing folder’s lastUpdateTime when a later submission adds a document to it', async () => {
    const first = makeSubmission({ patientId, folder: true });
    await commit(first);
    const folderId = first.metadata.folders[0]!.id;
    await suite.db.query(`update folders set last_update_time = '20000101000000' where entry_uuid = $1`, [folderId]);
    const s = makeSubmission({
      patientId,
      associations: (ss, docs) => {
        const inFolder = makeAssociation(ASSOCIATION_TYPE.hasMember, folderId, docs[0]!.id);
        return [inFolder, makeAssociation(ASSOCIATION_TYPE.hasMember, ss.id, inFolder.id, 'Original')];
      },
    });
    await commit(s);
    const [row] = await suite.db.query<{ t: string }>('select last_update_time as t from folders where entry_uuid = $1', [folderId]);
    expect(row!.t).to.match(/^\d{14}$/);
    expect(row!.t > '20000101000000').to.equal(true);
  });
});

describeEachDb('Registry.checkSubmission', (suite) => {
  let registry: Registry;
  let patientId: string;

  before(async () => {
    await migrate(suite.db);
    registry = new Registry(suite.db);
    patientId = newPatientId();
    await registry.registerPatient(patientId);
  });

  it('finds nothing wrong with a new submission for a known patient', async () => {
    const s = makeSubmission({ patientId, documents: 2, folder: true });
    expect(await registry.checkSubmission(s.metadata, s.stored)).to.deep.equal([]);
  });

  it('reports the errors a commit would raise, without writing anything', async () => {
    const taken = makeSubmission({ patientId });
    await registry.commitSubmission({ submissionId: newSubmissionId(), metadata: taken.metadata, stored: taken.stored });
    const s = makeSubmission({ patientId: newPatientId(), documents: [{ patientId, uniqueId: taken.metadata.documentEntries[0]!.uniqueId }] });
    const before = await tableCounts(suite.db);
    expect(codesOf(await registry.checkSubmission(s.metadata, s.stored))).to.have.members(['XDSUnknownPatientId', 'XDSNonIdenticalHash']);
    expect(diffCounts(before, await tableCounts(suite.db))).to.deep.equal({});
  });
});
