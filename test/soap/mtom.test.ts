import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { NS, SOAP_ACTION } from '../../src/ebrim/uuids.js';
import { parseEnvelope } from '../../src/soap/envelope.js';
import { SoapFault } from '../../src/soap/fault.js';
import { buildMtomResponse, readSoapMessage, resolveXop } from '../../src/soap/mtom.js';
import { child, parseXml, type XmlElement } from '../../src/xml/tree.js';

const SAMPLE = path.resolve(process.cwd(), '../shared/samples/xds/ProvideAndRegisterDocumentSet-bRequest_SOAP.xml');
const BOUNDARY = 'MIMEBoundary_urn_uuid_0123456789abcdef';
const MTOM_TYPE = `multipart/related; type="application/xop+xml"; start="<root@x>"; start-info="application/soap+xml"; boundary=${BOUNDARY}`;
const ROOT_HEADERS = ['Content-Type: application/xop+xml; charset=UTF-8; type="application/soap+xml"', 'Content-Transfer-Encoding: binary', 'Content-ID: <root@x>'];
const ENVELOPE = `<env:Envelope xmlns:env="${NS.soap12}"><env:Body><x/></env:Body></env:Envelope>`;

interface RawPart {
  headers: string[];
  body: Buffer | string;
}

/** A multipart body written by hand, so that malformed packages can be built too. */
function multipart(parts: RawPart[], opts: { boundary?: string; close?: boolean; preamble?: string } = {}): Buffer {
  const b = opts.boundary ?? BOUNDARY;
  const pieces: Buffer[] = [Buffer.from(opts.preamble ?? '')];
  parts.forEach((p, i) => {
    pieces.push(Buffer.from(`${i === 0 && !opts.preamble ? '' : '\r\n'}--${b}\r\n${p.headers.map((h) => h + '\r\n').join('')}\r\n`, 'latin1'));
    pieces.push(Buffer.isBuffer(p.body) ? p.body : Buffer.from(p.body, 'utf8'));
  });
  if (opts.close !== false) pieces.push(Buffer.from(`\r\n--${b}--\r\n`, 'latin1'));
  return Buffer.concat(pieces);
}

function faultOf(fn: () => unknown): SoapFault {
  try {
    fn();
  } catch (err) {
    if (err instanceof SoapFault) return err;
    throw err;
  }
  throw new Error('expected a SoapFault');
}

function documentElement(inner: string, id = 'Document01'): XmlElement {
  return parseXml(`<Document xmlns="${NS.xdsb}" xmlns:xop="${NS.xop}" id="${id}">${inner}</Document>`);
}

/** Every byte value, plus the sequences a careless parser trips on: CRLF, a boundary prefix, NULs. */
function awkwardBytes(size: number): Buffer {
  const head = Buffer.concat([
    Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
    Buffer.from('\r\n\r\n--MIMEBoundary_urn_uuid_\r\n--\r\n\0\0\0\r\n--', 'latin1'),
    Buffer.from(`\r\n--${BOUNDARY.slice(0, -1)}`, 'latin1'),
  ]);
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; i += head.length) head.copy(out, i, 0, Math.min(head.length, size - i));
  return out;
}

