import { expect } from 'chai';
import type { AdhocQuery } from '../../src/ebrim/query-request.js';
import { ASSOCIATION_TYPE, STATUS } from '../../src/ebrim/uuids.js';
import { signedDocuments } from '../../src/policy/records.js';
import type { Db } from '../../src/registry/db.js';
import { analyzeRegistry, migrate } from '../../src/registry/migrate.js';
import { Registry } from '../../src/registry/registry.js';
import { STORED_QUERIES } from '../../src/registry/stored-queries/definitions.js';
import { runStoredQuery } from '../../src/registry/stored-queries/run.js';
import { SIGNATURE_ENTRY } from '../../src/signature/dsg.js';
import { openTestDb, type TestDb } from '../support/db.js';
import { explainGenericPlan, statementsOf } from '../support/generic-plan.js';
import { makeSubmission, newPatientId, newSubmissionId } from './factory.js';
import { queryList as list, queryString as quoted } from '../support/requests.js';

const Q = Object.fromEntries(STORED_QUERIES.map((q) => [q.name, q.id])) as Record<string, string>;

/** Tables whose whole reading would grow with the registry: every read of them goes through an index. */
const LARGE_TABLES = /Seq Scan on (document_entries|document_entry_codes|document_entry_authors|submission_sets|submission_set_authors|folders|folder_codes|associations|audit_events)\b/;

interface Plan {
  sql: string;
  lines: string[];
}

/**
 * A Db that EXPLAINs every statement before running it, as a prepared statement runs it past its fifth
 * execution (the generic plan, test/support/generic-plan.ts), inside one transaction where sequential scans are
 * priced out: the planner then takes an index whenever one can serve the statement, so a Seq Scan left in a
 * plan is a statement no index serves, which would read the whole table of a registry of millions of entries.
 */
function explaining(tx: Db, plans: Plan[]): Db {
  const db: Db = {
    ...tx,
    async query<T>(sql: string, params?: unknown[]): Promise<T[]> {
      plans.push({ sql, lines: await explainGenericPlan(tx, sql, params ?? []) });
      return tx.query<T>(sql, params);
    },
    transaction: (fn) => fn(db),
  };
  return db;
}

