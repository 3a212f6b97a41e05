import type { GatewayContext } from '../context.js';
import { parseAdhocQueryRequest } from '../ebrim/query-request.js';
import { registryErrorListXml } from '../ebrim/response.js';
import { LeafClassWriter, objectRefXml, type RegistryFacts } from '../ebrim/serialize.js';
import { NS, RESPONSE_STATUS } from '../ebrim/uuids.js';
import { XdsError } from '../errors.js';
import { filterQueryAnswer, queryPatientIds } from '../policy/query-filter.js';
import { RegistryUnavailableError } from '../registry/db.js';
import { writeLeafClass, type ResultObject } from '../registry/stored-queries/execute.js';
import { runStoredQuery, type StoredQueryAnswer } from '../registry/stored-queries/run.js';
import type { XmlPiece, XmlPieces } from '../xml/pieces.js';
import type { XmlElement } from '../xml/tree.js';
import type { TransactionResult } from './index.js';

/**
 * ITI-18 Registry Stored Query (ITI TF-2a §3.18): the AdhocQueryRequest is read, the stored query
 * named by its id runs with its parameters bound as SQL parameters, and the objects come back as
 * LeafClass ebRIM or ObjectRefs in a query:AdhocQueryResponse.
 */
export async function registryStoredQuery(body: XmlElement, ctx: GatewayContext): Promise<TransactionResult> {
  const { query, errors } = parseAdhocQueryRequest(body);
  if (!query) return { bodyXml: adhocQueryResponse(errors, []) };
  let answer: StoredQueryAnswer;
  let patientIdsOfAnswer: string[] | undefined;
  try {
    answer = await runStoredQuery(ctx.registry.db, query, { maxResults: ctx.config.storedQueryMaxResults, homeCommunityId: ctx.config.homeCommunityId });
    // Before the access policy: a document hidden from the caller was still looked for in its patient's record.
    patientIdsOfAnswer = patientsOf(answer.objects);
    // The access policy: a refused record replaces the whole answer, hidden documents leave it.
    const shown = await filterQueryAnswer(ctx, queryPatientIds(query.slots), answer.objects);
    if (shown.refusal) return { bodyXml: adhocQueryResponse([shown.refusal], []), patientIdsOfAnswer };
    answer.objects = shown.objects;
  } catch (err) {
    if (!(err instanceof RegistryUnavailableError)) throw err;
    ctx.logger.error({ err: err.message }, 'registry unavailable during stored query');
    return { bodyXml: adhocQueryResponse([new XdsError('XDSRegistryNotAvailable', 'the registry database is not available')], []) };
  }
  return { bodyXml: adhocQueryResponse(answer.errors, objectList(answer)), patientIdsOfAnswer };
}

/**
 * The patients of the documents, submission sets and folders found (each carries its patient id), or
 * undefined when nothing but associations was found: those name no patient, the audit trail reads them.
 */
function patientsOf(objects: ResultObject[]): string[] | undefined {
  const patients = new Set<string>();
  for (const o of objects) if (o.patientId !== undefined) patients.add(o.patientId);
  return patients.size ? [...patients] : undefined;
}

/**
 * The objects one after the other: ObjectRefs one piece each, LeafClass objects as one buffer of bytes,
 * never joined into one string (flattening the concatenation of a large answer cost five times its
 * encoding).
 */
function objectList(answer: StoredQueryAnswer): XmlPiece[] {
  if (answer.returnType === 'ObjectRef') return answer.objects.map((o) => objectRefXml(o.id, answer.home));
  if (!answer.objects.length) return [];
  const out = new LeafClassWriter();
  for (const o of answer.objects) writeLeafClass(out, o, registryFacts(o, answer));
  return [out.bytes()];
}

function registryFacts(o: ResultObject, answer: StoredQueryAnswer): RegistryFacts {
  const facts: RegistryFacts = { status: o.status, home: answer.home };
  if (o.kind === 'folder') facts.lastUpdateTime = o.lastUpdateTime;
  // logicalId and version belong to metadata level 2 (XDS Metadata Update).
  if (o.kind === 'document' && answer.metadataLevel === 2) {
    facts.lid = o.logicalId;
    facts.versionName = o.version === undefined ? undefined : String(o.version);
  }
  return facts;
}

/** The response: status and errors in the first piece (headOf), then the objects' pieces. */
function adhocQueryResponse(errors: XdsError[], objects: XmlPiece[]): string | XmlPieces {
  const status = errors.some((e) => e.severity === 'Error') ? RESPONSE_STATUS.failure : RESPONSE_STATUS.success;
  const head = `<query:AdhocQueryResponse xmlns:query="${NS.query}" xmlns:rim="${NS.rim}" xmlns:rs="${NS.rs}" status="${status}">` + registryErrorListXml(errors);
  if (!objects.length) return `${head}<rim:RegistryObjectList/></query:AdhocQueryResponse>`;
  return [`${head}<rim:RegistryObjectList>`, ...objects, '</rim:RegistryObjectList></query:AdhocQueryResponse>'];
}
