import { NS } from '../../src/ebrim/uuids.js';
import { readSoapMessage, resolveXop } from '../../src/soap/mtom.js';
import { child, parseXml, type XmlElement } from '../../src/xml/tree.js';
import type { HttpReply } from './gateway.js';

export interface SoapReply {
  action?: string;
  relatesTo?: string;
  body: XmlElement;
  attachments: Map<string, Buffer>;
}

/** Reads a SOAP 1.2 response (plain or MTOM) the way a client would. */
export function readSoapReply(reply: HttpReply): SoapReply {
  const message = readSoapMessage(reply.contentType, reply.body);
  const envelope = parseXml(message.soapXml);
  const header = child(envelope, NS.soap12, 'Header');
  const body = child(envelope, NS.soap12, 'Body');
  if (!body || !body.children[0]) throw new Error(`no SOAP Body in response: ${message.soapXml.slice(0, 500)}`);
  return {
    action: header && child(header, NS.wsa, 'Action')?.text.trim(),
    relatesTo: header && child(header, NS.wsa, 'RelatesTo')?.text.trim(),
    body: body.children[0],
    attachments: message.attachments,
  };
}

export interface RegistryErrorView {
  code: string;
  context: string;
  location?: string;
  severity: string;
}

export interface RegistryResponseView {
  status: 'Success' | 'Failure' | 'PartialSuccess' | string;
  errors: RegistryErrorView[];
}

export function registryResponseOf(el: XmlElement): RegistryResponseView {
  const rr = el.local === 'RegistryResponse' ? el : child(el, NS.rs, 'RegistryResponse');
  if (!rr) throw new Error(`no rs:RegistryResponse in <${el.local}>`);
  const list = child(rr, NS.rs, 'RegistryErrorList');
  return {
    status: (rr.attrs.status ?? '').split(':').pop()!,
    errors: (list?.children ?? []).map((e) => ({
      code: e.attrs.errorCode ?? '',
      context: e.attrs.codeContext ?? '',
      location: e.attrs.location,
      severity: (e.attrs.severity ?? '').split(':').pop()!,
    })),
  };
}

/** Status and errors of an ITI-41 answer. */
export function submissionResult(reply: HttpReply): RegistryResponseView {
  return registryResponseOf(readSoapReply(reply).body);
}

export interface RetrievedView {
  repositoryUniqueId: string;
  documentUniqueId: string;
  mimeType: string;
  bytes: Buffer;
}

/** Status, errors and documents of an ITI-43 answer. */
export function retrieveResult(reply: HttpReply): RegistryResponseView & { documents: RetrievedView[] } {
  const soap = readSoapReply(reply);
  const documents = soap.body.children
    .filter((c) => c.ns === NS.xdsb && c.local === 'DocumentResponse')
    .map((d) => ({
      repositoryUniqueId: child(d, NS.xdsb, 'RepositoryUniqueId')!.text,
      documentUniqueId: child(d, NS.xdsb, 'DocumentUniqueId')!.text,
      mimeType: child(d, NS.xdsb, 'mimeType')!.text,
      bytes: resolveXop(child(d, NS.xdsb, 'Document')!, soap.attachments),
    }));
  return { ...registryResponseOf(soap.body), documents };
}

export interface FaultView {
  code: string;
  subcode?: string;
  reason: string;
}

export function faultOf(reply: HttpReply): FaultView {
  const envelope = parseXml(reply.text);
  const body = child(envelope, NS.soap12, 'Body')!;
  const fault = child(body, NS.soap12, 'Fault');
  if (!fault) throw new Error(`not a SOAP fault: ${reply.text.slice(0, 500)}`);
  const code = child(fault, NS.soap12, 'Code')!;
  const sub = child(code, NS.soap12, 'Subcode');
  return {
    code: child(code, NS.soap12, 'Value')!.text.trim().split(':').pop()!,
    subcode: sub ? child(sub, NS.soap12, 'Value')!.text.trim().split(':').pop() : undefined,
    reason: child(child(fault, NS.soap12, 'Reason')!, NS.soap12, 'Text')!.text,
  };
}
