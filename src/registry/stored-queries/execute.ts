import type { RimObject } from '../../ebrim/model.js';
import type { ReturnType } from '../../ebrim/query-request.js';
import { rimObjectXml, type LeafClassWriter, type RegistryFacts } from '../../ebrim/serialize.js';
import { ASSOCIATION_TYPE } from '../../ebrim/uuids.js';
import { XdsError } from '../../errors.js';
import type { Db } from '../db.js';
import type { Shape, StoredQueryDef, Target } from './definitions.js';
import { SqlParams, TARGET_TABLE, whereFor } from './sql.js';
import type { BoundParams } from './values.js';

export type ResultKind = Target | 'association';

/** One registry object of an answer, with the registry's own columns beside the stored ebRIM form. */
export interface ResultObject {
  kind: ResultKind;
  id: string;
  patientId?: string;
  /** The registry's status (the stored rim keeps the one submitted). */
  status?: string;
  logicalId?: string;
  version?: number;
  /** Folders: registry-maintained. */
  lastUpdateTime?: string;
  sourceObject?: string;
  targetObject?: string;
  /** LeafClass answers: the template rendered at commit, or the stored ebRIM form for rows without one. */
  leafXml?: string;
  rim?: RimObject;
}

/** The LeafClass XML of one answer object with the registry's facts, written as bytes (the form an answer is written in). */
export function writeLeafClass(out: LeafClassWriter, o: ResultObject, facts: RegistryFacts): void {
  if (o.leafXml !== undefined) out.template(o.leafXml, facts);
  else out.xml(rimObjectXml(o.rim!, facts));
}

export interface ExecuteOptions {
  returnType: ReturnType;
  /** LeafClass answers with more objects than this fail with XDSTooManyResults. */
  maxResults: number;
}

export interface QueryOutcome {
  objects: ResultObject[];
  errors: XdsError[];
}

interface Row {
  id: string;
  patient_id?: string;
  status?: string;
  logical_id?: string;
  version?: number;
  last_update_time?: string | null;
  source_uuid?: string;
  target_uuid?: string;
  leaf_xml?: string | null;
  rim?: RimObject | null;
}

/** The rendered template, and the jsonb form only for rows that have none (decoding it is the costly part). */
const leaf = (alias: string): string => `${alias}.leaf_xml, case when ${alias}.leaf_xml is null then ${alias}.rim end as rim`;

/** Columns read per target: ids (and patient, for the single-patient rule) always, the rest for LeafClass. */
const COLUMNS: Record<ResultKind, { ref: string; leaf: string }> = {
  document: { ref: 'd.entry_uuid as id, d.patient_id', leaf: `d.entry_uuid as id, d.patient_id, d.status, d.logical_id, d.version, ${leaf('d')}` },
  submissionSet: { ref: 's.entry_uuid as id, s.patient_id', leaf: `s.entry_uuid as id, s.patient_id, s.status, ${leaf('s')}` },
  folder: { ref: 'f.entry_uuid as id, f.patient_id', leaf: `f.entry_uuid as id, f.patient_id, f.status, f.last_update_time, ${leaf('f')}` },
  association: {
    ref: 'a.entry_uuid as id, a.source_uuid, a.target_uuid',
    leaf: `a.entry_uuid as id, a.status, a.source_uuid, a.target_uuid, ${leaf('a')}`,
  },
};

const TABLE: Record<ResultKind, string> = {
  document: 'document_entries d',
  submissionSet: 'submission_sets s',
  folder: 'folders f',
  association: 'associations a',
};

const HAS_MEMBER = ASSOCIATION_TYPE.hasMember;

/** Logically deleted objects (ITI-62) are gone for every query. */
const LIVE: Record<ResultKind, string> = {
  document: 'd.deleted_at is null',
  submissionSet: 's.deleted_at is null',
  folder: 'f.deleted_at is null',
  association: 'a.deleted_at is null',
};

/** Runs one bound stored query: the shape decides which objects are read, the parameter table how they are narrowed. */
export class QueryExecutor {
  private readonly leaf: boolean;
  /** Each read may return one object more than the limit, which is how too many results are noticed. */
  private readonly limit: number | undefined;
  private readonly maxResults: number;

  constructor(
    private readonly db: Db,
    private readonly def: StoredQueryDef,
    private readonly params: BoundParams,
    opts: ExecuteOptions,
  ) {
    this.leaf = opts.returnType === 'LeafClass';
    this.maxResults = opts.maxResults;
    this.limit = this.leaf ? opts.maxResults + 1 : undefined;
  }

