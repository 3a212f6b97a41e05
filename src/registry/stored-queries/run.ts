import type { AdhocQuery, ReturnType } from '../../ebrim/query-request.js';
import { XdsError } from '../../errors.js';
import type { Db } from '../db.js';
import { storedQueryById } from './definitions.js';
import { QueryExecutor, type ResultObject } from './execute.js';
import { bindParams } from './values.js';

export interface StoredQueryOptions {
  /** Most objects a LeafClass answer may hold (STORED_QUERY_MAX_RESULTS). */
  maxResults: number;
  /** This registry's home community id: a query for another community is refused. */
  homeCommunityId: string;
}

export interface StoredQueryAnswer {
  returnType: ReturnType;
  objects: ResultObject[];
  /** Errors (nothing returned) and Warnings (ignored parameters). */
  errors: XdsError[];
  metadataLevel: 1 | 2;
  /** Set on every returned object when the request named a community. */
  home?: string;
}

/**
 * ITI-18 on the registry: finds the stored query, binds its parameters (all errors collected), checks
 * the community, then runs it. Throws only when the database fails.
 */
export async function runStoredQuery(db: Db, query: AdhocQuery, opts: StoredQueryOptions): Promise<StoredQueryAnswer> {
  const answer: StoredQueryAnswer = { returnType: query.returnType, objects: [], errors: [], metadataLevel: 2 };
  const def = storedQueryById.get(query.queryId);
  if (!def) {
    answer.errors.push(new XdsError('XDSUnknownStoredQuery', `unknown stored query id '${query.queryId}'`));
    return answer;
  }
  const { params, errors } = bindParams(def, query.slots);
  answer.errors.push(...errors);
  const home = params.get('$homeCommunityId')?.[0]?.[0] ?? query.home;
  if (home !== undefined && home !== opts.homeCommunityId) {
    answer.errors.push(new XdsError('XDSUnknownCommunity', `homeCommunityId ${home} is not this registry's community (${opts.homeCommunityId})`));
  }
  if (answer.errors.some((e) => e.severity === 'Error')) return answer;
  if (home !== undefined) answer.home = home;
  if (params.get('$MetadataLevel')?.[0]?.[0] === '1') answer.metadataLevel = 1;

  const outcome = await new QueryExecutor(db, def, params, { returnType: query.returnType, maxResults: opts.maxResults }).run();
  answer.objects = outcome.objects;
  answer.errors.push(...outcome.errors);
  return answer;
}
