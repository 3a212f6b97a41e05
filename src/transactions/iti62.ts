import type { GatewayContext } from '../context.js';
import { registryResponseXml } from '../ebrim/response.js';
import { NS } from '../ebrim/uuids.js';
import { XdsError, XdsFailure } from '../errors.js';
import { deletionRefusals } from '../policy/enforce.js';
import type { Caller } from '../registry/deletion.js';
import type { SoapRequest } from '../soap/envelope.js';
import type { XmlElement } from '../xml/tree.js';
import { unavailable } from './register.js';

export type { Caller } from '../registry/deletion.js';

/**
 * The caller of a request that authentication did not identify (no verified SAML/VIHF token): nobody,
 * so ITI-62 refuses unless DELETE_WITHOUT_CALLER_IDENTITY.
 */
export function callerOf(_request: SoapRequest): Caller {
  return {};
}

/**
 * ITI-62 Delete Document Set (ITI TF-2b §3.62), per the DMP rules: the objects named by the
 * lcm:RemoveObjectsRequest are deleted logically, all or none — gone from queries and retrieve, the
 * bytes kept in the content store, the deletion recorded with its time, the caller's organisation and
 * the request's MessageID. Only an author's organisation may delete a document.
 */
export async function deleteDocumentSet(request: SoapRequest, caller: Caller, ctx: GatewayContext): Promise<string> {
  const parsed = parseRemoveObjectsRequest(request.body);
  if ('errors' in parsed) return registryResponseXml(parsed.errors);
  try {
    const refused = await deletionRefusals(ctx, parsed.objectRefs);
    if (refused.length) return registryResponseXml(refused);
    const count = await ctx.registry.deleteObjects({
      objectRefs: parsed.objectRefs,
      caller,
      allowWithoutCaller: ctx.config.deleteWithoutCallerIdentity,
      messageId: request.messageId,
    });
    ctx.logger.info({ objects: parsed.objectRefs, deleted: count, organisationId: caller.organisationId ?? null }, 'objects deleted (logically)');
    return registryResponseXml([]);
  } catch (err) {
    if (err instanceof XdsFailure) return registryResponseXml(err.errors);
    return registryResponseXml([unavailable(err, ctx)]);
  }
}

const invalid = (message: string): { errors: XdsError[] } => ({ errors: [new XdsError('InvalidRequestException', message)] });

/** ITI TF-2b §3.62.4.1.2: an ObjectRefList of registry object ids, no AdhocQuery, no deletionScope. */
export function parseRemoveObjectsRequest(body: XmlElement): { objectRefs: string[] } | { errors: XdsError[] } {
  if (body.ns !== NS.lcm || body.local !== 'RemoveObjectsRequest') return invalid(`expected lcm:RemoveObjectsRequest, found {${body.ns}}${body.local}`);
  if (body.attrs.deletionScope !== undefined) return invalid('lcm:RemoveObjectsRequest must not carry a deletionScope');
  if (body.children.some((c) => c.ns === NS.rim && c.local === 'AdhocQuery')) return invalid('lcm:RemoveObjectsRequest must not carry an AdhocQuery');
  const list = body.children.find((c) => c.ns === NS.rim && c.local === 'ObjectRefList');
  if (!list) return invalid('lcm:RemoveObjectsRequest has no rim:ObjectRefList');
  const objectRefs: string[] = [];
  for (const ref of list.children) {
    if (ref.ns !== NS.rim || ref.local !== 'ObjectRef') continue;
    const id = ref.attrs.id?.trim();
    if (!id) return invalid('rim:ObjectRef without an id');
    objectRefs.push(id);
  }
  if (!objectRefs.length) return invalid('rim:ObjectRefList names no object');
  return { objectRefs };
}