  async run(): Promise<QueryOutcome> {
    const maxResults = this.maxResults;
    const objects = await SHAPES[this.def.shape](this);
    const errors: XdsError[] = [];
    if (this.leaf && objects.length > maxResults) {
      errors.push(new XdsError('XDSTooManyResults', `${this.def.name} matches more than ${maxResults} objects; narrow the query or ask for ObjectRef`));
      return { objects: [], errors };
    }
    if (this.def.singlePatient) {
      const patients = new Set(objects.flatMap((o) => (o.patientId === undefined ? [] : [o.patientId])));
      if (patients.size > 1) {
        errors.push(new XdsError('XDSResultNotSinglePatient', `${this.def.name} would return objects of ${patients.size} patients`));
        return { objects: [], errors };
      }
    }
    return { objects, errors };
  }

  values(name: string): string[] | undefined {
    return this.params.get(name)?.flat();
  }

  /** Objects of one kind matching the parameter filters of that target plus the shape's own conditions. */
  select(kind: Target, conditions: (p: SqlParams) => string[]): Promise<ResultObject[]> {
    return this.read(kind, (p) => [...conditions(p), ...whereFor(this.def, kind, this.params, p)]);
  }

  /** Objects of one kind by entryUUID or uniqueId (whichever parameter was given), whatever their status. */
  byIds(kind: Target, uuidParam: string, uniqueIdParam: string): Promise<ResultObject[]> {
    const alias = TARGET_TABLE[kind].alias;
    const uuids = this.values(uuidParam);
    const uniqueIds = this.values(uniqueIdParam);
    return this.read(kind, (p) =>
      uuids ? [`${alias}.entry_uuid = any(${p.add(uuids)}::text[])`] : [`${alias}.unique_id = any(${p.add(uniqueIds ?? [])}::text[])`],
    );
  }

  /** Objects of one kind under the shape's conditions only (objects named by id are returned whatever their status). */
  async read(kind: Target, conditions: (p: SqlParams) => string[]): Promise<ResultObject[]> {
    const p = new SqlParams();
    const where = [LIVE[kind], ...conditions(p)];
    const cols = this.leaf ? COLUMNS[kind].leaf : COLUMNS[kind].ref;
    const sql = `select ${cols} from ${TABLE[kind]} where ${where.join(' and ')}${this.limit ? ` limit ${this.limit}` : ''}`;
    const rows = await this.db.query<Row>(sql, p.values, { prepare: true });
    return rows.map((r) => toResult(kind, r));
  }

  /** Associations, always read with their ends (the shapes reason on them). */
  async associations(conditions: (p: SqlParams) => string[]): Promise<ResultObject[]> {
    const p = new SqlParams();
    const cols = this.leaf ? COLUMNS.association.leaf : COLUMNS.association.ref;
    const sql = `select ${cols} from associations a where ${[LIVE.association, ...conditions(p)].join(' and ')}`;
    const rows = await this.db.query<Row>(sql, p.values, { prepare: true });
    return rows.map((r) => toResult('association', r));
  }
}

function toResult(kind: ResultKind, r: Row): ResultObject {
  const o: ResultObject = { kind, id: r.id };
  if (r.patient_id !== undefined) o.patientId = r.patient_id;
  if (r.status !== undefined) o.status = r.status;
  if (r.logical_id !== undefined) o.logicalId = r.logical_id;
  if (r.version !== undefined) o.version = r.version;
  if (r.last_update_time) o.lastUpdateTime = r.last_update_time;
  if (r.source_uuid !== undefined) o.sourceObject = r.source_uuid;
  if (r.target_uuid !== undefined) o.targetObject = r.target_uuid;
  if (r.leaf_xml) o.leafXml = r.leaf_xml;
  else if (r.rim) o.rim = r.rim;
  return o;
}

const ids = (objects: ResultObject[]): string[] => objects.map((o) => o.id);
const DE = ['$XDSDocumentEntryEntryUUID', '$XDSDocumentEntryUniqueId'] as const;
const FOLDER = ['$XDSFolderEntryUUID', '$XDSFolderUniqueId'] as const;