describe('soap/mtom', () => {
  describe('readSoapMessage with application/soap+xml', () => {
    it('returns the envelope text and no attachments', () => {
      const msg = readSoapMessage('application/soap+xml; charset=UTF-8; action="urn:ihe:iti:2007:RetrieveDocumentSet"', Buffer.from(ENVELOPE));
      expect(msg).to.deep.equal({ soapXml: ENVELOPE, attachments: new Map(), mtom: false });
    });

    it('reads the IHE Provide and Register sample sent inline (base64 Document, no MTOM)', () => {
      const msg = readSoapMessage('application/soap+xml', readFileSync(SAMPLE));
      const req = parseEnvelope(msg.soapXml);
      expect(req.action).to.equal(SOAP_ACTION.iti41);
      const doc = child(req.body, NS.xdsb, 'Document')!;
      expect(resolveXop(doc, msg.attachments).toString('latin1')).to.equal('R0lGODlhcgGSALMAAAQCAEMmCZtuMFQxDS8b');
    });

    it('strips a UTF-8 byte order mark', () => {
      const msg = readSoapMessage('application/soap+xml', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(ENVELOPE)]));
      expect(msg.soapXml).to.equal(ENVELOPE);
    });

    it('accepts us-ascii and a quoted, upper-case utf-8 charset', () => {
      expect(readSoapMessage('application/soap+xml; charset=us-ascii', Buffer.from(ENVELOPE)).soapXml).to.equal(ENVELOPE);
      expect(readSoapMessage('Application/SOAP+XML; Charset="UTF-8"', Buffer.from(ENVELOPE)).soapXml).to.equal(ENVELOPE);
    });

    it('refuses another charset, naming it', () => {
      const f = faultOf(() => readSoapMessage('application/soap+xml; charset=ISO-8859-1', Buffer.from(ENVELOPE)));
      expect(f.code).to.equal('Sender');
      expect(f.httpStatus).to.equal(400);
      expect(f.reason).to.contain("charset 'ISO-8859-1'");
    });

    it('refuses an XML declaration naming another encoding', () => {
      const xml = `<?xml version="1.0" encoding="windows-1252"?>${ENVELOPE}`;
      expect(faultOf(() => readSoapMessage('application/soap+xml', Buffer.from(xml))).reason).to.contain("encoding 'windows-1252'");
      expect(readSoapMessage('application/soap+xml', Buffer.from(`<?xml version="1.0" encoding="utf-8"?>${ENVELOPE}`)).soapXml).to.contain('Envelope');
    });

    it('refuses UTF-16 and invalid UTF-8, saying where', () => {
      const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(ENVELOPE, 'utf16le')]);
      expect(faultOf(() => readSoapMessage('application/soap+xml', utf16)).reason).to.contain('UTF-16');
      const latin1 = Buffer.from(ENVELOPE.replace('<x/>', '<x>é</x>'), 'latin1');
      const f = faultOf(() => readSoapMessage('application/soap+xml', latin1));
      expect(f.code).to.equal('Sender');
      expect(f.reason).to.contain('not valid UTF-8');
      expect(f.reason).to.contain(`byte ${latin1.indexOf(0xe9)}`);
    });

    it('returns a text/xml (SOAP 1.1) body, which the envelope check then answers with VersionMismatch', () => {
      const soap11 = `<s:Envelope xmlns:s="${NS.soap11}"><s:Body><x/></s:Body></s:Envelope>`;
      const msg = readSoapMessage('text/xml; charset=utf-8', Buffer.from(soap11));
      expect(msg.soapXml).to.equal(soap11);
      expect(faultOf(() => parseEnvelope(msg.soapXml)).code).to.equal('VersionMismatch');
    });

    it('refuses other and missing content types', () => {
      expect(faultOf(() => readSoapMessage('application/json', Buffer.from('{}'))).reason).to.contain("unsupported Content-Type 'application/json'");
      expect(faultOf(() => readSoapMessage(undefined, Buffer.from(ENVELOPE))).reason).to.contain('no Content-Type');
    });
  });

  describe('readSoapMessage with multipart/related (MTOM)', () => {
    it('finds the root by start and the attachments by Content-ID without <>', () => {
      const body = multipart([
        { headers: ['Content-Type: application/octet-stream', 'Content-ID: <doc1@x>'], body: 'first' },
        { headers: ROOT_HEADERS, body: ENVELOPE },
        { headers: ['Content-Type: text/plain', 'Content-ID: doc2@x', 'Content-Transfer-Encoding: 8bit'], body: 'second' },
      ]);
      const msg = readSoapMessage(MTOM_TYPE, body);
      expect(msg.mtom).to.equal(true);
      expect(msg.soapXml).to.equal(ENVELOPE);
      expect([...msg.attachments.keys()]).to.deep.equal(['doc1@x', 'doc2@x']);
      expect(msg.attachments.get('doc1@x')!.toString()).to.equal('first');
      expect(msg.attachments.get('doc2@x')!.toString()).to.equal('second');
    });

    it('takes the first part as root when there is no start parameter, and ignores preamble and epilogue', () => {
      const body = Buffer.concat([
        multipart([{ headers: ROOT_HEADERS, body: ENVELOPE }, { headers: ['Content-ID: <a>'], body: 'A' }], { preamble: 'This is a MIME message.' }),
        Buffer.from('epilogue'),
      ]);
      const msg = readSoapMessage(`multipart/related; type="application/xop+xml"; boundary="${BOUNDARY}"`, body);
      expect(msg.soapXml).to.equal(ENVELOPE);
      expect(msg.attachments.get('a')!.toString()).to.equal('A');
    });

    it('accepts transport padding after a delimiter, folded headers and a part with no headers', () => {
      const raw = Buffer.from(
        `--${BOUNDARY}  \r\nContent-Type: application/xop+xml;\r\n charset=UTF-8\r\n\r\n${ENVELOPE}` +
          `\r\n--${BOUNDARY}\r\n\r\nnothing` +
          `\r\n--${BOUNDARY}--`,
      );
      const msg = readSoapMessage(`multipart/related; boundary=${BOUNDARY}`, raw);
      expect(msg.soapXml).to.equal(ENVELOPE);
      expect(msg.attachments.size).to.equal(0);
    });

    it('returns attachments as views on the request buffer, not copies', () => {
      const body = multipart([{ headers: ROOT_HEADERS, body: ENVELOPE }, { headers: ['Content-ID: <bin@x>'], body: Buffer.from([1, 2, 3]) }]);
      const part = readSoapMessage(MTOM_TYPE, body).attachments.get('bin@x')!;
      expect(part.buffer).to.equal(body.buffer);
    });

    it('decodes a base64 part and refuses an unknown transfer encoding', () => {
      const b64 = multipart([{ headers: ROOT_HEADERS, body: ENVELOPE }, { headers: ['Content-ID: <b@x>', 'Content-Transfer-Encoding: base64'], body: 'aGVs\r\nbG8=' }]);
      expect(readSoapMessage(MTOM_TYPE, b64).attachments.get('b@x')!.toString()).to.equal('hello');
      const qp = multipart([{ headers: ROOT_HEADERS, body: ENVELOPE }, { headers: ['Content-ID: <q@x>', 'Content-Transfer-Encoding: quoted-printable'], body: 'a=3D' }]);
      const f = faultOf(() => readSoapMessage(MTOM_TYPE, qp));
      expect(f.reason).to.contain("'quoted-printable'");
      expect(f.reason).to.contain('<q@x>');
      const bad = multipart([{ headers: ROOT_HEADERS, body: ENVELOPE }, { headers: ['Content-ID: <b@x>', 'Content-Transfer-Encoding: base64'], body: 'a$b=' }]);
      expect(faultOf(() => readSoapMessage(MTOM_TYPE, bad)).reason).to.contain('not valid base64');
    });

    it('refuses a missing boundary parameter', () => {
      const f = faultOf(() => readSoapMessage('multipart/related; type="application/xop+xml"', multipart([{ headers: ROOT_HEADERS, body: ENVELOPE }])));
      expect(f.code).to.equal('Sender');
      expect(f.reason).to.contain('no boundary parameter');
    });

    it('refuses a boundary that does not occur in the body', () => {
      const f = faultOf(() => readSoapMessage(MTOM_TYPE.replace(BOUNDARY, 'otherBoundary'), multipart([{ headers: ROOT_HEADERS, body: ENVELOPE }])));
      expect(f.reason).to.contain("no delimiter for boundary 'otherBoundary'");
    });

    it('refuses a body truncated before the closing delimiter', () => {
      const full = multipart([{ headers: ROOT_HEADERS, body: ENVELOPE }, { headers: ['Content-ID: <doc@x>'], body: 'abc' }], { close: false });
      const f = faultOf(() => readSoapMessage(MTOM_TYPE, full));
      expect(f.code).to.equal('Sender');
      expect(f.reason).to.contain('truncated');
      const cut = multipart([{ headers: ROOT_HEADERS, body: ENVELOPE }]).subarray(0, 40);
      expect(faultOf(() => readSoapMessage(MTOM_TYPE, cut)).reason).to.contain('truncated');
      const afterDelimiter = Buffer.concat([multipart([{ headers: ROOT_HEADERS, body: ENVELOPE }], { close: false }), Buffer.from(`\r\n--${BOUNDARY}`)]);
      expect(faultOf(() => readSoapMessage(MTOM_TYPE, afterDelimiter)).reason).to.contain('truncated');
    });

    it('refuses a start parameter that names no part', () => {
      const f = faultOf(() => readSoapMessage(MTOM_TYPE.replace('<root@x>', '<missing@x>'), multipart([{ headers: ROOT_HEADERS, body: ENVELOPE }])));
      expect(f.reason).to.contain('<missing@x>');
    });

    it('refuses two parts with the same Content-ID', () => {
      const body = multipart([
        { headers: ROOT_HEADERS, body: ENVELOPE },
        { headers: ['Content-ID: <d@x>'], body: '1' },
        { headers: ['Content-ID: <d@x>'], body: '2' },
      ]);
      expect(faultOf(() => readSoapMessage(MTOM_TYPE, body)).reason).to.contain('same Content-ID <d@x>');
    });

    it('refuses a root part that is neither application/xop+xml nor application/soap+xml', () => {
      const body = multipart([{ headers: ['Content-Type: text/plain', 'Content-ID: <root@x>'], body: ENVELOPE }]);
      expect(faultOf(() => readSoapMessage(MTOM_TYPE, body)).reason).to.contain("root MIME part has Content-Type 'text/plain'");
      const soap = multipart([{ headers: ['Content-Type: application/soap+xml; charset=utf-8', 'Content-ID: <root@x>'], body: ENVELOPE }]);
      expect(readSoapMessage(MTOM_TYPE, soap).soapXml).to.equal(ENVELOPE);
    });

    it('refuses a root part in another charset', () => {
      const body = multipart([{ headers: ['Content-Type: application/xop+xml; charset=ISO-8859-1; type="application/soap+xml"', 'Content-ID: <root@x>'], body: ENVELOPE }]);
      expect(faultOf(() => readSoapMessage(MTOM_TYPE, body)).reason).to.contain("root MIME part has charset 'ISO-8859-1'");
    });

    it('refuses a package type other than XOP', () => {
      const f = faultOf(() => readSoapMessage(`multipart/related; type="text/html"; boundary=${BOUNDARY}`, multipart([{ headers: ROOT_HEADERS, body: ENVELOPE }])));
      expect(f.reason).to.contain("type parameter is 'text/html'");
    });

    it('refuses more parts than the limit', () => {
      const parts: RawPart[] = [{ headers: ROOT_HEADERS, body: ENVELOPE }];
      for (let i = 0; i < 5; i++) parts.push({ headers: [`Content-ID: <p${i}@x>`], body: 'x' });
      const f = faultOf(() => readSoapMessage(MTOM_TYPE, multipart(parts), { maxParts: 5, maxPartHeaderBytes: 16384 }));
      expect(f.reason).to.contain('more than 5 MIME parts');
      expect(readSoapMessage(MTOM_TYPE, multipart(parts), { maxParts: 6, maxPartHeaderBytes: 16384 }).attachments.size).to.equal(5);
    });

    it('refuses more than 1000 parts by default', () => {
      const parts: RawPart[] = [{ headers: ROOT_HEADERS, body: ENVELOPE }];
      for (let i = 0; i < 1000; i++) parts.push({ headers: [`Content-ID: <p${i}@x>`], body: 'x' });
      expect(faultOf(() => readSoapMessage(MTOM_TYPE, multipart(parts))).reason).to.contain('more than 1000 MIME parts');
    });

    it('refuses a part header block over 16 KiB', () => {
      const body = multipart([{ headers: ROOT_HEADERS, body: ENVELOPE }, { headers: ['Content-ID: <big@x>', `X-Padding: ${'a'.repeat(17 * 1024)}`], body: 'x' }]);
      const f = faultOf(() => readSoapMessage(MTOM_TYPE, body));
      expect(f.reason).to.contain('headers of MIME part 2 exceed 16384 bytes');
    });

    it('refuses a header line without a colon', () => {
      const body = multipart([{ headers: ROOT_HEADERS, body: ENVELOPE }, { headers: ['Content-ID <x>'], body: 'x' }]);
      expect(faultOf(() => readSoapMessage(MTOM_TYPE, body)).reason).to.contain('malformed header line in MIME part 2');
    });

    it('refuses a delimiter followed by other characters', () => {
      const body = Buffer.from(`--${BOUNDARY}\r\n${ROOT_HEADERS.join('\r\n')}\r\n\r\n${ENVELOPE}\r\n--${BOUNDARY}XYZ\r\n\r\n--${BOUNDARY}--`);
      expect(faultOf(() => readSoapMessage(MTOM_TYPE, body)).reason).to.contain('malformed multipart delimiter');
    });

    it('returns a 1 MB binary attachment byte for byte, as a view on the request buffer (no copy)', () => {
      const doc = awkwardBytes(1024 * 1024);
      const body = multipart([{ headers: ROOT_HEADERS, body: ENVELOPE }, { headers: ['Content-ID: <big@x>', 'Content-Type: application/pdf'], body: doc }]);
      const part = readSoapMessage(MTOM_TYPE, body).attachments.get('big@x')!;
      expect(part.equals(doc)).to.equal(true);
      expect(part.buffer).to.equal(body.buffer);
    });
  });

  describe('buildMtomResponse', () => {
    it('writes the MTOM content type: XOP root, start, start-info and a random boundary', () => {
      const a = buildMtomResponse(ENVELOPE, []);
      const b = buildMtomResponse(ENVELOPE, []);
      expect(a.contentType).to.match(/^multipart\/related; type="application\/xop\+xml"; start="<[^>]+>"; start-info="application\/soap\+xml"; boundary=MIMEBoundary_urn_uuid_[0-9a-f]{32}$/);
      expect(a.contentType).to.not.equal(b.contentType);
      const text = a.body.toString('latin1');
      expect(text).to.contain('Content-Type: application/xop+xml; charset=UTF-8; type="application/soap+xml"\r\n');
      expect(text.endsWith('--\r\n')).to.equal(true);
    });

    it('round-trips through readSoapMessage with binary parts byte-identical (CRLF, boundary-like bytes, NULs)', () => {
      const pdf = awkwardBytes(300_000);
      const empty = Buffer.alloc(0);
      const nuls = Buffer.alloc(1000);
      const envelope = `<?xml version="1.0" encoding="UTF-8"?>${ENVELOPE.replace('<x/>', '<x>é ✓</x>')}`;
      const out = buildMtomResponse(envelope, [
        { contentId: 'doc0@xds-gateway', contentType: 'application/pdf', body: pdf },
        { contentId: '<doc1@xds-gateway>', contentType: 'text/plain', body: empty },
        { contentId: 'doc2@xds-gateway', contentType: 'application/octet-stream', body: nuls },
      ]);
      const text = out.body.toString('latin1');
      expect(text).to.contain('Content-Type: application/pdf\r\nContent-Transfer-Encoding: binary\r\nContent-ID: <doc0@xds-gateway>\r\n');
      const msg = readSoapMessage(out.contentType, out.body);
      expect(msg.mtom).to.equal(true);
      expect(msg.soapXml).to.equal(envelope);
      expect(msg.attachments.get('doc0@xds-gateway')!.equals(pdf)).to.equal(true);
      expect(msg.attachments.get('doc1@xds-gateway')!.length).to.equal(0);
      expect(msg.attachments.get('doc2@xds-gateway')!.equals(nuls)).to.equal(true);
    });

    it('refuses a content type or Content-ID that would inject MIME headers', () => {
      const bad = faultOf(() => buildMtomResponse(ENVELOPE, [{ contentId: 'a@x', contentType: 'text/plain\r\nX-Evil: 1', body: Buffer.alloc(1) }]));
      expect(bad.code).to.equal('Receiver');
      expect(faultOf(() => buildMtomResponse(ENVELOPE, [{ contentId: 'a\r\n@x', contentType: 'text/plain', body: Buffer.alloc(1) }])).code).to.equal('Receiver');
    });
  });

  describe('resolveXop', () => {
    const attachments = new Map([
      ['doc1@xds-gateway', Buffer.from('bytes of doc 1')],
      ['1.urn:uuid:5D7FB2A3@apache.org', Buffer.from('axis2 part')],
    ]);

    it('returns the MTOM part an xop:Include points to, comparing the decoded cid', () => {
      expect(resolveXop(documentElement('<xop:Include href="cid:doc1%40xds-gateway"/>'), attachments).toString()).to.equal('bytes of doc 1');
      expect(resolveXop(documentElement('<xop:Include href="cid:doc1@xds-gateway"/>'), attachments).toString()).to.equal('bytes of doc 1');
      expect(resolveXop(documentElement('<xop:Include href="cid:1.urn%3Auuid%3A5D7FB2A3%40apache.org"/>'), attachments).toString()).to.equal('axis2 part');
    });

    it('refuses an xop:Include whose cid names no part, naming the cid', () => {
      const f = faultOf(() => resolveXop(documentElement('<xop:Include href="cid:missing%40x"/>'), attachments));
      expect(f.code).to.equal('Sender');
      expect(f.reason).to.contain('cid:missing@x');
      expect(f.reason).to.contain('<Document id="Document01">');
    });

    it('refuses an xop:Include href that is not a cid: URL or not decodable', () => {
      expect(faultOf(() => resolveXop(documentElement('<xop:Include href="http://x/doc"/>'), attachments)).reason).to.contain('not a cid: URL');
      expect(faultOf(() => resolveXop(documentElement('<xop:Include href="cid:%E0%A4%A"/>'), attachments)).reason).to.contain('not a valid URL-encoded cid');
      expect(faultOf(() => resolveXop(documentElement('<xop:Include/>'), attachments)).reason).to.contain('has no href');
    });

    it('decodes inline base64, whitespace and line breaks allowed', () => {
      expect(resolveXop(documentElement('aGVs\n  bG8g\r\n d29y bGQ='), attachments).toString()).to.equal('hello world');
      expect(resolveXop(documentElement(''), attachments).length).to.equal(0);
    });

    it('refuses inline text that is not strict base64, naming the element', () => {
      for (const text of ['aGVsbG8', 'aGVs*G8=', 'aGVsbG8===', 'aG=sbG8=', 'aGVs-G8_']) {
        const f = faultOf(() => resolveXop(documentElement(text, 'Doc7'), attachments));
        expect(f.code, text).to.equal('Sender');
        expect(f.reason).to.contain('<Document id="Doc7">');
        expect(f.reason).to.contain('base64');
      }
    });

    it('refuses other elements inside the document element', () => {
      expect(faultOf(() => resolveXop(documentElement('<other/>'), attachments)).reason).to.contain('<other>');
      expect(faultOf(() => resolveXop(documentElement('<xop:Include href="cid:doc1@xds-gateway"/><other/>'), attachments)).reason).to.contain(
        'besides its xop:Include',
      );
    });
  });
});
