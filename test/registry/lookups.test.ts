import { expect } from 'chai';
import { STATUS } from '../../src/ebrim/uuids.js';
import { Registry } from '../../src/registry/registry.js';
import { describeEachDb } from '../support/db.js';
import { makeSubmission, newOid, newPatientId, newSubmissionId } from './factory.js';
import { withRegistryAndPatient } from './suite.js';

describeEachDb('Registry lookups', (suite) => {
  let registry: Registry;
  let patientId: string;

  withRegistryAndPatient(suite, (r, p) => {
    registry = r;
    patientId = p;
  });

  it('registers a patient once and reports it as existing afterwards', async () => {
    const other = newPatientId();
    expect(await registry.patientExists(other)).to.equal(false);
    expect(await registry.registerPatient(other)).to.equal('created');
    expect(await registry.registerPatient(other)).to.equal('exists');
    expect(await registry.patientExists(other)).to.equal(true);
  });

  it('finds documents for retrieve by uniqueId with their patient, content key, size, hash and repository', async () => {
    const s = makeSubmission({ patientId, documents: 2 });
    for (const d of s.metadata.documentEntries) d.repositoryUniqueId = '1.2.250.1.999.1.1.1';
    await registry.commitSubmission({ submissionId: newSubmissionId(), metadata: s.metadata, stored: s.stored });
    const unknown = newOid();
    const found = await registry.findDocumentsForRetrieve([...s.metadata.documentEntries.map((d) => d.uniqueId), unknown]);
    expect([...found.keys()].sort()).to.deep.equal(s.metadata.documentEntries.map((d) => d.uniqueId).sort());
    s.metadata.documentEntries.forEach((d, i) => {
      const st = s.stored[i]!;
      expect(found.get(d.uniqueId)).to.deep.equal({
        uniqueId: d.uniqueId,
        entryUuid: d.id,
        patientId,
        contentKey: st.contentKey,
        mimeType: 'text/xml',
        repositoryUniqueId: '1.2.250.1.999.1.1.1',
        size: st.size,
        hash: st.sha1,
        status: STATUS.approved,
      });
    });
  });

  it('still finds a Deprecated document for retrieve', async () => {
    const s = makeSubmission({ patientId });
    const doc = s.metadata.documentEntries[0]!;
    await registry.commitSubmission({ submissionId: newSubmissionId(), metadata: s.metadata, stored: s.stored });
    await suite.db.query('update document_entries set status = $1 where entry_uuid = $2', [STATUS.deprecated, doc.id]);
    expect((await registry.findDocumentsForRetrieve([doc.uniqueId])).get(doc.uniqueId)?.status).to.equal(STATUS.deprecated);
  });

  it('finds nothing for an empty list of uniqueIds', async () => {
    expect((await registry.findDocumentsForRetrieve([])).size).to.equal(0);
  });

  it('tells which content keys the registry still references', async () => {
    const s = makeSubmission({ patientId, documents: 2 });
    await registry.commitSubmission({ submissionId: newSubmissionId(), metadata: s.metadata, stored: s.stored });
    const orphan = 'f'.repeat(64);
    const keys = s.stored.map((st) => st.contentKey);
    expect(await registry.referencedContentKeys([...keys, orphan])).to.deep.equal(new Set(keys));
    expect(await registry.referencedContentKeys([])).to.deep.equal(new Set());
  });

  it('counts documents, submission sets and patients', async () => {
    const before = await registry.counts();
    const s = makeSubmission({ patientId, documents: 3 });
    await registry.commitSubmission({ submissionId: newSubmissionId(), metadata: s.metadata, stored: s.stored });
    await registry.registerPatient(newPatientId());
    expect(await registry.counts()).to.deep.equal({
      documentEntries: before.documentEntries + 3,
      submissionSets: before.submissionSets + 1,
      patients: before.patients + 1,
    });
  });
});