/** What each query returns, in ITI TF-2a §3.18.4.1.2.3.7 terms. */
const SHAPES: Record<Shape, (q: QueryExecutor) => Promise<ResultObject[]>> = {
  FindDocuments: (q) => q.select('document', () => []),
  FindSubmissionSets: (q) => q.select('submissionSet', () => []),
  FindFolders: (q) => q.select('folder', () => []),

  async GetAll(q) {
    const [sets, folders, docs] = await Promise.all([q.select('submissionSet', () => []), q.select('folder', () => []), q.select('document', () => [])]);
    const all = ids([...sets, ...folders, ...docs]);
    const assocs = all.length
      ? await q.associations((p) => {
          const list = p.add(all);
          return [`a.source_uuid = any(${list}::text[])`, `a.target_uuid = any(${list}::text[])`];
        })
      : [];
    return [...sets, ...folders, ...docs, ...assocs];
  },

  GetDocuments: (q) => q.byIds('document', ...DE),
  GetFolders: (q) => q.byIds('folder', ...FOLDER),

  GetAssociations: (q) =>
    q.associations((p) => {
      const list = p.add(q.values('$uuid'));
      return [`(a.source_uuid = any(${list}::text[]) or a.target_uuid = any(${list}::text[]))`];
    }),

  async GetDocumentsAndAssociations(q) {
    const docs = await q.byIds('document', ...DE);
    if (!docs.length) return [];
    const assocs = await q.associations((p) => {
      const list = p.add(ids(docs));
      return [`(a.source_uuid = any(${list}::text[]) or a.target_uuid = any(${list}::text[]))`];
    });
    return [...docs, ...assocs];
  },

  async GetSubmissionSets(q) {
    const members = await q.associations((p) => [
      `a.association_type = ${p.add(HAS_MEMBER)}`,
      `a.target_uuid = any(${p.add(q.values('$uuid'))}::text[])`,
      'exists (select 1 from submission_sets s where s.entry_uuid = a.source_uuid and s.deleted_at is null)',
    ]);
    if (!members.length) return [];
    const sets = await q.read('submissionSet', (p) => [`s.entry_uuid = any(${p.add([...new Set(members.map((m) => m.sourceObject!))])}::text[])`]);
    return [...sets, ...members];
  },

  async GetSubmissionSetAndContents(q) {
    const sets = await q.byIds('submissionSet', '$XDSSubmissionSetEntryUUID', '$XDSSubmissionSetUniqueId');
    const set = sets[0];
    if (!set) return [];
    const members = await q.associations((p) => [`a.source_uuid = ${p.add(set.id)}`, `a.association_type = ${p.add(HAS_MEMBER)}`]);
    const targets = members.map((m) => m.targetObject!);
    const [docs, folders] = await Promise.all([
      q.select('document', (p) => [`d.entry_uuid = any(${p.add(targets)}::text[])`]),
      q.read('folder', (p) => [`f.entry_uuid = any(${p.add(targets)}::text[])`]),
    ]);
    const docIds = new Set(ids(docs));
    const folderIds = new Set(ids(folders));
    const folderLinks = folders.length
      ? await q.associations((p) => [
          `a.source_uuid = any(${p.add([...folderIds])}::text[])`,
          `a.association_type = ${p.add(HAS_MEMBER)}`,
          `a.target_uuid = any(${p.add([...docIds])}::text[])`,
        ])
      : [];
    const linkIds = new Set(ids(folderLinks));
    const kept = members.filter((m) => docIds.has(m.targetObject!) || folderIds.has(m.targetObject!) || linkIds.has(m.targetObject!));
    const keptIds = new Set(ids(kept));
    return [set, ...docs, ...folders, ...kept, ...folderLinks.filter((l) => !keptIds.has(l.id))];
  },

  async GetFolderAndContents(q) {
    const folders = await q.byIds('folder', ...FOLDER);
    const folder = folders[0];
    if (!folder) return [];
    const members = await q.associations((p) => [`a.source_uuid = ${p.add(folder.id)}`, `a.association_type = ${p.add(HAS_MEMBER)}`]);
    const docs = members.length ? await q.select('document', (p) => [`d.entry_uuid = any(${p.add(members.map((m) => m.targetObject!))}::text[])`]) : [];
    const docIds = new Set(ids(docs));
    return [folder, ...docs, ...members.filter((m) => docIds.has(m.targetObject!))];
  },

  async GetFoldersForDocument(q) {
    const docs = await q.byIds('document', ...DE);
    if (!docs.length) return [];
    return q.read('folder', (p) => [
      `f.entry_uuid in (select a.source_uuid from associations a where a.deleted_at is null and a.association_type = ${p.add(HAS_MEMBER)} and a.target_uuid = any(${p.add(ids(docs))}::text[]))`,
    ]);
  },

  async GetRelatedDocuments(q) {
    const docs = await q.byIds('document', ...DE);
    if (!docs.length) return [];
    const origin = new Set(ids(docs));
    const links = await q.associations((p) => {
      const list = p.add([...origin]);
      return [`a.association_type = any(${p.add(q.values('$AssociationTypes'))}::text[])`, `(a.source_uuid = any(${list}::text[]) or a.target_uuid = any(${list}::text[]))`];
    });
    const otherEnd = (a: ResultObject): string => (origin.has(a.sourceObject!) ? a.targetObject! : a.sourceObject!);
    const candidates = [...new Set(links.map(otherEnd))].filter((id) => !origin.has(id));
    if (!candidates.length) return [];
    const related = await q.select('document', (p) => [`d.entry_uuid = any(${p.add(candidates)}::text[])`]);
    const relatedIds = new Set(ids(related));
    if (!relatedIds.size) return [];
    return [...docs, ...related, ...links.filter((a) => relatedIds.has(otherEnd(a)))];
  },
};
