/** How a SOAP request ended, as xdsgw_requests_total counts it. */
export type RequestOutcome = 'Success' | 'PartialSuccess' | 'Failure' | 'Fault';

export const REQUEST_OUTCOMES: readonly RequestOutcome[] = ['Success', 'PartialSuccess', 'Failure', 'Fault'];

const STATUS = 'ResponseStatusType:';
const LIST_OPEN = '<rs:RegistryErrorList';
const LIST_CLOSE = '</rs:RegistryErrorList>';
const ERROR_CODE = 'errorCode="';

/*
 * Every response body the transactions build (rs:RegistryResponse, query:AdhocQueryResponse,
 * xdsb:RetrieveDocumentSetResponse) carries its status in its first element or two, and its
 * rs:RegistryErrorList right after the element with the status (ebRS 3.0 puts the list before any
 * result). Reading those few hundred characters costs nothing next to a 1,000-object ITI-18 answer,
 * which is never scanned.
 */

/** The ebRS status of a response body; Failure when it has none (no transaction answers so). */
export function responseOutcome(bodyXml: string): RequestOutcome {
  const at = bodyXml.indexOf(STATUS);
  if (at === -1) return 'Failure';
  const value = at + STATUS.length;
  if (bodyXml.startsWith('Success"', value)) return 'Success';
  if (bodyXml.startsWith('PartialSuccess"', value)) return 'PartialSuccess';
  return 'Failure';
}

/** Calls `each` with the errorCode of every rs:RegistryError of the body (Errors and Warnings), in order. */
export function forEachErrorCode(bodyXml: string, each: (code: string) => void): void {
  const status = bodyXml.indexOf(STATUS);
  if (status === -1) return;
  const elementEnd = bodyXml.indexOf('>', status);
  if (elementEnd === -1 || !bodyXml.startsWith(LIST_OPEN, elementEnd + 1)) return;
  const listEnd = bodyXml.indexOf(LIST_CLOSE, elementEnd);
  if (listEnd === -1) return;
  // Attribute values are escaped (`"` is &quot;), so `errorCode="` only ever starts an attribute.
  for (let at = bodyXml.indexOf(ERROR_CODE, elementEnd); at !== -1 && at < listEnd; at = bodyXml.indexOf(ERROR_CODE, at)) {
    at += ERROR_CODE.length;
    const end = bodyXml.indexOf('"', at);
    if (end === -1) return;
    each(bodyXml.slice(at, end));
  }
}
