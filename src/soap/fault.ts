import { randomUUID } from 'node:crypto';
import { NS } from '../ebrim/uuids.js';
import { escapeXml } from '../xml/tree.js';

/** The five fault codes of SOAP 1.2 Part 1 §5.4.6. */
export type SoapFaultCode = 'VersionMismatch' | 'MustUnderstand' | 'DataEncodingUnknown' | 'Sender' | 'Receiver';

export interface QName {
  ns: string;
  local: string;
  prefix: string;
}

/** Content-Type of every SOAP 1.2 message the gateway sends without attachments. */
export const SOAP_CONTENT_TYPE = 'application/soap+xml; charset=UTF-8';

/** Action of every fault message (WS-Addressing 1.0 SOAP Binding §6). */
export const WSA_FAULT_ACTION = 'http://www.w3.org/2005/08/addressing/soap/fault';

/** Fault subcodes of WS-Addressing 1.0 SOAP Binding §6.4. */
export const WSA_SUBCODE = {
  invalidAddressingHeader: { ns: NS.wsa, local: 'InvalidAddressingHeader', prefix: 'wsa' },
  messageAddressingHeaderRequired: { ns: NS.wsa, local: 'MessageAddressingHeaderRequired', prefix: 'wsa' },
  actionNotSupported: { ns: NS.wsa, local: 'ActionNotSupported', prefix: 'wsa' },
} as const satisfies Record<string, QName>;

export interface SoapFaultOptions {
  subcode?: QName;
  /** Plain text for env:Detail. */
  detail?: string;
  /** Replaces the status of SOAP 1.2 Part 2 §7.5.1.2, e.g. 413 for a body over the size limit. */
  httpStatus?: number;
  /** Header blocks that were mustUnderstand and not understood, reported in env:NotUnderstood headers. */
  notUnderstood?: QName[];
  /** The WS-Addressing header at fault (detail wsa:ProblemHeaderQName), e.g. `wsa:Action`. */
  problemHeader?: string;
  /** The unsupported action (detail wsa:ProblemAction). */
  problemAction?: string;
  /** MessageID of the request, when it was read before the fault. */
  relatesTo?: string;
}

/** A SOAP 1.2 fault: thrown anywhere in request handling, answered by the HTTP layer with faultEnvelope. */
export class SoapFault extends Error {
  readonly code: SoapFaultCode;
  readonly subcode?: QName;
  readonly reason: string;
  readonly detail?: string;
  readonly httpStatus: number;
  readonly notUnderstood?: QName[];
  readonly problemHeader?: string;
  readonly problemAction?: string;
  relatesTo?: string;

  constructor(code: SoapFaultCode, reason: string, opts: SoapFaultOptions = {}) {
    super(reason);
    this.name = 'SoapFault';
    this.code = code;
    this.reason = reason;
    this.subcode = opts.subcode;
    this.detail = opts.detail;
    this.httpStatus = opts.httpStatus ?? (code === 'Sender' ? 400 : 500);
    this.notUnderstood = opts.notUnderstood;
    this.problemHeader = opts.problemHeader;
    this.problemAction = opts.problemAction;
    this.relatesTo = opts.relatesTo;
  }
}

/** Namespace of the element that carries a plain-text detail (env:Detail holds elements only). */
export const GATEWAY_FAULT_NS = 'urn:dmp-xds-gateway:fault';

const NCNAME = /^[A-Za-z_][\w.-]*$/;
/** Prefixes a subcode or NotUnderstood qname may not take: they are bound in the fault envelope. */
const RESERVED_PREFIXES = new Set(['env', 'wsa', 'xml', 'xmlns', 'gw']);

/** Declares its own prefix for a qualified name so that it never clashes with the envelope's. */
function qnameWithDeclaration(q: QName, fallback: string): { qname: string; xmlns: string } {
  const prefix = NCNAME.test(q.prefix) && !RESERVED_PREFIXES.has(q.prefix.toLowerCase()) ? q.prefix : fallback;
  if (q.ns === NS.wsa) return { qname: `wsa:${q.local}`, xmlns: '' };
  return { qname: `${prefix}:${q.local}`, xmlns: ` xmlns:${prefix}="${escapeXml(q.ns)}"` };
}

/** Escaped text with the characters XML 1.0 cannot carry replaced, since reasons may quote client bytes. */
function xmlText(s: string): string {
  return escapeXml(s.replace(/[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '\uFFFD'));
}

export interface FaultEnvelopeOptions {
  /** MessageID of the request; defaults to the one recorded on the fault. */
  relatesTo?: string;
  /** Overrides the header blocks reported as not understood. */
  notUnderstood?: QName[];
}

/** The SOAP 1.2 fault message (Part 1 §5.4) with its WS-Addressing headers. */
export function faultEnvelope(fault: SoapFault, opts: FaultEnvelopeOptions = {}): string {
  const relatesTo = opts.relatesTo ?? fault.relatesTo;
  const notUnderstood = opts.notUnderstood ?? fault.notUnderstood ?? [];
  const headers: string[] = [];
  if (fault.code === 'VersionMismatch') {
    headers.push(`<env:Upgrade><env:SupportedEnvelope qname="env:Envelope"/></env:Upgrade>`);
  }
  for (const q of notUnderstood) {
    const { qname, xmlns } = qnameWithDeclaration(q, 'nu');
    headers.push(`<env:NotUnderstood qname="${escapeXml(qname)}"${xmlns}/>`);
  }
  headers.push(`<wsa:Action>${WSA_FAULT_ACTION}</wsa:Action>`);
  headers.push(`<wsa:MessageID>urn:uuid:${randomUUID()}</wsa:MessageID>`);
  if (relatesTo) headers.push(`<wsa:RelatesTo>${xmlText(relatesTo)}</wsa:RelatesTo>`);

  let code = `<env:Value>env:${fault.code}</env:Value>`;
  if (fault.subcode) {
    const { qname, xmlns } = qnameWithDeclaration(fault.subcode, 'sc');
    code += `<env:Subcode><env:Value${xmlns}>${escapeXml(qname)}</env:Value></env:Subcode>`;
  }
  const detail = detailXml(fault);
  return (
    `<?xml version="1.0" encoding="UTF-8"?>` +
    `<env:Envelope xmlns:env="${NS.soap12}" xmlns:wsa="${NS.wsa}">` +
    `<env:Header>${headers.join('')}</env:Header>` +
    `<env:Body><env:Fault>` +
    `<env:Code>${code}</env:Code>` +
    `<env:Reason><env:Text xml:lang="en">${xmlText(fault.reason)}</env:Text></env:Reason>` +
    (detail ? `<env:Detail>${detail}</env:Detail>` : '') +
    `</env:Fault></env:Body></env:Envelope>`
  );
}

function detailXml(fault: SoapFault): string {
  let xml = '';
  if (fault.problemHeader) xml += `<wsa:ProblemHeaderQName>${xmlText(fault.problemHeader)}</wsa:ProblemHeaderQName>`;
  if (fault.problemAction) xml += `<wsa:ProblemAction><wsa:Action>${xmlText(fault.problemAction)}</wsa:Action></wsa:ProblemAction>`;
  if (fault.detail) xml += `<gw:Message xmlns:gw="${GATEWAY_FAULT_NS}">${xmlText(fault.detail)}</gw:Message>`;
  return xml;
}
