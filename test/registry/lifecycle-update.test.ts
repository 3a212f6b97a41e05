import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { DocumentEntry, SubmissionMetadata } from '../../src/ebrim/model.js';
import { ASSOCIATION_TYPE, STATUS } from '../../src/ebrim/uuids.js';
import { XdsFailure } from '../../src/errors.js';
import { Registry } from '../../src/registry/registry.js';
import { UPDATE_AVAILABILITY_STATUS } from '../../src/registry/update.js';
import { describeEachDb } from '../support/db.js';
import { makeAssociation, makeDocumentEntry, makeSubmission, newPatientId, newSubmissionId, type Submission } from './factory.js';
import { diffCounts, tableCounts } from './tables.js';
import { withRegistryAndPatient } from './suite.js';

/** A new version of `doc`: its lid and uniqueId, a fresh entryUUID, another title. */
function newVersionOf(doc: DocumentEntry, title = 'Résultats de biologie (corrigés)'): DocumentEntry {
  const fresh = makeDocumentEntry({ patientId: doc.patientId, uniqueId: doc.uniqueId, title });
  return { ...fresh, lid: doc.lid, rim: { ...fresh.rim, lid: doc.lid } };
}

/** An ITI-57 SubmissionSet carrying `versions` (HasMember with PreviousVersion) and status changes. */
function updateSet(
  patientId: string,
  versions: { entry: DocumentEntry; previousVersion?: string }[],
  statusChanges: { target: string; from: string; to: string }[] = [],
): SubmissionMetadata {
  const { submissionSet } = makeSubmission({ patientId, documents: 0 }).metadata;
  const associations = versions.map(({ entry, previousVersion }) => {
    const a = makeAssociation(ASSOCIATION_TYPE.hasMember, submissionSet.id, entry.id, 'Original');
    if (previousVersion === undefined) return a;
    return { ...a, rim: { ...a.rim, slots: [...a.rim.slots, { name: 'PreviousVersion', values: [previousVersion] }] } };
  });
  for (const c of statusChanges) {
    const a = makeAssociation(UPDATE_AVAILABILITY_STATUS, submissionSet.id, c.target);
    associations.push({
      ...a,
      rim: { ...a.rim, slots: [{ name: 'OriginalStatus', values: [c.from] }, { name: 'NewStatus', values: [c.to] }] },
    });
  }
  return { submissionSet, documentEntries: versions.map((v) => v.entry), folders: [], associations };
}

