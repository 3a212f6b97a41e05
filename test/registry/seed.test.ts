import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { expect } from 'chai';
import { loadDocumentTypes } from '../../src/cda/document-types.js';
import type { RimObject, StoredDocument } from '../../src/ebrim/model.js';
import { toSubmissionMetadata } from '../../src/ebrim/parse.js';
import type { AdhocQuery } from '../../src/ebrim/query-request.js';
import { rimObjectTemplate } from '../../src/ebrim/serialize.js';
import { DOCUMENT_ENTRY_SCHEME, STATUS } from '../../src/ebrim/uuids.js';
import type { Db } from '../../src/registry/db.js';
import { insertSubmission } from '../../src/registry/insert.js';
import { migrate } from '../../src/registry/migrate.js';
import { DOCUMENT_KINDS, documentUniqueIdOf, patientIdOf, seedRegistry, type SeedSummary } from '../../src/registry/seed.js';
import { STORED_QUERIES } from '../../src/registry/stored-queries/definitions.js';
import { runStoredQuery } from '../../src/registry/stored-queries/run.js';
import { openTestDb, TEST_PG_URL, type TestDb } from '../support/db.js';
import { queryList as list, queryString as quoted } from '../support/requests.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const Q = Object.fromEntries(STORED_QUERIES.map((q) => [q.name, q.id])) as Record<string, string>;
const HOME = 'urn:oid:1.2.250.1.999.1.1';
const DOCUMENTS = 3000;
const PATIENTS = 60;

