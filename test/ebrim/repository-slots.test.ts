import { expect } from 'chai';
import { withRepositorySlots } from '../../src/ebrim/repository-slots.js';
import { documentBytes, REPOSITORY_ID, runIti41, sha1Of, submissionXml } from './fixtures.js';

const bytes = documentBytes(1);
const stored = { sha1: sha1Of(bytes), size: bytes.length };

function entryOf(xml: string) {
  const { metadata, errors } = runIti41(xml);
  expect(errors).to.deep.equal([]);
  return metadata!.documentEntries[0]!;
}

describe('ebrim/repository-slots', () => {
  it('adds hash, size and repositoryUniqueId after the submitted slots, leaving those unchanged and in order', () => {
    const entry = entryOf(submissionXml());
    const before = entry.rim.slots.map((s) => ({ ...s }));
    const result = withRepositorySlots(entry, stored, REPOSITORY_ID);
    expect(result.rim.slots.slice(0, before.length)).to.deep.equal(before);
    expect(result.rim.slots.slice(before.length)).to.deep.equal([
      { name: 'hash', values: [stored.sha1] },
      { name: 'size', values: [String(stored.size)] },
      { name: 'repositoryUniqueId', values: [REPOSITORY_ID] },
    ]);
    expect(result).to.include({ hash: stored.sha1, size: String(stored.size), repositoryUniqueId: REPOSITORY_ID });
  });

  it('leaves slots the submitter sent with the same values as sent, in place', () => {
    const upper = stored.sha1.toUpperCase();
    const xml = submissionXml().replace(
      '<rim:Slot name="languageCode">',
      `<rim:Slot name="hash"><rim:ValueList><rim:Value>${upper}</rim:Value></rim:ValueList></rim:Slot>` +
        `<rim:Slot name="size"><rim:ValueList><rim:Value>${stored.size}</rim:Value></rim:ValueList></rim:Slot><rim:Slot name="languageCode">`,
    );
    const entry = entryOf(xml);
    const result = withRepositorySlots(entry, stored, REPOSITORY_ID);
    expect(result.rim.slots.map((s) => s.name)).to.deep.equal([
      'creationTime',
      'hash',
      'size',
      'languageCode',
      'serviceStartTime',
      'serviceStopTime',
      'sourcePatientId',
      'sourcePatientInfo',
      'legalAuthenticator',
      'repositoryUniqueId',
    ]);
    expect(result.rim.slots[1]!.values).to.deep.equal([upper]);
    expect(result.hash).to.equal(upper);
  });

  it('does not modify the entry it is given', () => {
    const entry = entryOf(submissionXml());
    const count = entry.rim.slots.length;
    withRepositorySlots(entry, stored, REPOSITORY_ID);
    expect(entry.rim.slots).to.have.length(count);
    expect(entry.hash).to.equal(undefined);
  });
});
