import { randomUUID } from 'node:crypto';
import { NS } from '../ebrim/uuids.js';
import type { XmlPieces } from '../xml/pieces.js';
import { childrenOf, escapeXml, parseXml, XmlSyntaxError, type XmlElement, type XmlLimits } from '../xml/tree.js';
import { SoapFault, WSA_SUBCODE, type QName } from './fault.js';

/** A SOAP 1.2 request after the envelope and WS-Addressing checks. */
export interface SoapRequest {
  action: string;
  messageId?: string;
  replyTo?: string;
  to?: string;
  header?: XmlElement;
  /** The single child of env:Body. */
  body: XmlElement;
  /** The wsse:Security header block, if present. */
  security?: XmlElement;
}

export interface ParseEnvelopeOptions {
  /** Actions this endpoint serves; any other is refused with wsa:ActionNotSupported. */
  expectedActions?: ReadonlySet<string> | readonly string[];
  xmlLimits?: XmlLimits;
}

const ROLE_NEXT = 'http://www.w3.org/2003/05/soap-envelope/role/next';
const ROLE_ULTIMATE_RECEIVER = 'http://www.w3.org/2003/05/soap-envelope/role/ultimateReceiver';
const MUST_UNDERSTAND = `{${NS.soap12}}mustUnderstand`;
const ROLE = `{${NS.soap12}}role`;

const PREFIX_BY_NS: Record<string, string> = { [NS.soap12]: 'env', [NS.soap11]: 'soap11', [NS.wsa]: 'wsa', [NS.wsse]: 'wsse' };

/** `wsa:Action` for the namespaces readers know, `{ns}local` for the others. */
function nameOf(el: XmlElement): string {
  const prefix = PREFIX_BY_NS[el.ns];
  if (prefix) return `${prefix}:${el.local}`;
  return el.ns ? `{${el.ns}}${el.local}` : el.local;
}

/**
 * Parses and checks a SOAP 1.2 request (SOAP 1.2 Part 1 §5, WS-Addressing 1.0 SOAP Binding):
 * envelope version, Header/Body structure, mustUnderstand headers, then the addressing headers.
 * Every refusal is a SoapFault; those raised after the MessageID was read carry it as relatesTo.
 */
export function parseEnvelope(xml: string, opts: ParseEnvelopeOptions = {}): SoapRequest {
  const root = parseRoot(xml, opts.xmlLimits);
  checkVersion(root);
  const { header, body } = envelopeParts(root);
  const messageId = header ? childrenOf(header, NS.wsa, 'MessageID')[0]?.text.trim() || undefined : undefined;
  try {
    if (header) checkMustUnderstand(header);
    const addressing = readAddressing(header);
    const payload = singleBodyChild(body);
    if (opts.expectedActions && !includes(opts.expectedActions, addressing.action)) throw actionNotSupported(addressing.action);
    return { ...addressing, header, body: payload, security: header ? childrenOf(header, NS.wsse, 'Security')[0] : undefined };
  } catch (err) {
    if (err instanceof SoapFault && messageId && err.relatesTo === undefined) err.relatesTo = messageId;
    throw err;
  }
}

function includes(actions: ReadonlySet<string> | readonly string[], action: string): boolean {
  return 'has' in actions ? actions.has(action) : actions.includes(action);
}

function parseRoot(xml: string, limits: XmlLimits | undefined): XmlElement {
  try {
    return parseXml(xml, limits);
  } catch (err) {
    if (err instanceof XmlSyntaxError) throw new SoapFault('Sender', `malformed XML: ${err.message}`);
    throw err;
  }
}

/** SOAP 1.2 Part 1 §5.4.7: an Envelope in any namespace but SOAP 1.2's is a VersionMismatch. */
function checkVersion(root: XmlElement): void {
  if (root.local !== 'Envelope') throw new SoapFault('Sender', `the root element is ${nameOf(root)}, not a SOAP Envelope`);
  if (root.ns === NS.soap12) return;
  if (root.ns === NS.soap11) {
    throw new SoapFault('VersionMismatch', `SOAP 1.1 envelope (namespace ${NS.soap11}) received; this service accepts SOAP 1.2 only (namespace ${NS.soap12})`);
  }
  throw new SoapFault('VersionMismatch', `envelope namespace '${root.ns}' is not SOAP 1.2 (${NS.soap12})`);
}

function envelopeParts(root: XmlElement): { header?: XmlElement; body: XmlElement } {
  const [first, second, third] = root.children;
  const isSoap = (el: XmlElement | undefined, local: string): el is XmlElement => el?.ns === NS.soap12 && el.local === local;
  const header = isSoap(first, 'Header') ? first : undefined;
  const body = header ? second : first;
  const after = header ? third : second;
  if (!isSoap(body, 'Body')) {
    const found = body ? nameOf(body) : 'nothing';
    throw new SoapFault('Sender', `env:Envelope must contain env:Body${header ? ' after env:Header' : ''}; found ${found}`);
  }
  if (after) throw new SoapFault('Sender', `env:Envelope has ${nameOf(after)} after env:Body; nothing may follow the Body`);
  return { header, body };
}