/** Runs `npm run seed` as a child process (node --import tsx, by absolute paths), without the caller's database settings. */
function seedCli(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('DATABASE_') && name !== 'npm_lifecycle_event'));
    const child = spawn(process.execPath, ['--import', TSX, `${ROOT}src/cli/seed.ts`, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

interface EntryRow {
  id: string;
  rim: RimObject;
}

const classificationsOf = (rim: RimObject, scheme: string) => rim.classifications.filter((c) => c.classificationScheme === scheme);
const codeOf = (rim: RimObject, scheme: string): string => {
  const c = classificationsOf(rim, scheme)[0]!;
  return `${c.nodeRepresentation}^^${c.slots.find((s) => s.name === 'codingScheme')!.values[0]}`;
};
const codesOf = (rim: RimObject, scheme: string): string[] => classificationsOf(rim, scheme).map((c) => `${c.nodeRepresentation}^^${c.slots[0]!.values[0]}`);
const slotOf = (rim: RimObject, name: string): string | undefined => rim.slots.find((s) => s.name === name)?.values[0];
const authorPersonOf = (rim: RimObject): string => classificationsOf(rim, DOCUMENT_ENTRY_SCHEME.author)[0]!.slots.find((s) => s.name === 'authorPerson')!.values[0]!;

/** Every row of the table that `where` selects, as JSON without the columns named, in a stable order. */
async function rowsOf(db: Db, table: string, where: string, params: unknown[], without: string[] = []): Promise<unknown[]> {
  const rows = await db.query<{ r: unknown }>(`select to_jsonb(t) ${without.map((c) => `- '${c}'`).join(' ')} as r from ${table} t where ${where} order by to_jsonb(t)::text`, params);
  return rows.map((row) => row.r);
}

describe('registry seed (npm run seed, PostgreSQL)', function () {
  this.timeout(120_000);
  let t: TestDb;
  let summary: SeedSummary;

  before(async () => {
    t = await openTestDb('postgres');
    await migrate(t.db);
    summary = await seedRegistry(t.db, { documents: DOCUMENTS, patients: PATIENTS });
  });
  after(async () => {
    await t?.cleanup();
  });

  const run = (name: string, params: Record<string, string>, returnType: 'LeafClass' | 'ObjectRef' = 'ObjectRef') => {
    const query: AdhocQuery = { queryId: Q[name]!, returnType, slots: Object.entries(params).map(([slotName, v]) => ({ name: slotName, values: [v] })) };
    return runStoredQuery(t.db, query, { maxResults: 1000, homeCommunityId: HOME });
  };
  const find = async (patientId: string, more: Record<string, string> = {}): Promise<string[]> => {
    const answer = await run('FindDocuments', { $XDSDocumentEntryPatientId: quoted(patientId), $XDSDocumentEntryStatus: list(STATUS.approved), ...more });
    expect(answer.errors, JSON.stringify(answer.errors)).to.deep.equal([]);
    return answer.objects.map((o) => o.id).sort();
  };
  const entriesOf = (patientId: string): Promise<EntryRow[]> =>
    t.db.query<EntryRow>('select entry_uuid as id, rim from document_entries where patient_id = $1 order by entry_uuid', [patientId]);
  /** The query's answer is exactly the patient's entries whose stored ebRIM form passes `keep`, and a strict, non-empty part of them. */
  const expectNarrowed = async (patientId: string, more: Record<string, string>, keep: (rim: RimObject) => boolean): Promise<void> => {
    const all = await entriesOf(patientId);
    const expected = all.filter((e) => keep(e.rim)).map((e) => e.id).sort();
    expect(expected.length, 'the filter keeps some of the entries').to.be.within(1, all.length - 1);
    expect(await find(patientId, more)).to.deep.equal(expected);
  };

  it('writes the entries, patients and submission sets asked for, 1 to 4 entries per set', async () => {
    expect(summary).to.include({ documents: DOCUMENTS, patients: PATIENTS, variants: 300 });
    const [counts] = await t.db.query<Record<string, number>>(
      `select (select count(*) from document_entries)::int as entries, (select count(*) from patients)::int as patients,
        (select count(*) from patient_records where status = 'open')::int as records, (select count(*) from submission_sets)::int as sets,
        (select count(*) from associations)::int as members, (select count(*) from document_entry_authors)::int as authors,
        (select max(n) from (select count(*) as n from document_entries group by submission_set_uuid) x)::int as largest_set`,
    );
    expect(counts).to.deep.equal({ entries: DOCUMENTS, patients: PATIENTS, records: PATIENTS, sets: summary.submissionSets, members: DOCUMENTS, authors: DOCUMENTS, largest_set: 4 });
  });

  it('finds all of a patient’s documents, and only theirs, with FindDocuments', async () => {
    for (const k of [0, 7, PATIENTS - 1]) {
      const ids = await find(patientIdOf(k));
      expect(ids).to.have.length(DOCUMENTS / PATIENTS);
      expect(ids).to.deep.equal((await entriesOf(patientIdOf(k))).map((e) => e.id));
    }
    const answer = await run('FindDocuments', { $XDSDocumentEntryPatientId: quoted(patientIdOf(3)), $XDSDocumentEntryStatus: list(STATUS.approved) }, 'LeafClass');
    expect(answer.objects.every((o) => o.leafXml?.includes(patientIdOf(3).replaceAll('&', '&amp;')))).to.equal(true);
  });

  it('narrows FindDocuments by class code, type code, author person, event code, confidentiality code and creation time as the stored metadata says', async () => {
    const patientId = patientIdOf(7);
    const [first] = await entriesOf(patientId);
    const typeCode = codeOf(first!.rim, DOCUMENT_ENTRY_SCHEME.typeCode);
    await expectNarrowed(patientId, { $XDSDocumentEntryClassCode: list('10^^1.2.250.1.213.1.1.4.1') }, (rim) => codeOf(rim, DOCUMENT_ENTRY_SCHEME.classCode) === '10^^1.2.250.1.213.1.1.4.1');
    await expectNarrowed(patientId, { $XDSDocumentEntryTypeCode: list(typeCode) }, (rim) => codeOf(rim, DOCUMENT_ENTRY_SCHEME.typeCode) === typeCode);
    const family = authorPersonOf(first!.rim).split('^')[1]!;
    await expectNarrowed(patientId, { $XDSDocumentEntryAuthorPerson: quoted(`%^${family}^%`) }, (rim) => authorPersonOf(rim).includes(`^${family}^`));
    const event = (await entriesOf(patientId)).flatMap((e) => codesOf(e.rim, DOCUMENT_ENTRY_SCHEME.eventCodeList))[0]!;
    await expectNarrowed(patientId, { $XDSDocumentEntryEventCodeList: list(event) }, (rim) => codesOf(rim, DOCUMENT_ENTRY_SCHEME.eventCodeList).includes(event));
    await expectNarrowed(
      patientId,
      { $XDSDocumentEntryCreationTimeFrom: '2018', $XDSDocumentEntryCreationTimeTo: '2025' },
      (rim) => slotOf(rim, 'creationTime')! >= '2018' && slotOf(rim, 'creationTime')! < '2025',
    );
    const [masked] = await t.db.query<{ patient_id: string }>(
      `select d.patient_id from document_entries d join document_entry_codes c on c.entry_uuid = d.entry_uuid where c.code = 'MASQUE_PS' order by d.unique_id limit 1`,
    );
    const masquePs = 'MASQUE_PS^^1.2.250.1.213.1.1.4.13';
    await expectNarrowed(masked!.patient_id, { $XDSDocumentEntryConfidentialityCode: list(masquePs) }, (rim) => codesOf(rim, DOCUMENT_ENTRY_SCHEME.confidentialityCode).includes(masquePs));
  });

  it('gives the benchmark’s FindDocuments (class 10, created 2018 to 2024) about 20 entries per patient', async () => {
    let total = 0;
    for (let k = 0; k < 20; k++) {
      total += (await find(patientIdOf(k), { $XDSDocumentEntryClassCode: list('10^^1.2.250.1.213.1.1.4.1'), $XDSDocumentEntryCreationTimeFrom: '2018', $XDSDocumentEntryCreationTimeTo: '2025' })).length;
    }
    expect(total / 20).to.be.within(16, 26);
  });

  it('returns one entry for GetDocuments by a seeded uniqueId', async () => {
    const answer = await run('GetDocuments', { $XDSDocumentEntryUniqueId: list(documentUniqueIdOf(1234)) }, 'LeafClass');
    expect(answer.errors).to.deep.equal([]);
    expect(answer.objects).to.have.length(1);
    expect(answer.objects[0]).to.include({ patientId: patientIdOf((1234 - 1) % PATIENTS) });
    expect(answer.objects[0]!.leafXml).to.include(`value="${documentUniqueIdOf(1234)}"`);
  });

  it('stores the LeafClass template of every sampled object as rimObjectTemplate renders its rim', async () => {
    for (const table of ['document_entries', 'submission_sets', 'associations']) {
      const rows = await t.db.query<{ rim: RimObject; leaf_xml: string }>(`select rim, leaf_xml from ${table} order by entry_uuid limit 200`);
      expect(rows).to.have.length(200);
      for (const row of rows) expect(row.leaf_xml).to.equal(rimObjectTemplate(row.rim));
    }
  });

  it('writes every column of a submission as the commit path (insertSubmission) writes the same metadata', async () => {
    // Sample: every set of three patients, and sets holding each rare code.
    const sets = (
      await t.db.query<{ id: string }>(
        `select distinct submission_set_uuid as id from document_entries where patient_id = any($1)
         union select * from (select distinct d.submission_set_uuid from document_entries d join document_entry_codes c on c.entry_uuid = d.entry_uuid
           where c.code in ('INVISIBLE_PATIENT', 'INVISIBLE_REPRESENTANTS_LEGAUX', 'MASQUE_PS', 'MR') order by 1 limit 12) rare`,
        [[patientIdOf(0), patientIdOf(11), patientIdOf(42)]],
      )
    ).map((r) => r.id);
    const committed = await openTestDb('postgres');
    try {
      await migrate(committed.db);
      for (const id of sets) {
        const [set] = await t.db.query<{ rim: RimObject; submission_id: string; submission_time: string; committed_at: Date }>(
          'select rim, submission_id, submission_time, committed_at from submission_sets where entry_uuid = $1',
          [id],
        );
        const docs = await t.db.query<{ rim: RimObject; entry_uuid: string; unique_id: string; content_key: string; hash: string; size: string; mime_type: string; created_at: Date }>(
          'select * from document_entries where submission_set_uuid = $1',
          [id],
        );
        const members = await t.db.query<{ rim: RimObject }>('select rim from associations where submission_set_uuid = $1', [id]);
        const { metadata, errors } = toSubmissionMetadata([set!.rim, ...docs.map((d) => d.rim), ...members.map((m) => m.rim)]);
        expect(errors).to.deep.equal([]);
        const stored: StoredDocument[] = docs.map((d) => ({ entryId: d.entry_uuid, uniqueId: d.unique_id, contentKey: d.content_key, sha1: d.hash, size: Number(d.size), mimeType: d.mime_type }));
        for (const d of metadata!.documentEntries) {
          const s = stored.find((x) => x.entryId === d.id)!;
          expect([d.hash, d.size], 'hash and size slots').to.deep.equal([s.sha1, String(s.size)]);
        }
        // The registry's own times are the submission time.
        const submitted = set!.submission_time.replace(/^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)$/, '$1-$2-$3T$4:$5:$6.000Z');
        expect([set!.committed_at, ...docs.map((d) => d.created_at)].map((d) => d.toISOString())).to.deep.equal(Array(docs.length + 1).fill(submitted));
        await committed.db.transaction((tx) => insertSubmission(tx, set!.submission_id, metadata!, stored, set!.submission_time));
      }
      const entries = '(select entry_uuid from document_entries where submission_set_uuid = any($1))';
      for (const [table, where, without] of [
        ['submission_sets', 'entry_uuid = any($1)', ['committed_at']],
        ['submission_set_authors', 'entry_uuid = any($1)', []],
        ['document_entries', 'submission_set_uuid = any($1)', ['created_at']],
        ['document_entry_codes', `entry_uuid in ${entries}`, []],
        ['document_entry_authors', `entry_uuid in ${entries}`, []],
        ['associations', 'submission_set_uuid = any($1)', ['created_at']],
      ] as const) {
        const seeded = await rowsOf(t.db, table, where, [sets], [...without]);
        expect(seeded.length, table).to.be.above(0);
        expect(seeded, table).to.deep.equal(await rowsOf(committed.db, table, where, [sets], [...without]));
      }
    } finally {
      await committed.cleanup();
    }
  });

  it('gives the same data for the same arguments, whatever the batch size and the number of batches at once', async () => {
    const again = await openTestDb('postgres', { poolSize: 3 });
    try {
      await migrate(again.db);
      await seedRegistry(again.db, { documents: DOCUMENTS, patients: PATIENTS, batchSize: 700, jobs: 3 });
      const digest = async (db: Db): Promise<Record<string, string>> => {
        const tables = ['patients', 'patient_records', 'submission_sets', 'submission_set_authors', 'document_entries', 'document_entry_codes', 'document_entry_authors', 'associations'];
        const [row] = await db.query<Record<string, string>>(`select ${tables.map((n) => `(select md5(string_agg(t::text, E'\\n' order by t::text)) from ${n} t) as ${n}`).join(', ')}`);
        return row!;
      };
      expect(await digest(again.db)).to.deep.equal(await digest(t.db));
    } finally {
      await again.cleanup();
    }
  });

  it('draws its document kinds from the CI-SIS rules of cda-templates/', () => {
    const rules = loadDocumentTypes(`${ROOT}cda-templates`);
    const unstructured = rules.find((r) => r.body === 'nonXML')!;
    for (const kind of DOCUMENT_KINDS) {
      const rule = rules.find((r) => r.code.some((c) => c.code === kind.typeCode.code && c.codeSystem === kind.typeCode.scheme)) ?? unstructured;
      const same = (c: { code: string; codingScheme: string }, k: { code: string; scheme: string }) => c.code === k.code && c.codingScheme === k.scheme;
      const formats = [...rule.formatCode, ...(rule.mediaTypes ?? []).map((m) => m.formatCode)];
      expect(!rule.classCode.length || rule.classCode.some((c) => same(c, kind.classCode)), `${kind.name} classCode`).to.equal(true);
      expect(!formats.length || formats.some((c) => same(c, kind.formatCode)), `${kind.name} formatCode`).to.equal(true);
    }
  });

  describe('the command', () => {
    for (const [args, message] of [
      [[], '--documents is required'],
      [['--documents', 'many'], "--documents must be an integer from 1 to 1000000000, not 'many'"],
      [['--documents', '0'], "--documents must be an integer from 1"],
      [['--documents', '10', '--patients', '11'], '--patients (11) must not exceed --documents (10)'],
      [['--documents', '10', '--schema', 'Seed-Test'], "--schema must be a lower-case SQL identifier (letters, digits, _), not 'Seed-Test'"],
      [['--documents', '10', '--database-url', 'mysql://localhost/test'], "--database-url must be a postgres:// URL, not 'mysql://localhost/test'"],
      [['--documents', '10', '--jobs', '0'], '--jobs must be an integer from 1 to 16'],
      [['--documents', '10', '--rows', '3'], "Unknown option '--rows'"],
      [['--documents', '10', 'extra'], "unexpected argument 'extra'"],
    ] as const) {
      it(`refuses ${args.join(' ') || 'no arguments'} with exit status 2 and a message`, async () => {
        const result = await seedCli([...args]);
        expect(result.status, result.stderr).to.equal(2);
        expect(result.stderr).to.contain(`seed: ${message}`);
        expect(result.stdout).to.equal('');
      });
    }

    it('refuses to seed a registry that already holds entries, with exit status 1', async () => {
      const result = await seedCli(['--documents', '10', '--schema', t.schema, '--database-url', TEST_PG_URL]);
      expect(result.status, result.stderr).to.equal(1);
      expect(result.stderr).to.contain(`seed: schema ${t.schema}: the registry already holds document entries`);
    });

    it('seeds a new schema and prints a summary', async () => {
      const schema = `${t.schema}_cli`;
      try {
        const result = await seedCli(['--documents', '120', '--patients', '3', '--schema', schema, '--database-url', TEST_PG_URL, '--jobs', '1']);
        expect(result.status, result.stderr).to.equal(0);
        expect(result.stderr).to.contain('seeded 120 / 120 document entries');
        expect(result.stdout).to.match(new RegExp(`^seeded schema ${schema}: 120 document entries, 3 patients, \\d+ submission sets .* entries/s\\n$`));
        const [row] = await t.db.query<{ n: number }>(`select count(*)::int as n from "${schema}".document_entries where patient_id = $1`, [patientIdOf(2)]);
        expect(row!.n).to.equal(40);
      } finally {
        await t.db.exec(`drop schema if exists "${schema}" cascade`);
      }
    });
  });
});
