import type { Db } from '../../src/registry/db.js';

const quoted = (v: string): string => `'${v.replace(/'/g, "''")}'`;
/**
 * The statements `work` sends with their values, on a Db where each answers no rows: what a stored query sends
 * before it has anything to follow up.
 */
export async function statementsOf(db: Db, work: (db: Db) => Promise<unknown>): Promise<{ sql: string; params: unknown[] }[]> {
  const statements: { sql: string; params: unknown[] }[] = [];
  const recording: Db = {
    ...db,
    async query<T>(sql: string, params?: unknown[]): Promise<T[]> {
      statements.push({ sql, params: params ?? [] });
      return [];
    },
  };
  await work(recording);
  return statements;
}

let probes = 0;
const literal = (v: unknown): string => (Array.isArray(v) ? `array[${v.map((x) => quoted(String(x))).join(',')}]::text[]` : quoted(String(v)));

/**
 * The plan PostgreSQL keeps for a prepared statement past its fifth run when it judges a generic plan (made
 * without the parameter values) as cheap as the custom ones: the statement is prepared, then EXPLAINed with
 * `plan_cache_mode = force_generic_plan`, in one transaction on one connection. An EXPLAIN of the statement with
 * its values shows a custom plan instead, which a prepared statement may not run. `analyze` runs it as well.
 * Values are written as literals (text, or text arrays).
 */
export async function explainGenericPlan(db: Db, sql: string, params: unknown[], opts: { analyze?: boolean; noSeqScan?: boolean } = {}): Promise<string[]> {
  // A name of its own: statements run side by side on one connection (GetAll reads its three kinds at once).
  const name = `generic_plan_probe_${++probes}`;
  return db.transaction(async (tx) => {
    await tx.query('set local plan_cache_mode = force_generic_plan');
    if (opts.noSeqScan) await tx.query('set local enable_seqscan = off');
    await tx.query(`prepare ${name} as ${sql}`);
    try {
      const rows = await tx.query<{ 'QUERY PLAN': string }>(`explain ${opts.analyze ? '(analyze, buffers off) ' : ''}execute ${name}(${params.map(literal).join(', ')})`);
      return rows.map((r) => r['QUERY PLAN']);
    } finally {
      await tx.query(`deallocate ${name}`);
    }
  });
}
