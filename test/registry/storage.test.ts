import { expect } from 'chai';
import { migrate } from '../../src/registry/migrate.js';
import { Registry } from '../../src/registry/registry.js';
import { seededRandom } from '../../src/random.js';
import { openTestDb, type TestDb } from '../support/db.js';
import { makeSubmission, newPatientId, newSubmissionId } from './factory.js';

/** Words drawn by a seeded generator: text that compresses about as well as real metadata, not a run of one letter. */
function prose(random: () => number, words: number): string {
  const vocabulary = ['compte', 'rendu', 'biologie', 'hématologie', 'numération', 'formule', 'sanguine', 'patient', 'résultat', 'normal', 'contrôle', 'prélèvement'];
  return Array.from({ length: words }, () => vocabulary[Math.floor(random() * vocabulary.length)]! + Math.floor(random() * 1000)).join(' ');
}

describe('registry row layout: a DocumentEntry keeps its short columns in its row (PostgreSQL)', function () {
  this.timeout(60_000);
  let t: TestDb;

  before(async () => {
    t = await openTestDb('postgres');
    await migrate(t.db);
  });
  after(async () => {
    await t?.cleanup();
  });

  it('moves only rim out of line, even when the LeafClass XML makes the row larger than the TOAST target', async () => {
    const patientId = newPatientId();
    const registry = new Registry(t.db);
    await registry.registerPatient(patientId);
    const s = makeSubmission({ patientId, documents: 3 });
    const random = seededRandom(14);
    // Large entries, as a discharge letter with many slots: rim and the LeafClass XML are several kB each.
    for (const d of s.metadata.documentEntries) d.rim.slots.push(...Array.from({ length: 12 }, (_, i) => ({ name: `x-note-${i}`, values: [prose(random, 40)] })));
    await registry.commitSubmission({ submissionId: newSubmissionId(), metadata: s.metadata, stored: s.stored });

    const [{ toast }] = (await t.db.query<{ toast: string }>(
      "select reltoastrelid::regclass::text as toast from pg_class where oid = 'document_entries'::regclass",
    )) as [{ toast: string }];
    const rows = await t.db.query<{ leaf: number; rim: number }>('select octet_length(leaf_xml) as leaf, octet_length(rim::text) as rim from document_entries');
    expect(rows).to.have.length(3);
    for (const r of rows) expect(r.leaf + r.rim).to.be.greaterThan(8000);
    // At most one TOAST value per row (its rim); before migration 014, ten per row here (every text column above 24 bytes).
    const [{ values }] = (await t.db.query<{ values: number }>(`select count(distinct chunk_id)::int as values from ${toast}`)) as [{ values: number }];
    expect(values).to.be.at.least(1);
    expect(values).to.be.at.most(rows.length);
  });
});
