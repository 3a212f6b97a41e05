import { Agent, request } from 'undici';
import { buildMtomResponse, readSoapMessage, type OutgoingAttachment } from '../soap/mtom.js';
import { NS } from '../ebrim/uuids.js';
import { child, parseXml, type XmlElement } from '../xml/tree.js';
import { CliError, EXIT } from './exit.js';
import { requestEnvelope } from './soap-request.js';

export interface ClientOptions {
  /** Base URL of the gateway, e.g. http://localhost:8080. */
  url: string;
  /** wsse:Security header block sent with every SOAP request (AUTHENTICATION=required). */
  securityXml?: string;
  /** Longest wait for an answer. */
  timeoutMs: number;
  /** Connections kept open to the gateway (the submit concurrency). */
  connections?: number;
  /** HTTPS: CA certificates the gateway's certificate must chain to (default: the system's), and the client certificate for mutual TLS. */
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer };
}

/** What a SOAP request came back with: the single child of env:Body and, for MTOM, the parts by Content-ID. */
export interface SoapAnswer {
  body: XmlElement;
  attachments: Map<string, Buffer>;
}

/** A SOAP 1.2 fault answered by the gateway: a refusal of the whole request. */
export class SoapFaultError extends CliError {
  constructor(
    readonly code: string,
    readonly subcode: string | undefined,
    readonly reason: string,
    readonly httpStatus: number,
  ) {
    super(`SOAP fault ${code}${subcode ? ` (${subcode})` : ''}: ${reason}`, EXIT.refused);
    this.name = 'SoapFaultError';
  }
}

/**
 * Error codes of a connection that got no answer: socket errors (ECONNREFUSED, ENOTFOUND …), undici's
 * (timeouts, closed socket), TLS and certificate verification failures (the gateway is not trusted, or
 * refuses our certificate).
 */
const UNREACHABLE = /^(E[A-Z_]+|UND_ERR_[A-Z_]+|ERR_TLS_[A-Z_]+|ERR_SSL_[A-Z0-9_]+|[A-Z_]*CERT[A-Z_]*|UNABLE_TO_[A-Z_]+)$/;

export class GatewayClient {
  private readonly agent: Agent;
  readonly baseUrl: string;

  constructor(private readonly opts: ClientOptions) {
    this.baseUrl = opts.url.replace(/\/+$/, '');
    this.agent = new Agent({
      connections: opts.connections ?? 4,
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
      connect: { timeout: Math.min(opts.timeoutMs, 10_000), ...opts.tls },
    });
  }

  /** Sends one SOAP 1.2 request (MTOM when there are attachments) and returns the body of the answer; a fault throws SoapFaultError. */
  async soap(path: string, action: string, bodyXml: string, opts: { attachments?: OutgoingAttachment[]; signal?: AbortSignal } = {}): Promise<SoapAnswer> {
    const url = this.baseUrl + path;
    const { xml } = requestEnvelope({ action, to: url, bodyXml, securityXml: this.opts.securityXml });
    // An XOP package has the same form both ways: the gateway's own builder serves for requests too.
    const { contentType, body } = opts.attachments?.length
      ? buildMtomResponse(xml, opts.attachments)
      : { contentType: `application/soap+xml; charset=UTF-8; action="${action}"`, body: Buffer.from(xml, 'utf8') };
    const reply = await this.send(url, { method: 'POST', headers: { 'content-type': contentType }, body, signal: opts.signal });
    return readAnswer(url, reply);
  }

  /** A JSON API call; the status is returned as is for the caller to interpret. */
  async json(method: 'GET' | 'POST', path: string, payload?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
    const url = this.baseUrl + path;
    const reply = await this.send(url, {
      method,
      headers: payload === undefined ? {} : { 'content-type': 'application/json' },
      body: payload === undefined ? undefined : JSON.stringify(payload),
    });
    if (!reply.contentType.startsWith('application/json')) throw unexpected(url, reply);
    try {
      return { status: reply.status, body: JSON.parse(reply.body.toString('utf8')) as Record<string, unknown> };
    } catch {
      throw unexpected(url, reply);
    }
  }

