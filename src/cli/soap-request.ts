import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { NS } from '../ebrim/uuids.js';
import { escapeXml } from '../xml/tree.js';
import { localFileError, usageError } from './exit.js';

/** A SOAP 1.2 request envelope with the WS-Addressing headers IHE requires, and the caller's wsse:Security when given. */
export function requestEnvelope(opts: { action: string; to: string; bodyXml: string; securityXml?: string }): { xml: string; messageId: string } {
  const messageId = `urn:uuid:${randomUUID()}`;
  const xml =
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<soap:Envelope xmlns:soap="${NS.soap12}" xmlns:wsa="${NS.wsa}">` +
    `<soap:Header>` +
    `<wsa:Action soap:mustUnderstand="1">${escapeXml(opts.action)}</wsa:Action>` +
    `<wsa:MessageID>${messageId}</wsa:MessageID>` +
    `<wsa:ReplyTo><wsa:Address>http://www.w3.org/2005/08/addressing/anonymous</wsa:Address></wsa:ReplyTo>` +
    `<wsa:To soap:mustUnderstand="1">${escapeXml(opts.to)}</wsa:To>` +
    (opts.securityXml ?? '') +
    `</soap:Header>` +
    `<soap:Body>${opts.bodyXml}</soap:Body>` +
    `</soap:Envelope>`;
  return { xml, messageId };
}

/**
 * The wsse:Security header block around a VIHF SAML 2.0 assertion read from a file. The assertion is
 * inserted byte for byte (its XML declaration removed), so that its enveloped signature still verifies.
 */
export async function securityHeaderFromFile(file: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw localFileError(`cannot read the assertion file ${file}: ${(err as Error).message}`);
  }
  const assertion = text.replace(/^\uFEFF?\s*<\?xml[^?]*\?>\s*/, '').trim();
  if (!/^<([\w.-]+:)?Assertion[\s>]/.test(assertion) || !assertion.includes('urn:oasis:names:tc:SAML:2.0:assertion')) {
    throw usageError(`${file} does not hold a SAML 2.0 Assertion (root element saml2:Assertion expected)`);
  }
  return `<wsse:Security xmlns:wsse="${NS.wsse}">${assertion}</wsse:Security>`;
}