describeEachDb('metadata update in the registry (ITI-57)', (suite) => {
  let registry: Registry;
  let patientId: string;

  withRegistryAndPatient(suite, (r, p) => {
    registry = r;
    patientId = p;
  });

  async function registered(): Promise<Submission & { doc: DocumentEntry }> {
    const s = makeSubmission({ patientId });
    await registry.commitSubmission({ submissionId: newSubmissionId(), metadata: s.metadata, stored: s.stored });
    return { ...s, doc: s.metadata.documentEntries[0]! };
  }

  const update = (m: SubmissionMetadata) => registry.updateDocumentSet(`update-${randomUUID()}`, m);

  async function rows(logicalId: string) {
    return suite.db.query<{ entry_uuid: string; version: number; status: string; content_key: string | null; title: string }>(
      'select entry_uuid, version, status, content_key, title from document_entries where logical_id = $1 order by version',
      [logicalId],
    );
  }

  async function refused(m: SubmissionMetadata): Promise<string[]> {
    const before = await tableCounts(suite.db);
    const err = await update(m).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(XdsFailure);
    expect(diffCounts(before, await tableCounts(suite.db))).to.deep.equal({});
    return (err as XdsFailure).errors.map((e) => e.code);
  }

  it('registers version 2 Approved with the same bytes and deprecates version 1', async () => {
    const { doc, stored } = await registered();
    const v2 = newVersionOf(doc);
    await update(updateSet(patientId, [{ entry: v2, previousVersion: '1' }]));
    expect(await rows(doc.lid)).to.deep.equal([
      { entry_uuid: doc.id, version: 1, status: STATUS.deprecated, content_key: stored[0]!.contentKey, title: 'Résultats de biologie' },
      { entry_uuid: v2.id, version: 2, status: STATUS.approved, content_key: stored[0]!.contentKey, title: 'Résultats de biologie (corrigés)' },
    ]);
    const retrievable = await registry.findDocumentsForRetrieve([doc.uniqueId]);
    expect(retrievable.get(doc.uniqueId)?.entryUuid).to.equal(v2.id);
  });

  it('carries bytes the registry keeps itself (a gateway signature) over to the new version', async () => {
    const s = makeSubmission({ patientId });
    const bytes = Buffer.from('<ds:Signature>the gateway signature</ds:Signature>');
    const stored = s.stored.map((x) => ({ ...x, inline: bytes }));
    await registry.commitSubmission({ submissionId: newSubmissionId(), metadata: s.metadata, stored });
    const doc = s.metadata.documentEntries[0]!;
    expect((await registry.findDocumentsForRetrieve([doc.uniqueId])).get(doc.uniqueId)?.inline?.equals(bytes)).to.equal(true);

    const v2 = newVersionOf(doc);
    await update(updateSet(patientId, [{ entry: v2, previousVersion: '1' }]));
    const latest = (await registry.findDocumentsForRetrieve([doc.uniqueId])).get(doc.uniqueId);
    expect(latest?.entryUuid).to.equal(v2.id);
    expect(latest?.inline?.equals(bytes)).to.equal(true);
  });

  it('refuses a PreviousVersion that is not the latest with XDSMetadataVersionError', async () => {
    const { doc } = await registered();
    await update(updateSet(patientId, [{ entry: newVersionOf(doc), previousVersion: '1' }]));
    expect(await refused(updateSet(patientId, [{ entry: newVersionOf(doc), previousVersion: '1' }]))).to.include('XDSMetadataVersionError');
  });

  it('refuses an update without PreviousVersion, of an unknown logicalId or changing the uniqueId with XDSMetadataUpdateError', async () => {
    const { doc } = await registered();
    expect(await refused(updateSet(patientId, [{ entry: newVersionOf(doc) }]))).to.deep.equal(['XDSMetadataUpdateError']);
    const unknown = { ...newVersionOf(doc), lid: `urn:uuid:${randomUUID()}` };
    expect(await refused(updateSet(patientId, [{ entry: unknown, previousVersion: '1' }]))).to.deep.equal(['XDSMetadataUpdateError']);
    const otherUniqueId = { ...newVersionOf(doc), uniqueId: '1.2.250.1.999.42.1' };
    expect(await refused(updateSet(patientId, [{ entry: otherUniqueId, previousVersion: '1' }]))).to.deep.equal(['XDSMetadataUpdateError']);
  });

  it('deprecates and re-approves a document with UpdateAvailabilityStatus', async () => {
    const { doc } = await registered();
    await update(updateSet(patientId, [], [{ target: doc.id, from: STATUS.approved, to: STATUS.deprecated }]));
    expect((await rows(doc.lid))[0]!.status).to.equal(STATUS.deprecated);
    await update(updateSet(patientId, [], [{ target: doc.id, from: STATUS.deprecated, to: STATUS.approved }]));
    expect((await rows(doc.lid))[0]!.status).to.equal(STATUS.approved);
  });

  it('refuses a status change whose OriginalStatus is not the current one with XDSMetadataUpdateError', async () => {
    const { doc } = await registered();
    expect(await refused(updateSet(patientId, [], [{ target: doc.id, from: STATUS.deprecated, to: STATUS.approved }]))).to.deep.equal(['XDSMetadataUpdateError']);
  });

  it('refuses to re-approve a version that a later version replaced with XDSMetadataUpdateError', async () => {
    const { doc } = await registered();
    await update(updateSet(patientId, [{ entry: newVersionOf(doc), previousVersion: '1' }]));
    expect(await refused(updateSet(patientId, [], [{ target: doc.id, from: STATUS.deprecated, to: STATUS.approved }]))).to.deep.equal(['XDSMetadataUpdateError']);
  });

  it('refuses to change the status of another patient’s document with XDSPatientIdDoesNotMatch', async () => {
    const { doc } = await registered();
    const other = newPatientId();
    await registry.registerPatient(other);
    expect(await refused(updateSet(other, [], [{ target: doc.id, from: STATUS.approved, to: STATUS.deprecated }]))).to.deep.equal(['XDSPatientIdDoesNotMatch']);
  });

  it('applies nothing of an update when one of its parts fails', async () => {
    const { doc } = await registered();
    const second = await registered();
    const m = updateSet(patientId, [{ entry: newVersionOf(doc), previousVersion: '1' }], [{ target: second.doc.id, from: STATUS.deprecated, to: STATUS.approved }]);
    expect(await refused(m)).to.deep.equal(['XDSMetadataUpdateError']);
    expect((await rows(doc.lid)).map((r) => r.status)).to.deep.equal([STATUS.approved]);
  });
});
