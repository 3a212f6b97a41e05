import { expect } from 'chai';
import type { Association, DocumentEntry } from '../../src/ebrim/model.js';
import { ASSOCIATION_TYPE, STATUS } from '../../src/ebrim/uuids.js';
import { XdsFailure } from '../../src/errors.js';
import { Registry } from '../../src/registry/registry.js';
import { describeEachDb } from '../support/db.js';
import { makeAssociation, makeDocumentEntry, makeFolder, makeSubmission, newPatientId, newSubmissionId, type Submission } from './factory.js';
import { diffCounts, tableCounts } from './tables.js';
import { withRegistryAndPatient } from './suite.js';

const { replace: RPLC, append: APND, transform: XFRM, transformAndReplace: XFRM_RPLC, hasMember: HAS_MEMBER } = ASSOCIATION_TYPE;

describeEachDb('document lifecycle in the registry commit', (suite) => {
  let registry: Registry;
  let patientId: string;

  withRegistryAndPatient(suite, (r, p) => {
    registry = r;
    patientId = p;
  });

  const commit = (s: Submission) => registry.commitSubmission({ submissionId: newSubmissionId(), metadata: s.metadata, stored: s.stored });

  async function registered(opts: { folder?: boolean } = {}): Promise<Submission & { doc: DocumentEntry }> {
    const s = makeSubmission({ patientId, folder: opts.folder });
    await commit(s);
    return { ...s, doc: s.metadata.documentEntries[0]! };
  }

  /** A new document linked to `targetId` by an association of `type`. */
  const relating = (type: string, targetId: string, patient = patientId) =>
    makeSubmission({ patientId: patient, associations: (_ss, docs) => [makeAssociation(type, docs[0]!.id, targetId)] });

  async function statusOf(entryUuid: string): Promise<string> {
    const [row] = await suite.db.query<{ status: string }>('select status from document_entries where entry_uuid = $1', [entryUuid]);
    return row!.status;
  }

  /** The XDS codes of a commit that must fail, after proving it wrote nothing. */
  async function refused(s: Submission): Promise<string[]> {
    const before = await tableCounts(suite.db);
    const err = await commit(s).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err, 'the commit should have failed').to.be.instanceOf(XdsFailure);
    expect(diffCounts(before, await tableCounts(suite.db))).to.deep.equal({});
    return (err as XdsFailure).errors.map((e) => e.code);
  }

  describe('RPLC', () => {
    it('deprecates the original and registers the replacement Approved in the same commit', async () => {
      const original = await registered();
      const replacement = relating(RPLC, original.doc.id);
      await commit(replacement);
      expect(await statusOf(original.doc.id)).to.equal(STATUS.deprecated);
      expect(await statusOf(replacement.metadata.documentEntries[0]!.id)).to.equal(STATUS.approved);
    });

    it('puts the replacement in the folders of the original and stamps their lastUpdateTime', async () => {
      const original = await registered({ folder: true });
      const folderId = original.metadata.folders[0]!.id;
      await suite.db.query(`update folders set last_update_time = '20000101000000' where entry_uuid = $1`, [folderId]);
      const replacement = relating(RPLC, original.doc.id);
      await commit(replacement);
      const members = await suite.db.query<{ target_uuid: string }>(
        'select target_uuid from associations where source_uuid = $1 and association_type = $2',
        [folderId, HAS_MEMBER],
      );
      expect(members.map((m) => m.target_uuid)).to.have.members([original.doc.id, replacement.metadata.documentEntries[0]!.id]);
      const [folder] = await suite.db.query<{ t: string }>('select last_update_time as t from folders where entry_uuid = $1', [folderId]);
      expect(folder!.t > '20000101000000').to.equal(true);
    });

    it('refuses to replace a Deprecated document with XDSRegistryDeprecatedDocumentError', async () => {
      const original = await registered();
      await commit(relating(RPLC, original.doc.id));
      expect(await refused(relating(RPLC, original.doc.id))).to.deep.equal(['XDSRegistryDeprecatedDocumentError']);
    });

    it('refuses to replace an unknown document with UnresolvedReferenceException', async () => {
      expect(await refused(relating(RPLC, 'urn:uuid:00000000-0000-4000-8000-000000000001'))).to.deep.equal(['UnresolvedReferenceException']);
    });

    it('refuses a replacement of another patient with XDSPatientIdDoesNotMatch', async () => {
      const original = await registered();
      const other = newPatientId();
      await registry.registerPatient(other);
      expect(await refused(relating(RPLC, original.doc.id, other))).to.deep.equal(['XDSPatientIdDoesNotMatch']);
      expect(await statusOf(original.doc.id)).to.equal(STATUS.approved);
    });

    it('refuses two replacements of one document in a submission with XDSReplaceFailed', async () => {
      const original = await registered();
      const s = makeSubmission({
        patientId,
        documents: 2,
        associations: (_ss, docs) => docs.map((d) => makeAssociation(RPLC, d.id, original.doc.id)),
      });
      expect(await refused(s)).to.deep.equal(['XDSReplaceFailed']);
    });

    it('refuses to replace a Folder with XDSReplaceFailed', async () => {
      const withFolder = await registered({ folder: true });
      expect(await refused(relating(RPLC, withFolder.metadata.folders[0]!.id))).to.deep.equal(['XDSReplaceFailed']);
    });

    it('lets exactly one of two concurrent replacements of a document win', async () => {
      const original = await registered();
      const outcomes = await Promise.allSettled([commit(relating(RPLC, original.doc.id)), commit(relating(RPLC, original.doc.id))]);
      expect(outcomes.filter((o) => o.status === 'fulfilled')).to.have.length(1);
      const failure = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
      expect((failure.reason as XdsFailure).errors.map((e) => e.code)).to.deep.equal(['XDSRegistryDeprecatedDocumentError']);
      const [row] = await suite.db.query<{ n: number }>('select count(*)::int as n from associations where target_uuid = $1 and association_type = $2', [original.doc.id, RPLC]);
      expect(row!.n).to.equal(1);
    });
  });

  describe('APND, XFRM, XFRM_RPLC', () => {
    it('APND leaves the original Approved', async () => {
      const original = await registered();
      const addendum = relating(APND, original.doc.id);
      await commit(addendum);
      expect(await statusOf(original.doc.id)).to.equal(STATUS.approved);
      expect(await statusOf(addendum.metadata.documentEntries[0]!.id)).to.equal(STATUS.approved);
    });

    it('APND to a Deprecated document is refused with XDSRegistryDeprecatedDocumentError', async () => {
      const original = await registered();
      await commit(relating(RPLC, original.doc.id));
      expect(await refused(relating(APND, original.doc.id))).to.deep.equal(['XDSRegistryDeprecatedDocumentError']);
    });

    it('XFRM leaves the original Approved', async () => {
      const original = await registered();
      const transform = relating(XFRM, original.doc.id);
      await commit(transform);
      expect(await statusOf(original.doc.id)).to.equal(STATUS.approved);
      expect(await statusOf(transform.metadata.documentEntries[0]!.id)).to.equal(STATUS.approved);
    });

    it('XFRM_RPLC deprecates the original', async () => {
      const original = await registered();
      const transform = relating(XFRM_RPLC, original.doc.id);
      await commit(transform);
      expect(await statusOf(original.doc.id)).to.equal(STATUS.deprecated);
      expect(await statusOf(transform.metadata.documentEntries[0]!.id)).to.equal(STATUS.approved);
    });

    it('XFRM of another patient’s document is refused with XDSPatientIdDoesNotMatch', async () => {
      const original = await registered();
      const other = newPatientId();
      await registry.registerPatient(other);
      expect(await refused(relating(XFRM, original.doc.id, other))).to.deep.equal(['XDSPatientIdDoesNotMatch']);
    });
  });

  describe('folders', () => {
    /** A submission that only files `documentId` into `folderId`: the HasMember and the SubmissionSet's HasMember to it. */
    function filing(folderId: string, documentId: string, withSubmissionSetLink = true, patient = patientId): Submission {
      const s = makeSubmission({ patientId: patient, documents: [] });
      const inFolder = makeAssociation(HAS_MEMBER, folderId, documentId);
      const links: Association[] = [inFolder];
      if (withSubmissionSetLink) links.push(makeAssociation(HAS_MEMBER, s.metadata.submissionSet.id, inFolder.id, 'Original'));
      return { ...s, metadata: { ...s.metadata, associations: [...s.metadata.associations, ...links] } };
    }

    it('creates a folder with its documents, Approved, lastUpdateTime set', async () => {
      const s = await registered({ folder: true });
      const [row] = await suite.db.query<{ status: string; t: string }>('select status, last_update_time as t from folders where entry_uuid = $1', [s.metadata.folders[0]!.id]);
      expect(row!.status).to.equal(STATUS.approved);
      expect(row!.t).to.match(/^\d{14}$/);
    });

    it('adds an existing document to an existing folder and stamps the folder', async () => {
      const withFolder = await registered({ folder: true });
      const folderId = withFolder.metadata.folders[0]!.id;
      const other = await registered();
      await suite.db.query(`update folders set last_update_time = '20000101000000' where entry_uuid = $1`, [folderId]);
      await commit(filing(folderId, other.doc.id));
      const members = await suite.db.query<{ target_uuid: string }>('select target_uuid from associations where source_uuid = $1', [folderId]);
      expect(members.map((m) => m.target_uuid)).to.include(other.doc.id);
      const [folder] = await suite.db.query<{ t: string }>('select last_update_time as t from folders where entry_uuid = $1', [folderId]);
      expect(folder!.t > '20000101000000').to.equal(true);
    });

    it('refuses a folder membership the SubmissionSet does not hold with XDSRegistryMetadataError', async () => {
      const withFolder = await registered({ folder: true });
      const other = await registered();
      expect(await refused(filing(withFolder.metadata.folders[0]!.id, other.doc.id, false))).to.deep.equal(['XDSRegistryMetadataError']);
    });

    it('refuses to file another patient’s document with XDSPatientIdDoesNotMatch', async () => {
      const withFolder = await registered({ folder: true });
      const otherPatient = newPatientId();
      await registry.registerPatient(otherPatient);
      const foreign = makeSubmission({ patientId: otherPatient });
      await commit(foreign);
      expect(await refused(filing(withFolder.metadata.folders[0]!.id, foreign.metadata.documentEntries[0]!.id))).to.include('XDSPatientIdDoesNotMatch');
    });

    it('refuses a new folder of another patient than its documents with XDSPatientIdDoesNotMatch', async () => {
      const s = makeSubmission({ patientId, documents: 0 });
      const other = newPatientId();
      await registry.registerPatient(other);
      const folder = makeFolder(patientId);
      const doc = makeDocumentEntry({ patientId: other });
      const inFolder = makeAssociation(HAS_MEMBER, folder.id, doc.id);
      s.metadata.folders.push(folder);
      s.metadata.documentEntries.push(doc);
      s.metadata.associations.push(
        makeAssociation(HAS_MEMBER, s.metadata.submissionSet.id, folder.id, 'Original'),
        makeAssociation(HAS_MEMBER, s.metadata.submissionSet.id, doc.id, 'Original'),
        inFolder,
        makeAssociation(HAS_MEMBER, s.metadata.submissionSet.id, inFolder.id, 'Original'),
      );
      expect(await refused(s)).to.include('XDSPatientIdDoesNotMatch');
    });
  });
});
