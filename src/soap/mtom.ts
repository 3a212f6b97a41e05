import { randomUUID } from 'node:crypto';
import { NS } from '../ebrim/uuids.js';
import { bodyBytes, type XmlPieces } from '../xml/pieces.js';
import type { XmlElement } from '../xml/tree.js';
import { decodeBase64Strict } from './base64.js';
import { SoapFault } from './fault.js';
import { parseMediaType, type MediaType } from './media-type.js';
import { decodeXmlText } from './xml-text.js';

/** A SOAP message as it arrived: the envelope text and, for MTOM, the binary parts by Content-ID (without `<>`). */
export interface IncomingSoapMessage {
  soapXml: string;
  attachments: Map<string, Buffer>;
  mtom: boolean;
}

export interface MultipartLimits {
  /** Most MIME parts accepted, root included. */
  maxParts: number;
  /** Largest header block of one MIME part, in bytes. */
  maxPartHeaderBytes: number;
}

export const DEFAULT_MULTIPART_LIMITS: MultipartLimits = { maxParts: 1000, maxPartHeaderBytes: 16 * 1024 };

/** Media types a root part may have: XOP (MTOM) or a plain SOAP 1.2 envelope. */
const ROOT_TYPES = new Set(['application/xop+xml', 'application/soap+xml']);
const IDENTITY_ENCODINGS = new Set(['binary', '8bit', '7bit']);
const CRLF_CRLF = Buffer.from('\r\n\r\n', 'latin1');
const DASH = 0x2d;
const CR = 0x0d;
const LF = 0x0a;

const sender = (reason: string): SoapFault => new SoapFault('Sender', reason);

/**
 * Reads a request body by its Content-Type: a bare SOAP envelope (application/soap+xml, or text/xml
 * which the envelope check then answers with VersionMismatch) or an MTOM/XOP multipart/related package.
 */
export function readSoapMessage(
  contentType: string | undefined,
  body: Buffer,
  limits: MultipartLimits = DEFAULT_MULTIPART_LIMITS,
): IncomingSoapMessage {
  if (!contentType) throw sender('the request has no Content-Type; expected application/soap+xml or multipart/related (MTOM)');
  const media = parseMediaType(contentType);
  if (media.type === 'application/soap+xml' || media.type === 'text/xml') {
    return { soapXml: decodeXmlText(body, media.params.get('charset'), 'request body'), attachments: new Map(), mtom: false };
  }
  if (media.type === 'multipart/related') return readMultipartRelated(media, body, limits);
  throw sender(`unsupported Content-Type '${media.type}'; expected application/soap+xml or multipart/related (MTOM)`);
}

interface MimePart {
  contentId?: string;
  contentType?: string;
  transferEncoding?: string;
  body: Buffer;
}

function readMultipartRelated(media: MediaType, body: Buffer, limits: MultipartLimits): IncomingSoapMessage {
  const boundary = media.params.get('boundary');
  if (!boundary) throw sender('multipart/related Content-Type has no boundary parameter');
  if (boundary.length > 70) throw sender(`multipart boundary is ${boundary.length} characters long; RFC 2046 allows at most 70`);
  const type = media.params.get('type');
  if (type !== undefined && !ROOT_TYPES.has(type.toLowerCase())) {
    throw sender(`multipart/related type parameter is '${type}'; MTOM requires application/xop+xml`);
  }

  const parts = splitMultipart(body, boundary, limits);
  const start = media.params.get('start');
  const rootId = start === undefined ? undefined : stripAngleBrackets(start);
  const rootIndex = rootId === undefined ? 0 : parts.findIndex((p) => p.contentId === rootId);
  if (rootIndex === -1) throw sender(`the start parameter names <${rootId}> but no MIME part has that Content-ID`);

  const attachments = new Map<string, Buffer>();
  const seen = new Set<string>();
  let soapXml = '';
  parts.forEach((part, i) => {
    if (part.contentId !== undefined) {
      if (seen.has(part.contentId)) throw sender(`two MIME parts have the same Content-ID <${part.contentId}>`);
      seen.add(part.contentId);
    }
    if (i === rootIndex) soapXml = rootXml(part);
    else if (part.contentId !== undefined) attachments.set(part.contentId, partBytes(part));
  });
  return { soapXml, attachments, mtom: true };
}

function rootXml(part: MimePart): string {
  const media = parseMediaType(part.contentType ?? '');
  if (!ROOT_TYPES.has(media.type)) {
    throw sender(`the root MIME part has Content-Type '${part.contentType ?? '(none)'}'; expected application/xop+xml`);
  }
  return decodeXmlText(partBytes(part), media.params.get('charset'), 'root MIME part');
}