describe('query plans: no registry read scans a whole table (PostgreSQL)', function () {
  this.timeout(60_000);
  let t: TestDb;
  const patientId = newPatientId();
  const s = makeSubmission({ patientId, documents: 2, folder: true });
  const [doc, other] = s.metadata.documentEntries as [(typeof s.metadata.documentEntries)[number], (typeof s.metadata.documentEntries)[number]];
  const folder = s.metadata.folders[0]!;
  const ss = s.metadata.submissionSet;

  before(async () => {
    t = await openTestDb('postgres');
    await migrate(t.db);
    const registry = new Registry(t.db);
    await registry.registerPatient(patientId);
    await registry.commitSubmission({ submissionId: newSubmissionId(), metadata: s.metadata, stored: s.stored });
    await analyzeRegistry(t.db);
  });
  after(async () => {
    await t?.cleanup();
  });

  /** Runs `work` on the explaining Db and returns the plans of every statement it ran. */
  async function plansOf(work: (db: Db) => Promise<unknown>): Promise<Plan[]> {
    const plans: Plan[] = [];
    await t.db.transaction(async (tx) => {
      await tx.query('set local enable_seqscan = off');
      await work(explaining(tx, plans));
    });
    return plans;
  }

  const scans = (plans: Plan[]): string[] => plans.flatMap((p) => p.lines.filter((l) => LARGE_TABLES.test(l)).map((l) => `${l.trim()} in: ${p.sql.slice(0, 200)}`));

  const approved = list(STATUS.approved);
  const uuid = (id: string) => list(id);
  const queries: [name: string, slots: Record<string, string>][] = [
    [
      'FindDocuments',
      {
        $XDSDocumentEntryPatientId: quoted(patientId),
        $XDSDocumentEntryStatus: approved,
        $XDSDocumentEntryClassCode: list('10^^1.2.250.1.213.1.1.4.1'),
        $XDSDocumentEntryTypeCode: list('11502-2^^2.16.840.1.113883.6.1'),
        $XDSDocumentEntryPracticeSettingCode: list('ETABLISSEMENT^^1.2.250.1.213.1.1.4.9'),
        $XDSDocumentEntryHealthcareFacilityTypeCode: list('SA01^^1.2.250.1.71.4.2.4'),
        $XDSDocumentEntryFormatCode: list('urn:ihe:lab:xd-lab:2008^^1.3.6.1.4.1.19376.1.2.3'),
        $XDSDocumentEntryEventCodeList: list('GLUC^^1.2.250.1.213.2.16'),
        $XDSDocumentEntryConfidentialityCode: list('N^^2.16.840.1.113883.5.25'),
        $XDSDocumentEntryAuthorPerson: quoted('%MARTIN%'),
        $XDSDocumentEntryCreationTimeFrom: '2018',
        $XDSDocumentEntryCreationTimeTo: '2025',
        $XDSDocumentEntryServiceStartTimeFrom: '2018',
        $XDSDocumentEntryServiceStopTimeTo: '2025',
      },
    ],
    ['FindDocumentsByReferenceId', { $XDSDocumentEntryPatientId: quoted(patientId), $XDSDocumentEntryStatus: approved, $XDSDocumentEntryReferenceIdList: list('ORD-1^^^&1.2.250.1.999.5&ISO^urn:ihe:iti:xds:2013:order') }],
    [
      'FindSubmissionSets',
      {
        $XDSSubmissionSetPatientId: quoted(patientId),
        $XDSSubmissionSetStatus: approved,
        $XDSSubmissionSetSourceId: list('1.2.250.1.999.7'),
        $XDSSubmissionSetSubmissionTimeFrom: '2018',
        $XDSSubmissionSetSubmissionTimeTo: '2025',
        $XDSSubmissionSetAuthorPerson: quoted('%'),
        $XDSSubmissionSetContentType: list('04^^1.2.250.1.213.1.1.4.12'),
      },
    ],
    ['FindFolders', { $XDSFolderPatientId: quoted(patientId), $XDSFolderStatus: approved, $XDSFolderLastUpdateTimeFrom: '2018', $XDSFolderCodeList: list('X^^1.2.3') }],
    ['GetAll', { $patientId: quoted(patientId), $XDSDocumentEntryStatus: approved, $XDSSubmissionSetStatus: approved, $XDSFolderStatus: approved }],
    ['GetDocuments', { $XDSDocumentEntryEntryUUID: uuid(doc.id) }],
    ['GetDocuments', { $XDSDocumentEntryUniqueId: list(doc.uniqueId) }],
    ['GetFolders', { $XDSFolderEntryUUID: uuid(folder.id) }],
    ['GetFolders', { $XDSFolderUniqueId: list(folder.uniqueId) }],
    ['GetAssociations', { $uuid: uuid(doc.id) }],
    ['GetDocumentsAndAssociations', { $XDSDocumentEntryEntryUUID: uuid(doc.id) }],
    ['GetSubmissionSets', { $uuid: uuid(doc.id) }],
    ['GetSubmissionSetAndContents', { $XDSSubmissionSetEntryUUID: quoted(ss.id) }],
    ['GetSubmissionSetAndContents', { $XDSSubmissionSetUniqueId: quoted(ss.uniqueId) }],
    ['GetFolderAndContents', { $XDSFolderEntryUUID: quoted(folder.id) }],
    ['GetFoldersForDocument', { $XDSDocumentEntryEntryUUID: quoted(doc.id) }],
    ['GetRelatedDocuments', { $XDSDocumentEntryEntryUUID: quoted(doc.id), $AssociationTypes: list(ASSOCIATION_TYPE.replace, ASSOCIATION_TYPE.append, ASSOCIATION_TYPE.transform) }],
  ];

  it('covers every stored query', () => {
    expect(new Set(queries.map(([name]) => name))).to.deep.equal(new Set(STORED_QUERIES.map((q) => q.name)));
  });

  for (const [name, params] of queries) {
    for (const returnType of ['LeafClass', 'ObjectRef'] as const) {
      it(`${name} (${Object.keys(params).join(', ')}) as ${returnType}`, async () => {
        const query: AdhocQuery = { queryId: Q[name]!, returnType, slots: Object.entries(params).map(([slot, value]) => ({ name: slot, values: [value] })) };
        const plans = await plansOf(async (db) => {
          const answer = await runStoredQuery(db, query, { maxResults: 1000, homeCommunityId: 'urn:oid:1.2.250.1.999.1.1' });
          expect(answer.errors.filter((e) => e.severity === 'Error'), JSON.stringify(answer.errors)).to.deep.equal([]);
        });
        expect(plans.length).to.be.greaterThan(0);
        expect(scans(plans)).to.deep.equal([]);
      });
    }
  }

  it('FindDocuments by patient, class and time: its generic plan (a prepared statement past its fifth run) seeks the index on all four', async () => {
    const slots = {
      $XDSDocumentEntryPatientId: quoted(patientId),
      $XDSDocumentEntryClassCode: list('10^^1.2.250.1.213.1.1.4.1'),
      $XDSDocumentEntryCreationTimeFrom: '2018',
      $XDSDocumentEntryCreationTimeTo: '2025',
      $XDSDocumentEntryStatus: approved,
    };
    const query: AdhocQuery = { queryId: Q.FindDocuments!, returnType: 'LeafClass', slots: Object.entries(slots).map(([name, value]) => ({ name, values: [value] })) };
    const statements = await statementsOf(t.db, (db) => runStoredQuery(db, query, { maxResults: 1000, homeCommunityId: 'urn:oid:1.2.250.1.999.1.1' }));
    const find = statements.find((st) => /from document_entries d where/.test(st.sql))!;
    const plan = await explainGenericPlan(t.db, find.sql, find.params, { noSeqScan: true });
    const indexCond = plan.find((l) => l.includes('Index Cond'));
    expect(plan.join('\n')).to.include('document_entries_patient_class_time_idx');
    expect(indexCond, plan.join('\n')).to.match(/patient_id = \$\d+\) AND \(status = \$\d+\) AND \(class_code = \$\d+\) AND \(creation_time >= \$\d+\) AND \(creation_time < \$\d+\)/);
  });

  it('the commit checks, retrieve, signature verification and the policy reads', async () => {
    const plans = await plansOf(async (db) => {
      const registry = new Registry(db);
      const again = makeSubmission({ patientId, documents: 1 });
      await registry.checkSubmission(again.metadata, again.stored);
      await registry.findDocumentsForRetrieve([doc.uniqueId, other.uniqueId]);
      await registry.signatureCoverage(doc.uniqueId, ASSOCIATION_TYPE.signs, SIGNATURE_ENTRY.formatCode.code);
      await registry.submissionSetDocuments(ss.id);
      await signedDocuments(db, 'entry_uuid', [doc.id]);
      await signedDocuments(db, 'unique_id', [doc.uniqueId]);
    });
    expect(plans.length).to.be.greaterThan(5);
    expect(scans(plans)).to.deep.equal([]);
  });
});