  /** What the gateway says about itself (GET /api/info): its repositoryUniqueId and patient authority. */
  async info(): Promise<GatewayInfo> {
    const { status, body } = await this.json('GET', '/api/info');
    if (status !== 200 || typeof body.repositoryUniqueId !== 'string' || typeof body.patientAuthority !== 'string') {
      throw new CliError(`GET ${this.baseUrl}/api/info answered ${status} without the gateway facts; is ${this.baseUrl} an XDS gateway?`, EXIT.unexpectedAnswer);
    }
    return { repositoryUniqueId: body.repositoryUniqueId, patientAuthority: body.patientAuthority, version: String(body.version ?? '') };
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  private async send(url: string, init: { method: 'GET' | 'POST'; headers: Record<string, string>; body?: Buffer | string; signal?: AbortSignal }): Promise<HttpReply> {
    try {
      const res = await request(url, { ...init, dispatcher: this.agent });
      const body = Buffer.from(await res.body.arrayBuffer());
      return { status: res.statusCode, contentType: String(res.headers['content-type'] ?? ''), body };
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err;
      const code = (err as { code?: string }).code ?? '';
      if (UNREACHABLE.test(code)) {
        throw new CliError(`cannot reach the gateway at ${this.baseUrl}: ${describeNetworkError(err as Error & { code?: string }, this.opts.timeoutMs)}`, EXIT.unreachable);
      }
      throw err;
    }
  }
}

export interface GatewayInfo {
  repositoryUniqueId: string;
  patientAuthority: string;
  version: string;
}

interface HttpReply {
  status: number;
  contentType: string;
  body: Buffer;
}

function describeNetworkError(err: Error & { code?: string }, timeoutMs: number): string {
  if (err.code === 'UND_ERR_HEADERS_TIMEOUT' || err.code === 'UND_ERR_BODY_TIMEOUT') return `no answer within ${timeoutMs / 1000} s (--timeout)`;
  const cause = (err as { cause?: Error & { code?: string } }).cause;
  const detail = cause?.message ?? err.message;
  return err.code && !detail.includes(err.code) ? `${err.code} ${detail}` : detail;
}

function unexpected(url: string, reply: HttpReply): CliError {
  const text = reply.body.toString('utf8', 0, Math.min(reply.body.length, 300)).replace(/\s+/g, ' ').trim();
  return new CliError(`${url} answered HTTP ${reply.status} (${reply.contentType || 'no Content-Type'}), not the expected message: ${text}`, EXIT.unexpectedAnswer);
}

const SOAP_TYPES = /^(application\/soap\+xml|multipart\/related)\b/i;

function readAnswer(url: string, reply: HttpReply): SoapAnswer {
  if (!SOAP_TYPES.test(reply.contentType)) throw unexpected(url, reply);
  let body: XmlElement | undefined;
  let attachments: Map<string, Buffer>;
  try {
    const message = readSoapMessage(reply.contentType, reply.body);
    attachments = message.attachments;
    body = child(parseXml(message.soapXml), NS.soap12, 'Body')?.children[0];
  } catch {
    throw unexpected(url, reply);
  }
  if (!body) throw unexpected(url, reply);
  if (body.ns === NS.soap12 && body.local === 'Fault') throw faultOf(body, reply.status);
  return { body, attachments };
}

function faultOf(fault: XmlElement, httpStatus: number): SoapFaultError {
  const code = child(fault, NS.soap12, 'Code');
  const value = code && child(code, NS.soap12, 'Value')?.text.trim();
  const sub = code && child(code, NS.soap12, 'Subcode');
  const subValue = sub && child(sub, NS.soap12, 'Value')?.text.trim();
  const reason = child(fault, NS.soap12, 'Reason');
  const text = reason && child(reason, NS.soap12, 'Text')?.text.trim();
  return new SoapFaultError(value ?? 'env:Receiver', subValue, text ?? '(no reason given)', httpStatus);
}