function partBytes(part: MimePart): Buffer {
  const encoding = part.transferEncoding?.toLowerCase();
  if (encoding === undefined || IDENTITY_ENCODINGS.has(encoding)) return part.body;
  const name = part.contentId === undefined ? 'a MIME part' : `MIME part <${part.contentId}>`;
  if (encoding === 'base64') {
    const bytes = decodeBase64Strict(part.body.toString('latin1'));
    if (!bytes) throw sender(`${name} is declared base64 but its content is not valid base64`);
    return bytes;
  }
  throw sender(`${name} has Content-Transfer-Encoding '${part.transferEncoding}'; accepted: binary, 8bit, 7bit, base64`);
}

/**
 * Splits a multipart body at its delimiters (RFC 2046 §5.1.1) by searching the bytes: part contents
 * stay views on the request buffer, never copied nor decoded to text.
 */
function splitMultipart(body: Buffer, boundary: string, limits: MultipartLimits): MimePart[] {
  const delimiter = Buffer.from(`\r\n--${boundary}`, 'latin1');
  const truncated = (where: string): SoapFault =>
    sender(`the multipart body is truncated ${where}: no closing delimiter '--${boundary}--'`);

  let pos: number;
  if (body.compare(delimiter, 2, delimiter.length, 0, delimiter.length - 2) === 0) pos = delimiter.length - 2;
  else {
    const first = body.indexOf(delimiter);
    if (first === -1) throw sender(`the multipart body contains no delimiter for boundary '${boundary}' (wrong boundary parameter?)`);
    pos = first + delimiter.length;
  }

  const parts: MimePart[] = [];
  for (;;) {
    if (body[pos] === DASH && body[pos + 1] === DASH) break;
    while (body[pos] === 0x20 || body[pos] === 0x09) pos++;
    if (pos >= body.length) throw truncated(`after MIME part ${parts.length}`);
    if (body[pos] !== CR || body[pos + 1] !== LF) {
      throw sender(`malformed multipart delimiter after MIME part ${parts.length}: boundary '${boundary}' is followed by other characters`);
    }
    if (parts.length === limits.maxParts) throw sender(`the multipart body has more than ${limits.maxParts} MIME parts`);

    // Searching from the delimiter line's own CRLF also finds an empty header block.
    const headerStart = pos + 2;
    const windowEnd = Math.min(body.length, headerStart + limits.maxPartHeaderBytes + 4);
    const blankLine = body.subarray(pos, windowEnd).indexOf(CRLF_CRLF);
    if (blankLine === -1) {
      if (windowEnd === body.length) throw truncated(`inside the headers of MIME part ${parts.length + 1}`);
      throw sender(`the headers of MIME part ${parts.length + 1} exceed ${limits.maxPartHeaderBytes} bytes`);
    }
    const headerEnd = pos + blankLine;
    const part = parsePartHeaders(headerEnd > headerStart ? body.toString('latin1', headerStart, headerEnd) : '', parts.length + 1);
    const contentStart = headerEnd + 4;
    const next = body.indexOf(delimiter, contentStart);
    if (next === -1) throw truncated(`in MIME part ${parts.length + 1}`);
    part.body = body.subarray(contentStart, next);
    parts.push(part);
    pos = next + delimiter.length;
  }
  if (parts.length === 0) throw sender('the multipart body has no MIME part');
  return parts;
}

function parsePartHeaders(block: string, partNumber: number): MimePart {
  const part: MimePart = { body: Buffer.alloc(0) };
  if (!block) return part;
  const lines: string[] = [];
  for (const line of block.split('\r\n')) {
    if ((line.startsWith(' ') || line.startsWith('\t')) && lines.length) lines[lines.length - 1] += ' ' + line.trim();
    else lines.push(line);
  }
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw sender(`malformed header line in MIME part ${partNumber}: '${line.slice(0, 80)}'`);
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'content-id') part.contentId ??= stripAngleBrackets(value);
    else if (name === 'content-type') part.contentType ??= value;
    else if (name === 'content-transfer-encoding') part.transferEncoding ??= value;
  }
  return part;
}

function stripAngleBrackets(id: string): string {
  const t = id.trim();
  return t.startsWith('<') && t.endsWith('>') ? t.slice(1, -1).trim() : t;
}

