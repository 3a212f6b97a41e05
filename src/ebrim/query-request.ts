import { XdsError } from '../errors.js';
import { SoapFault } from '../soap/fault.js';
import type { XmlElement } from '../xml/tree.js';
import { NS } from './uuids.js';

export type ReturnType = 'LeafClass' | 'ObjectRef';

/** One rim:Slot of the AdhocQuery: its name and the text of each rim:Value, trimmed. */
export interface QuerySlot {
  name: string;
  values: string[];
}

/** A query:AdhocQueryRequest read into plain values; the slot values are still in stored query syntax. */
export interface AdhocQuery {
  queryId: string;
  returnType: ReturnType;
  /** The `home` attribute of rim:AdhocQuery (XCA), when present. */
  home?: string;
  /** In request order; a name may repeat (ANDed code parameters). */
  slots: QuerySlot[];
}

const RETURN_TYPES = new Set<string>(['LeafClass', 'ObjectRef']);

/**
 * Reads query:AdhocQueryRequest (ebRS 3.0 §6.3, ITI TF-2a §3.18.4.1.2). A Body that is not one is a
 * Sender fault; a request the registry understands but cannot honour comes back as XDS errors.
 */
export function parseAdhocQueryRequest(el: XmlElement): { query?: AdhocQuery; errors: XdsError[] } {
  if (el.ns !== NS.query || el.local !== 'AdhocQueryRequest') {
    throw new SoapFault('Sender', `expected query:AdhocQueryRequest in the Body, found {${el.ns}}${el.local}`);
  }
  const option = el.children.find((c) => c.ns === NS.query && c.local === 'ResponseOption');
  const adhoc = el.children.find((c) => c.ns === NS.rim && c.local === 'AdhocQuery');
  if (!adhoc) throw new SoapFault('Sender', 'AdhocQueryRequest has no rim:AdhocQuery');

  const errors: XdsError[] = [];
  const returnType = option?.attrs.returnType ?? 'LeafClass';
  if (!RETURN_TYPES.has(returnType)) errors.push(new XdsError('XDSRegistryError', `returnType '${returnType}' is not supported: use LeafClass or ObjectRef`));
  // The IHE sample request pads the id with spaces: an id never contains any, so trimming is safe.
  const queryId = (adhoc.attrs.id ?? '').trim();
  if (!queryId) errors.push(new XdsError('XDSUnknownStoredQuery', 'rim:AdhocQuery has no id'));

  const slots = adhoc.children
    .filter((c) => c.ns === NS.rim && c.local === 'Slot')
    .map((s) => ({
      name: (s.attrs.name ?? '').trim(),
      values: s.children
        .filter((l) => l.ns === NS.rim && l.local === 'ValueList')
        .flatMap((l) => l.children.filter((v) => v.ns === NS.rim && v.local === 'Value').map((v) => v.text.trim())),
    }));
  if (errors.length) return { errors };
  const query: AdhocQuery = { queryId, returnType: returnType as ReturnType, slots };
  if (adhoc.attrs.home) query.home = adhoc.attrs.home.trim();
  return { query, errors };
}
