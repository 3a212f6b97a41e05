import type { Db } from '../../src/registry/db.js';

export const REGISTRY_TABLES = [
  'patients',
  'submission_sets',
  'submission_set_authors',
  'document_entries',
  'document_entry_codes',
  'document_entry_authors',
  'folders',
  'folder_codes',
  'associations',
] as const;

export type TableCounts = Record<(typeof REGISTRY_TABLES)[number], number>;

/** Row count of every registry table, to prove that a failed commit wrote nothing. */
export async function tableCounts(db: Db): Promise<TableCounts> {
  const columns = REGISTRY_TABLES.map((t) => `(select count(*) from ${t})::int as ${t}`).join(', ');
  const [row] = await db.query<TableCounts>(`select ${columns}`);
  if (!row) throw new Error('no counts');
  return row;
}

export function diffCounts(before: TableCounts, after: TableCounts): Partial<TableCounts> {
  const diff: Partial<TableCounts> = {};
  for (const t of REGISTRY_TABLES) if (after[t] !== before[t]) diff[t] = after[t] - before[t];
  return diff;
}