/** Header blocks this gateway processes: WS-Addressing and WS-Security. */
function understood(block: XmlElement): boolean {
  return block.ns === NS.wsa || (block.ns === NS.wsse && block.local === 'Security');
}

/** SOAP 1.2 Part 1 §5.2.3: a mandatory block targeted at us that we do not process stops the message. */
function checkMustUnderstand(header: XmlElement): void {
  const notUnderstood: QName[] = [];
  for (const block of header.children) {
    const mu = block.attrs[MUST_UNDERSTAND]?.trim();
    if (mu === undefined || mu === '0' || mu === 'false') continue;
    if (mu !== '1' && mu !== 'true') {
      throw new SoapFault('Sender', `header block ${nameOf(block)} has env:mustUnderstand='${mu}'; expected true, false, 1 or 0`);
    }
    const role = block.attrs[ROLE]?.trim();
    const targeted = !role || role === ROLE_NEXT || role === ROLE_ULTIMATE_RECEIVER;
    if (targeted && !understood(block)) notUnderstood.push({ ns: block.ns, local: block.local, prefix: 'nu' });
  }
  if (notUnderstood.length) {
    const names = notUnderstood.map((q) => (q.ns ? `{${q.ns}}${q.local}` : q.local)).join(', ');
    throw new SoapFault('MustUnderstand', `header block ${names} is marked mustUnderstand but this gateway does not process it`, { notUnderstood });
  }
}

function readAddressing(header: XmlElement | undefined): { action: string; messageId?: string; replyTo?: string; to?: string } {
  const action = addressingHeader(header, 'Action');
  if (!action) {
    throw new SoapFault('Sender', 'the WS-Addressing header wsa:Action is required', {
      subcode: WSA_SUBCODE.messageAddressingHeaderRequired,
      problemHeader: 'wsa:Action',
    });
  }
  const actionText = action.text.trim();
  if (!actionText) throw invalidHeader('Action', 'wsa:Action is empty');
  const messageId = addressingHeader(header, 'MessageID')?.text.trim();
  if (messageId === '') throw invalidHeader('MessageID', 'wsa:MessageID is empty');
  const replyTo = addressingHeader(header, 'ReplyTo');
  let replyAddress: string | undefined;
  if (replyTo) {
    replyAddress = childrenOf(replyTo, NS.wsa, 'Address')[0]?.text.trim();
    if (!replyAddress) throw invalidHeader('ReplyTo', 'wsa:ReplyTo has no wsa:Address');
  }
  const to = addressingHeader(header, 'To')?.text.trim() || undefined;
  return { action: actionText, messageId, replyTo: replyAddress, to };
}

/** One WS-Addressing header block; WS-Addressing allows each at most once. */
function addressingHeader(header: XmlElement | undefined, local: string): XmlElement | undefined {
  if (!header) return undefined;
  const blocks = childrenOf(header, NS.wsa, local);
  if (blocks.length > 1) throw invalidHeader(local, `the message has ${blocks.length} wsa:${local} headers; at most one is allowed`);
  return blocks[0];
}

function invalidHeader(local: string, reason: string): SoapFault {
  return new SoapFault('Sender', reason, { subcode: WSA_SUBCODE.invalidAddressingHeader, problemHeader: `wsa:${local}` });
}

function singleBodyChild(body: XmlElement): XmlElement {
  const [only, extra] = body.children;
  if (!only) throw new SoapFault('Sender', 'env:Body is empty; it must contain exactly one element');
  if (extra) throw new SoapFault('Sender', `env:Body contains ${body.children.length} elements; it must contain exactly one`);
  return only;
}

/** The fault for a well-formed request whose wsa:Action this endpoint does not serve. */
export function actionNotSupported(action: string): SoapFault {
  return new SoapFault('Sender', `the action '${action}' is not supported by this endpoint`, {
    subcode: WSA_SUBCODE.actionNotSupported,
    problemAction: action,
  });
}

/** A SOAP 1.2 response envelope with its WS-Addressing headers; bodyXml is inserted as is. */
export function responseEnvelope(opts: { action: string; relatesTo?: string; bodyXml: string }): string;
export function responseEnvelope(opts: { action: string; relatesTo?: string; bodyXml: string | XmlPieces }): string | XmlPieces;
export function responseEnvelope(opts: { action: string; relatesTo?: string; bodyXml: string | XmlPieces }): string | XmlPieces {
  const open =
    `<?xml version="1.0" encoding="UTF-8"?>` +
    `<env:Envelope xmlns:env="${NS.soap12}" xmlns:wsa="${NS.wsa}">` +
    `<env:Header>` +
    `<wsa:Action env:mustUnderstand="1">${escapeXml(opts.action)}</wsa:Action>` +
    `<wsa:MessageID>urn:uuid:${randomUUID()}</wsa:MessageID>` +
    (opts.relatesTo ? `<wsa:RelatesTo>${escapeXml(opts.relatesTo)}</wsa:RelatesTo>` : '') +
    `</env:Header>` +
    `<env:Body>`;
  const close = `</env:Body></env:Envelope>`;
  if (typeof opts.bodyXml === 'string') return open + opts.bodyXml + close;
  return [open, ...opts.bodyXml, close];
}
