import { expect } from 'chai';
import { ASSOCIATION_TYPE } from '../../src/ebrim/uuids.js';
import { XdsFailure } from '../../src/errors.js';
import { deletionRefusal, xonOrganisationId, type Caller } from '../../src/registry/deletion.js';
import { migrate } from '../../src/registry/migrate.js';
import { Registry } from '../../src/registry/registry.js';
import { describeEachDb } from '../support/db.js';
import { makeAssociation, makeSubmission, newPatientId, newSubmissionId, type Submission } from './factory.js';
import { diffCounts, tableCounts } from './tables.js';

/** The organisation of the factory's author: 'CHU de Test^^^^^&1.2.250.1.71.4.2.2&ISO^IDNST^^^1234567890'. */
const AUTHOR_ORGANISATION = '1234567890';

describe('who may delete a document (DMP rule)', () => {
  const institution = 'CHU de Test^^^^^&1.2.250.1.71.4.2.2&ISO^IDNST^^^1234567890';

  it('reads the organisation id of an XON from XON.10, else XON.3', () => {
    expect(xonOrganisationId(institution)).to.equal('1234567890');
    expect(xonOrganisationId('Clinique^^987654')).to.equal('987654');
    expect(xonOrganisationId('Clinique sans identifiant')).to.equal(undefined);
  });

  it('allows a caller of an author’s organisation', () => {
    expect(deletionRefusal({ organisationId: '1234567890' }, [institution], false, 'urn:uuid:x')).to.equal(undefined);
  });

  it('refuses a caller of another organisation', () => {
    expect(deletionRefusal({ organisationId: '1111111111' }, [institution], false, 'urn:uuid:x')?.message).to.match(/not an author's organisation/);
    expect(deletionRefusal({ organisationId: '1111111111' }, [institution], true, 'urn:uuid:x')).to.not.equal(undefined);
  });

  it('refuses without an authenticated caller unless deletion without identity is allowed', () => {
    expect(deletionRefusal({}, [institution], false, 'urn:uuid:x')?.message).to.match(/no authenticated caller.*DELETE_WITHOUT_CALLER_IDENTITY/);
    expect(deletionRefusal({}, [institution], true, 'urn:uuid:x')).to.equal(undefined);
  });
});

describeEachDb('logical deletion in the registry (ITI-62)', (suite) => {
  let registry: Registry;
  let patientId: string;
  const author: Caller = { organisationId: AUTHOR_ORGANISATION };

  before(async () => {
    await migrate(suite.db);
    registry = new Registry(suite.db);
  });
  beforeEach(async () => {
    patientId = newPatientId();
    await registry.registerPatient(patientId);
  });

  async function registered(s: Submission = makeSubmission({ patientId })) {
    await registry.commitSubmission({ submissionId: newSubmissionId(), metadata: s.metadata, stored: s.stored });
    const doc = s.metadata.documentEntries[0]!;
    const membership = s.metadata.associations.find((a) => a.targetObject === doc.id)!;
    return { s, doc, refs: [doc.id, membership.id] };
  }

  const remove = (objectRefs: string[], caller: Caller = author, allowWithoutCaller = false) =>
    registry.deleteObjects({ objectRefs, caller, allowWithoutCaller, messageId: 'urn:uuid:message-1' });

  /** Deletion records and objects marked deleted: a refused deletion changes neither. */
  const deletionState = () =>
    suite.db.query(`select (select count(*) from deletions)::int as records,
      (select count(*) from document_entries where deleted_at is not null)::int as documents,
      (select count(*) from associations where deleted_at is not null)::int as associations`);

  async function refusedCodes(work: () => Promise<unknown>): Promise<string[]> {
    const before = await tableCounts(suite.db);
    const deletedBefore = await deletionState();
    const err = await work().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(XdsFailure);
    expect(diffCounts(before, await tableCounts(suite.db))).to.deep.equal({});
    expect(await deletionState()).to.deep.equal(deletedBefore);
    return (err as XdsFailure).errors.map((e) => e.code);
  }

  it('marks the document and its association deleted, keeps the rows and the content key, and records who asked', async () => {
    const { doc, refs, s } = await registered();
    const before = await tableCounts(suite.db);
    expect(await remove(refs)).to.equal(2);
    expect(diffCounts(before, await tableCounts(suite.db))).to.deep.equal({});
    const [row] = await suite.db.query<{ deleted: boolean; content_key: string }>('select deleted_at is not null as deleted, content_key from document_entries where entry_uuid = $1', [doc.id]);
    expect(row).to.deep.equal({ deleted: true, content_key: s.stored[0]!.contentKey });
    const recorded = await suite.db.query<{ entry_uuid: string; object_kind: string; organisation_id: string; message_id: string }>(
      'select entry_uuid, object_kind, organisation_id, message_id from deletions where entry_uuid = any($1::text[]) order by object_kind',
      [refs],
    );
    expect(recorded).to.deep.equal([
      { entry_uuid: refs[1], object_kind: 'Association', organisation_id: AUTHOR_ORGANISATION, message_id: 'urn:uuid:message-1' },
      { entry_uuid: doc.id, object_kind: 'DocumentEntry', organisation_id: AUTHOR_ORGANISATION, message_id: 'urn:uuid:message-1' },
    ]);
  });

  it('makes the document unretrievable', async () => {
    const { doc, refs } = await registered();
    expect((await registry.findDocumentsForRetrieve([doc.uniqueId])).has(doc.uniqueId)).to.equal(true);
    await remove(refs);
    expect((await registry.findDocumentsForRetrieve([doc.uniqueId])).has(doc.uniqueId)).to.equal(false);
  });

  it('refuses an unknown or already deleted object with UnresolvedReferenceException', async () => {
    const { refs } = await registered();
    expect(await refusedCodes(() => remove(['urn:uuid:00000000-0000-4000-8000-000000000002']))).to.deep.equal(['UnresolvedReferenceException']);
    await remove(refs);
    expect(await refusedCodes(() => remove(refs))).to.deep.equal(['UnresolvedReferenceException', 'UnresolvedReferenceException']);
  });

  it('refuses to leave an association pointing at a deleted document with ReferencesExistException', async () => {
    const { doc } = await registered();
    expect(await refusedCodes(() => remove([doc.id]))).to.deep.equal(['ReferencesExistException']);
  });

  it('refuses a caller of another organisation, and no caller unless allowed', async () => {
    const { refs, doc } = await registered();
    expect(await refusedCodes(() => remove(refs, { organisationId: '1111111111' }))).to.deep.equal(['XDSRegistryError']);
    expect(await refusedCodes(() => remove(refs, {}))).to.include('XDSRegistryError');
    expect(await remove(refs, {}, true)).to.equal(2);
    const [row] = await suite.db.query<{ organisation_id: string | null }>('select organisation_id from deletions where entry_uuid = $1', [doc.id]);
    expect(row!.organisation_id).to.equal(null);
  });

  it('makes a deleted document an unknown target for RPLC', async () => {
    const { doc, refs } = await registered();
    await remove(refs);
    const replacement = makeSubmission({ patientId, associations: (_ss, docs) => [makeAssociation(ASSOCIATION_TYPE.replace, docs[0]!.id, doc.id)] });
    const err = await registry.commitSubmission({ submissionId: newSubmissionId(), metadata: replacement.metadata, stored: replacement.stored }).catch((e: unknown) => e);
    expect((err as XdsFailure).errors.map((e) => e.code)).to.deep.equal(['UnresolvedReferenceException']);
  });
});
