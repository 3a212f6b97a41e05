import { SEVERITY_URN, type XdsError } from '../errors.js';
import { escapeXml } from '../xml/tree.js';
import { NS, RESPONSE_STATUS } from './uuids.js';

/** Characters XML 1.0 cannot carry at all (a message may quote a submitter's value or an exception). */
const NOT_XML = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/** Escaped for an attribute value; line breaks and tabs as character references so that they survive attribute normalisation. */
function attr(s: string): string {
  return escapeXml(s.replace(NOT_XML, '\uFFFD')).replace(/[\t\n\r]/g, (c) => `&#${c.charCodeAt(0)};`);
}

function registryErrorXml(e: XdsError): string {
  const location = e.location !== undefined ? ` location="${attr(e.location)}"` : '';
  return `<rs:RegistryError errorCode="${e.code}" codeContext="${attr(e.message)}"${location} severity="${SEVERITY_URN[e.severity]}"/>`;
}

/**
 * rs:RegistryErrorList of these errors, or '' when there are none. The `rs` prefix must be bound
 * by the enclosing element.
 */
export function registryErrorListXml(errors: XdsError[]): string {
  if (errors.length === 0) return '';
  const highest = errors.some((e) => e.severity === 'Error') ? 'Error' : 'Warning';
  return `<rs:RegistryErrorList highestSeverity="${SEVERITY_URN[highest]}">${errors.map(registryErrorXml).join('')}</rs:RegistryErrorList>`;
}

/**
 * rs:RegistryResponse (ebRS 3.0) for these errors: Failure when any is an Error, Success when there
 * are none or only Warnings; PartialSuccess when asked and some errors exist (ITI-43 with some
 * documents returned).
 */
export function registryResponseXml(errors: XdsError[], opts: { partialSuccess?: boolean; elementName?: 'RegistryResponse' } = {}): string {
  const name = `rs:${opts.elementName ?? 'RegistryResponse'}`;
  const status =
    opts.partialSuccess && errors.length > 0
      ? RESPONSE_STATUS.partialSuccess
      : errors.some((e) => e.severity === 'Error')
        ? RESPONSE_STATUS.failure
        : RESPONSE_STATUS.success;
  const list = registryErrorListXml(errors);
  const open = `<${name} xmlns:rs="${NS.rs}" status="${status}"`;
  return list ? `${open}>${list}</${name}>` : `${open}/>`;
}