/** `<Document id="Document01">`: how a fault reason points at the element concerned. */
function describe(el: XmlElement): string {
  return el.attrs.id === undefined ? `<${el.local}>` : `<${el.local} id="${el.attrs.id}">`;
}

/**
 * The bytes of an element carrying binary content (xdsb:Document): an xop:Include of an MTOM part
 * (`cid:` URL, URL-encoded, compared decoded and without `<>`) or inline base64 text.
 */
export function resolveXop(el: XmlElement, attachments: Map<string, Buffer>): Buffer {
  const include = el.children.find((c) => c.ns === NS.xop && c.local === 'Include');
  if (include) {
    if (el.children.length !== 1) throw sender(`${describe(el)} has other elements besides its xop:Include`);
    return includedPart(include, el, attachments);
  }
  const stray = el.children[0];
  if (stray) throw sender(`${describe(el)} contains element <${stray.local}> where base64 content or xop:Include is expected`);
  const bytes = decodeBase64Strict(el.text);
  if (!bytes) throw sender(`${describe(el)} does not contain valid base64 (characters A-Z a-z 0-9 + /, '=' padding, length a multiple of 4)`);
  return bytes;
}

function includedPart(include: XmlElement, el: XmlElement, attachments: Map<string, Buffer>): Buffer {
  const href = include.attrs.href;
  if (!href) throw sender(`the xop:Include in ${describe(el)} has no href`);
  if (!/^cid:/i.test(href)) throw sender(`the xop:Include in ${describe(el)} has href '${href}', which is not a cid: URL`);
  let id: string;
  try {
    id = stripAngleBrackets(decodeURIComponent(href.slice(4)));
  } catch {
    throw sender(`the xop:Include in ${describe(el)} has href '${href}', which is not a valid URL-encoded cid`);
  }
  // Some senders do not URL-encode the cid in the href yet do in the Content-ID, or the reverse.
  const bytes = attachments.get(id) ?? attachments.get(stripAngleBrackets(href.slice(4)));
  if (!bytes) throw sender(`the xop:Include in ${describe(el)} refers to cid:${id} but the message has no MIME part with Content-ID <${id}>`);
  return bytes;
}

export interface OutgoingAttachment {
  contentId: string;
  contentType: string;
  body: Buffer;
}

/** Header values we write into MIME part headers: printable ASCII only, so no header can be injected. */
const HEADER_VALUE = /^[\x21-\x7e][\x20-\x7e]*$/;

/**
 * An MTOM/XOP response (multipart/related, root application/xop+xml) whose parts are the given
 * attachments, referenced from the envelope by `cid:` + their Content-ID. Built in one Buffer.concat.
 */
export function buildMtomResponse(soapXml: string | XmlPieces, attachments: OutgoingAttachment[]): { contentType: string; body: Buffer } {
  const boundary = `MIMEBoundary_urn_uuid_${randomUUID().replaceAll('-', '')}`;
  const rootId = `root.${randomUUID()}@xds-gateway`;
  const pieces: Buffer[] = [
    Buffer.from(
      `--${boundary}\r\nContent-Type: application/xop+xml; charset=UTF-8; type="application/soap+xml"\r\n` +
        `Content-Transfer-Encoding: binary\r\nContent-ID: <${rootId}>\r\n\r\n`,
      'latin1',
    ),
    bodyBytes(soapXml),
  ];
  const ids = new Set<string>([rootId]);
  for (const a of attachments) {
    const id = stripAngleBrackets(a.contentId);
    if (!HEADER_VALUE.test(id) || id.includes('<') || id.includes('>')) throw new SoapFault('Receiver', `attachment Content-ID '${id}' cannot be written in a MIME header`);
    if (!HEADER_VALUE.test(a.contentType)) throw new SoapFault('Receiver', `attachment <${id}> has Content-Type '${a.contentType}', which cannot be written in a MIME header`);
    if (ids.has(id)) throw new SoapFault('Receiver', `two attachments have the same Content-ID <${id}>`);
    ids.add(id);
    pieces.push(
      Buffer.from(`\r\n--${boundary}\r\nContent-Type: ${a.contentType}\r\nContent-Transfer-Encoding: binary\r\nContent-ID: <${id}>\r\n\r\n`, 'latin1'),
      a.body,
    );
  }
  pieces.push(Buffer.from(`\r\n--${boundary}--\r\n`, 'latin1'));
  return {
    contentType: `multipart/related; type="application/xop+xml"; start="<${rootId}>"; start-info="application/soap+xml"; boundary=${boundary}`,
    body: Buffer.concat(pieces),
  };
}
