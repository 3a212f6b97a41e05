import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { createClientAsync } from 'soap';
import { ASSOCIATION_TYPE, CLASSIFICATION_NODE, DOCUMENT_ENTRY_SCHEME, NS, SOAP_ACTION, SUBMISSION_SET_SCHEME } from '../../src/ebrim/uuids.js';
import { child, childrenOf, parseXml, type XmlElement } from '../../src/xml/tree.js';
import {
  buildIti18Request,
  buildIti41Request,
  buildIti42Request,
  buildIti43Request,
  buildSubmitObjectsRequestXml,
  cdaFacts,
  cdaTimeToUtc,
  IHE_SAMPLE_ITI41,
  labResultSample,
  makeLabResult,
  newOid,
  newPatientId,
  queryList,
  queryString,
  replayIheSample,
  sampleCda,
  SAMPLES_CDA_DIR,
  soapEnvelope,
  xdsSampleRequests,
  XDS_SAMPLE,
  type DocSpec,
} from '../support/requests.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const WSDL_DIR = path.join(ROOT, 'schemas/wsdl');
const WSDL_NS = 'http://schemas.xmlsoap.org/wsdl/';
const SOAP12_WSDL_NS = 'http://schemas.xmlsoap.org/wsdl/soap12/';
const WSAM_NS = 'http://www.w3.org/2007/05/addressing/metadata';
const WSAW_NS = 'http://www.w3.org/2006/05/addressing/wsdl';
const XSD_NS = 'http://www.w3.org/2001/XMLSchema';

const all = (el: XmlElement, ns: string, local: string): XmlElement[] => {
  const out: XmlElement[] = [];
  const walk = (e: XmlElement) => {
    if (e.ns === ns && e.local === local) out.push(e);
    e.children.forEach(walk);
  };
  walk(el);
  return out;
};
const cda = (el: XmlElement | undefined, ...p: string[]): XmlElement | undefined => p.reduce<XmlElement | undefined>((e, l) => e && child(e, NS.cda, l), el);
const slotValues = (obj: XmlElement, name: string): string[] | undefined => {
  const slot = childrenOf(obj, NS.rim, 'Slot').find((s) => s.attrs.name === name);
  return slot && all(slot, NS.rim, 'Value').map((v) => v.text);
};
const soapBody = (xml: string): XmlElement => {
  const env = parseXml(xml);
  expect(env.ns).to.equal(NS.soap12);
  return child(env, NS.soap12, 'Body')!.children[0]!;
};
const header = (xml: string, local: string): string | undefined => child(child(parseXml(xml), NS.soap12, 'Header')!, NS.wsa, local)?.text;
const sha1 = (b: Buffer): string => createHash('sha1').update(b).digest('hex');

describe('test support: samples and request builders', () => {
  describe('samples/cda', () => {
    const names = readdirSync(SAMPLES_CDA_DIR).filter((n) => n.endsWith('.xml'));
    const expected: Record<string, { code: string; templateId: string; codeSystem?: string }> = {
      'cr-bio-45k.xml': { code: '11502-2', templateId: '1.2.250.1.213.1.1.1.55' },
      'ldl-ses.xml': { code: '11490-0', templateId: '1.2.250.1.213.1.1.1.29' },
      'dlu.xml': { code: '74207-2', templateId: '1.2.250.1.213.1.1.1.22' },
      'cr-img.xml': { code: '18748-4', templateId: '1.2.250.1.213.1.1.1.45' },
      'unstructured-pdf.xml': { code: '11488-4', templateId: '1.3.6.1.4.1.19376.1.2.20' },
      'vsm.xml': { code: 'SYNTH', templateId: '1.2.250.1.213.1.1.1.13', codeSystem: '1.2.250.1.213.1.1.4.12' },
      'vac.xml': { code: '11369-6', templateId: '1.2.250.1.213.1.1.1.37' },
    };

    it('holds the documents the README lists, and no other', () => {
      expect(names.sort()).to.deep.equal(Object.keys(expected).sort());
      const readme = readFileSync(path.join(SAMPLES_CDA_DIR, 'README.md'), 'utf8');
      for (const n of names) expect(readme).to.include(`\`${n}\``);
    });

    for (const [name, { code, templateId, codeSystem }] of Object.entries(expected)) {
      it(`${name} is a well-formed French CDA R2 header for a fictitious INS-NIR patient`, () => {
        const doc = parseXml(sampleCda(name).toString('utf8'));
        expect([doc.ns, doc.local]).to.deep.equal([NS.cda, 'ClinicalDocument']);
        expect(cda(doc, 'realmCode')!.attrs.code).to.equal('FR');
        expect(cda(doc, 'typeId')!.attrs).to.deep.equal({ root: '2.16.840.1.113883.1.3', extension: 'POCD_HD000040' });
        const templates = childrenOf(doc, NS.cda, 'templateId').map((t) => t.attrs.root);
        expect(templates).to.include.members(['2.16.840.1.113883.2.8.2.1', '1.2.250.1.213.1.1.1.1', templateId]);
        expect(cda(doc, 'id')!.attrs.root).to.match(/^1\.2\.250\.1\.999\.9\.1\.\d+\.1$/);
        expect(cda(doc, 'code')!.attrs).to.include({ code, codeSystem: codeSystem ?? '2.16.840.1.113883.6.1' });
        expect(cda(doc, 'title')!.text).to.not.equal('');
        expect(cda(doc, 'effectiveTime')!.attrs.value).to.match(/^\d{14}[+-]\d{4}$/);
        expect(cda(doc, 'confidentialityCode')!.attrs).to.include({ code: 'N', codeSystem: '2.16.840.1.113883.5.25' });
        expect(cda(doc, 'languageCode')!.attrs.code).to.equal('fr-FR');
        expect(cda(doc, 'setId')!.attrs.root).to.be.a('string');
        expect(cda(doc, 'versionNumber')!.attrs.value).to.equal('1');
        const ins = cda(doc, 'recordTarget', 'patientRole', 'id')!;
        expect(ins.attrs.root).to.equal('1.2.250.1.213.1.4.8');
        expect(ins.attrs.extension).to.match(/^\d{5}99999\d{5}$/);
        const nir = ins.attrs.extension!;
        expect(97 - Number(BigInt(nir.slice(0, 13)) % 97n)).to.equal(Number(nir.slice(13)));
        for (const part of ['author', 'custodian', 'legalAuthenticator', 'documentationOf', 'componentOf', 'component']) {
          expect(cda(doc, part), part).to.not.equal(undefined);
        }
        expect(cda(doc, 'documentationOf', 'serviceEvent', 'effectiveTime', 'low')!.attrs.value).to.match(/^\d{14}[+-]\d{4}$/);
      });
    }

    it('gives every structured document sections with a code and a narrative', () => {
      for (const name of ['cr-bio-45k.xml', 'ldl-ses.xml', 'dlu.xml', 'cr-img.xml']) {
        const sections = all(parseXml(sampleCda(name).toString('utf8')), NS.cda, 'section');
        expect(sections.length, name).to.be.greaterThan(3);
        for (const s of sections) {
          expect(cda(s, 'code')?.attrs.code, name).to.be.a('string');
          expect(cda(s, 'title')?.text, name).to.be.a('string');
        }
        expect(sections.filter((s) => cda(s, 'text')).length, name).to.be.greaterThan(1);
      }
    });

    it('keeps narrative ID attributes unique within each document', () => {
      for (const name of names) {
        const ids: string[] = [];
        const walk = (e: XmlElement) => {
          if (e.attrs.ID) ids.push(e.attrs.ID);
          e.children.forEach(walk);
        };
        walk(parseXml(sampleCda(name).toString('utf8')));
        expect(new Set(ids).size, name).to.equal(ids.length);
      }
    });

    it('cr-bio-45k.xml is about 45 KB with many result entries and is exactly labResultSample()', () => {
      const bytes = sampleCda('cr-bio-45k.xml');
      expect(bytes.length).to.be.within(43 * 1024, 50 * 1024);
      expect(bytes.equals(labResultSample())).to.equal(true);
      const observations = all(parseXml(bytes.toString('utf8')), NS.cda, 'observation');
      expect(observations.length).to.be.at.least(20);
    });

    it('unstructured-pdf.xml carries a complete PDF in its nonXMLBody', () => {
      const doc = parseXml(sampleCda('unstructured-pdf.xml').toString('utf8'));
      const text = cda(doc, 'component', 'nonXMLBody', 'text')!;
      expect(text.attrs).to.include({ mediaType: 'application/pdf', representation: 'B64' });
      const pdf = Buffer.from(text.text, 'base64');
      expect(pdf.subarray(0, 8).toString('latin1')).to.equal('%PDF-1.4');
      expect(pdf.subarray(-6).toString('latin1')).to.equal('%%EOF\n');
      const startxref = Number(/startxref\n(\d+)\n%%EOF\n$/.exec(pdf.toString('latin1'))![1]);
      expect(pdf.subarray(startxref, startxref + 4).toString('latin1')).to.equal('xref');
    });

    it('refuses a sample name that is a path', () => {
      expect(() => sampleCda('../package.json')).to.throw(/not a sample name/);
    });
  });

  describe('makeLabResult', () => {
    it('puts the patient and the uniqueId into the CR-BIO header', () => {
      const patientId = newPatientId();
      const uniqueId = newOid();
      const doc = parseXml(makeLabResult(patientId, { sizeKb: 10, uniqueId }).toString('utf8'));
      expect(cda(doc, 'id')!.attrs.root).to.equal(uniqueId);
      expect(cda(doc, 'code')!.attrs.code).to.equal('11502-2');
      const ins = cda(doc, 'recordTarget', 'patientRole', 'id')!.attrs;
      expect(`${ins.extension}^^^&${ins.root}&ISO`).to.equal(patientId);
    });

    it('reaches about the requested size with unique narrative ids', () => {
      for (const kb of [45, 200, 1024]) {
        const bytes = makeLabResult(newPatientId(), { sizeKb: kb });
        expect(bytes.length, `${kb} KB`).to.be.within(kb * 1024 * 0.95, kb * 1024 * 1.1);
        const text = bytes.toString('utf8');
        const ids = [...text.matchAll(/ ID="([^"]+)"/g)].map((m) => m[1]);
        expect(new Set(ids).size).to.equal(ids.length);
        parseXml(text);
      }
    });

    it('makes a fresh document id on each call', () => {
      const p = newPatientId();
      const id = (b: Buffer) => /<id root="([^"]+)"\/>/.exec(b.toString('utf8'))![1];
      expect(id(makeLabResult(p, { sizeKb: 5 }))).to.not.equal(id(makeLabResult(p, { sizeKb: 5 })));
    });
  });

  describe('ids', () => {
    it('newOid gives distinct OIDs under the test arc', () => {
      const oids = Array.from({ length: 100 }, newOid);
      expect(new Set(oids).size).to.equal(100);
      for (const o of oids) expect(o).to.match(/^1\.2\.250\.1\.999\.9\.[1-9]\d*\.[1-9]\d*$/);
    });

    it('newPatientId gives an INS-NIR shaped CX with a valid key under the requested authority', () => {
      const id = newPatientId();
      const m = /^(\d{15})\^\^\^&1\.2\.250\.1\.213\.1\.4\.8&ISO$/.exec(id);
      expect(m, id).to.not.equal(null);
      const nir = m![1]!;
      expect(97 - Number(BigInt(nir.slice(0, 13)) % 97n)).to.equal(Number(nir.slice(13)));
      expect(newPatientId('1.2.3.4')).to.match(/^\d{15}\^\^\^&1\.2\.3\.4&ISO$/);
    });

    it('cdaFacts reads nothing from bytes that are not a CDA document', () => {
      expect(cdaFacts(Buffer.from('plain text'))).to.equal(undefined);
      expect(cdaFacts(Buffer.from('<ClinicalDocument xmlns="urn:hl7-org:v3"><id'))).to.equal(undefined);
      expect(cdaFacts(Buffer.from('<x:ClinicalDocument xmlns:x="urn:other">urn:hl7-org:v3</x:ClinicalDocument>'))).to.equal(undefined);
      expect(cdaFacts(sampleCda('unstructured-pdf.xml'))?.nonXmlMediaType).to.equal('application/pdf');
      expect(cdaFacts(sampleCda('ldl-ses.xml'))?.nonXmlMediaType).to.equal(undefined);
    });

    it('cdaTimeToUtc converts local times with their offset and keeps the precision', () => {
      expect(cdaTimeToUtc('20240311160000+0100')).to.equal('20240311150000');
      expect(cdaTimeToUtc('202403110015-0230')).to.equal('202403110245');
      expect(cdaTimeToUtc('20240101003000+0200')).to.equal('20231231223000');
      expect(cdaTimeToUtc('20240311')).to.equal('20240311');
      expect(cdaTimeToUtc('20240311160000')).to.equal('20240311160000');
      expect(cdaTimeToUtc('garbage')).to.equal(undefined);
    });
  });

  describe('buildSubmitObjectsRequestXml', () => {
    const patientId = newPatientId();
    const req = parseXml(buildSubmitObjectsRequestXml({ patientId, documents: [{ bytes: makeLabResult(patientId, { sizeKb: 5 }) }, { bytes: Buffer.from('texte brut') }] }));
    const list = child(req, NS.rim, 'RegistryObjectList')!;
    const entries = childrenOf(list, NS.rim, 'ExtrinsicObject');
    const set = child(list, NS.rim, 'RegistryPackage')!;
    const schemes = (o: XmlElement) => childrenOf(o, NS.rim, 'Classification').map((c) => c.attrs.classificationScheme);
    const externalIds = (o: XmlElement) => new Map(childrenOf(o, NS.rim, 'ExternalIdentifier').map((e) => [e.attrs.identificationScheme, e.attrs.value]));

    it('is an lcm:SubmitObjectsRequest with one SubmissionSet and a stable DocumentEntry per document', () => {
      expect([req.ns, req.local]).to.deep.equal([NS.lcm, 'SubmitObjectsRequest']);
      expect(entries).to.have.length(2);
      for (const e of entries) expect(e.attrs.objectType).to.equal('urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1');
      expect(entries.map((e) => e.attrs.mimeType)).to.deep.equal(['text/xml', 'text/plain']);
    });

    it('gives each DocumentEntry every slot, classification and identifier a DMP registry requires', () => {
      for (const e of entries) {
        for (const slot of ['creationTime', 'languageCode', 'legalAuthenticator', 'serviceStartTime', 'serviceStopTime', 'sourcePatientId', 'sourcePatientInfo']) {
          expect(slotValues(e, slot), slot).to.have.length.greaterThan(0);
        }
        expect(slotValues(e, 'hash')).to.equal(undefined);
        const s = DOCUMENT_ENTRY_SCHEME;
        expect(schemes(e)).to.include.members([s.author, s.classCode, s.confidentialityCode, s.formatCode, s.healthcareFacilityTypeCode, s.practiceSettingCode, s.typeCode]);
        const author = childrenOf(e, NS.rim, 'Classification').find((c) => c.attrs.classificationScheme === s.author)!;
        for (const slot of ['authorPerson', 'authorInstitution', 'authorRole', 'authorSpecialty']) expect(slotValues(author, slot), slot).to.have.length(1);
        const ids = externalIds(e);
        expect(ids.get(s.patientId)).to.equal(patientId);
        expect(ids.get(s.uniqueId)).to.match(/^1\.2\.250\.1\.999\.9\./);
        expect(child(e, NS.rim, 'Name')).to.not.equal(undefined);
      }
    });

    it('gives the SubmissionSet its slots, author, contentTypeCode, identifiers and classification node', () => {
      expect(slotValues(set, 'submissionTime')![0]).to.match(/^\d{14}$/);
      const s = SUBMISSION_SET_SCHEME;
      expect(schemes(set)).to.include.members([s.author, s.contentTypeCode]);
      const ids = externalIds(set);
      expect(ids.get(s.patientId)).to.equal(patientId);
      expect(ids.get(s.uniqueId)).to.match(/^1\.2\.250\.1\.999\.9\./);
      expect(ids.get(s.sourceId)).to.match(/^[0-9.]+$/);
      const node = childrenOf(list, NS.rim, 'Classification').find((c) => c.attrs.classificationNode === CLASSIFICATION_NODE.submissionSet);
      expect(node?.attrs.classifiedObject).to.equal(set.attrs.id);
    });

    it('links every DocumentEntry to the SubmissionSet with HasMember, SubmissionSetStatus Original', () => {
      const assocs = childrenOf(list, NS.rim, 'Association');
      expect(assocs.map((a) => [a.attrs.associationType, a.attrs.sourceObject, a.attrs.targetObject])).to.deep.equal(
        entries.map((e) => [ASSOCIATION_TYPE.hasMember, set.attrs.id, e.attrs.id]),
      );
      for (const a of assocs) expect(slotValues(a, 'SubmissionSetStatus')).to.deep.equal(['Original']);
    });

    it('gives every ebRIM object of the request a distinct id', () => {
      const ids: string[] = [];
      const walk = (e: XmlElement) => {
        if (e.ns === NS.rim && e.attrs.id && e.local !== 'AdhocQuery') ids.push(e.attrs.id);
        e.children.forEach(walk);
      };
      walk(req);
      expect(new Set(ids).size).to.equal(ids.length);
    });

    const headerCases: [string, Record<string, string>][] = [
      ['ldl-ses.xml', { type: '11490-0', cls: '10', format: 'urn:asip:ci-sis:ldl-ses:2017', creation: '20240311150000', start: '20240304091500', stop: '20240311133000', facility: 'SA01', setting: 'ETABLISSEMENT', legal: '899700000035^MOREAU-FICTIF^Claire^' }],
      ['dlu.xml', { type: '74207-2', cls: '11', format: 'urn:asip:ci-sis:dlu:2015', creation: '20240502071500', start: '20240502070000', stop: '20240502071500', facility: 'SA17', setting: 'ETABLISSEMENT', legal: '899700000059^RENARD-TEST^Paul^' }],
      ['cr-img.xml', { type: '18748-4', cls: '31', format: 'urn:ihe:rad:CDA:ImagingReportStructuredHeadings:2013', creation: '20240918152000', start: '20240918143000', stop: '20240918144500', facility: 'SA08', setting: 'AMBULATOIRE', legal: '899700000073^SIMON-ESSAI^Nadia^' }],
      ['unstructured-pdf.xml', { type: '11488-4', cls: '10', format: 'urn:ihe:iti:xds-sd:pdf:2008', creation: '20241014093000', start: '20241014084500', stop: '20241014091500', facility: 'SA07', setting: 'AMBULATOIRE', legal: '899700000097^MARTIN-EXEMPLE^Luc^' }],
      ['cr-bio-45k.xml', { type: '11502-2', cls: '10', format: 'urn:ihe:lab:xd-lab:2008', creation: '20240603094500', start: '20240603054500', stop: '20240603094500', facility: 'SA25', setting: 'AMBULATOIRE', legal: '899700000011^VERNIER-ESSAI^Hélène^' }],
    ];
    for (const [name, want] of headerCases) {
      it(`takes the metadata of ${name} from its CDA header, times in UTC`, () => {
        const ins = /<id root="1\.2\.250\.1\.213\.1\.4\.8" extension="(\d+)"\/>/.exec(sampleCda(name).toString('utf8'))![1]!;
        const pid = `${ins}^^^&1.2.250.1.213.1.4.8&ISO`;
        const xml = parseXml(buildSubmitObjectsRequestXml({ patientId: pid, documents: [{ bytes: sampleCda(name) }] }));
        const entry = all(xml, NS.rim, 'ExtrinsicObject')[0]!;
        const coded = (scheme: string) => childrenOf(entry, NS.rim, 'Classification').find((c) => c.attrs.classificationScheme === scheme)!;
        const s = DOCUMENT_ENTRY_SCHEME;
        expect(entry.attrs.mimeType).to.equal('text/xml');
        expect(coded(s.typeCode).attrs.nodeRepresentation).to.equal(want.type);
        expect(slotValues(coded(s.typeCode), 'codingScheme')).to.deep.equal(['2.16.840.1.113883.6.1']);
        expect(coded(s.classCode).attrs.nodeRepresentation).to.equal(want.cls);
        expect(coded(s.formatCode).attrs.nodeRepresentation).to.equal(want.format);
        expect(coded(s.confidentialityCode).attrs.nodeRepresentation).to.equal('N');
        expect(coded(s.healthcareFacilityTypeCode).attrs.nodeRepresentation).to.equal(want.facility);
        expect(coded(s.practiceSettingCode).attrs.nodeRepresentation).to.equal(want.setting);
        expect(slotValues(entry, 'creationTime')).to.deep.equal([want.creation]);
        expect(slotValues(entry, 'serviceStartTime')).to.deep.equal([want.start]);
        expect(slotValues(entry, 'serviceStopTime')).to.deep.equal([want.stop]);
        expect(slotValues(entry, 'languageCode')).to.deep.equal(['fr-FR']);
        expect(slotValues(entry, 'legalAuthenticator')![0]).to.satisfy((v: string) => v.startsWith(want.legal!) && v.endsWith('&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS'));
        const authorPerson = slotValues(coded(s.author), 'authorPerson')![0]!;
        expect(authorPerson.split('^')[0]).to.equal(want.legal!.split('^')[0]);
        expect(slotValues(entry, 'sourcePatientInfo')![0]).to.equal(`PID-3|${pid}`);
      });
    }

    it('lets a DocSpec override codes, leave out named metadata and add escaped slots', () => {
      const doc: DocSpec = {
        bytes: Buffer.from('x'),
        typeCode: { code: '34133-9', scheme: '2.16.840.1.113883.6.1', display: 'Synthèse' },
        confidentiality: [
          { code: 'N', scheme: '2.16.840.1.113883.5.25', display: 'Normal' },
          { code: 'MASQUE_PS', scheme: '1.2.250.1.213.1.1.4.13', display: 'Masqué aux professionnels de santé' },
        ],
        hash: 'AB'.repeat(20),
        size: 1,
        omit: ['creationTime', 'classCode', 'uniqueId'],
        extraSlots: [{ name: 'urn:example:x&y', values: ['<a> & "b"'] }],
      };
      const entry = all(parseXml(buildSubmitObjectsRequestXml({ patientId, documents: [doc] })), NS.rim, 'ExtrinsicObject')[0]!;
      const s = DOCUMENT_ENTRY_SCHEME;
      expect(slotValues(entry, 'creationTime')).to.equal(undefined);
      expect(slotValues(entry, 'hash')).to.deep.equal(['AB'.repeat(20)]);
      expect(slotValues(entry, 'size')).to.deep.equal(['1']);
      expect(slotValues(entry, 'urn:example:x&y')).to.deep.equal(['<a> & "b"']);
      expect(schemes(entry)).to.not.include(s.classCode);
      expect(schemes(entry).filter((x) => x === s.confidentialityCode)).to.have.length(2);
      expect(externalIds(entry).has(s.uniqueId)).to.equal(false);
      const type = childrenOf(entry, NS.rim, 'Classification').find((c) => c.attrs.classificationScheme === s.typeCode)!;
      expect(type.attrs.nodeRepresentation).to.equal('34133-9');
    });

    it('adds the associations a SubmissionSpec asks for', () => {
      const target = `urn:uuid:${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}`;
      const xml = parseXml(
        buildSubmitObjectsRequestXml({
          patientId,
          documents: [{ id: 'New', bytes: Buffer.from('v2') }],
          associations: [{ type: ASSOCIATION_TYPE.replace, source: 'New', target }],
        }),
      );
      const rplc = all(xml, NS.rim, 'Association').find((a) => a.attrs.associationType === ASSOCIATION_TYPE.replace);
      expect(rplc?.attrs).to.include({ sourceObject: 'New', targetObject: target });
    });
  });

  describe('buildIti41Request', () => {
    const patientId = newPatientId();
    const binary = Buffer.concat([Buffer.from([0, 255, 13, 10, 45, 45]), Buffer.from('\r\n--MIMEBoundary_\r\n'), Buffer.from([0x80, 0xfe])]);
    const docs = [{ bytes: makeLabResult(patientId, { sizeKb: 20 }) }, { bytes: binary, mimeType: 'application/octet-stream' }];

    it('inline: a SOAP 1.2 envelope with the IHE action, MessageID, To and base64 documents', () => {
      const req = buildIti41Request({ patientId, documents: docs }, 'inline');
      expect(req.contentType).to.equal('application/soap+xml; charset=UTF-8; action="urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b"');
      const text = req.body.toString('utf8');
      expect(header(text, 'Action')).to.equal(SOAP_ACTION.iti41);
      expect(header(text, 'MessageID')).to.equal(req.messageId);
      expect(req.messageId).to.match(/^urn:uuid:[0-9a-f-]{36}$/);
      expect(header(text, 'To')).to.equal('http://localhost:8080/xds/iti41');
      const body = soapBody(text);
      expect([body.ns, body.local]).to.deep.equal([NS.xdsb, 'ProvideAndRegisterDocumentSetRequest']);
      const documents = childrenOf(body, NS.xdsb, 'Document');
      expect(documents.map((d) => d.attrs.id)).to.deep.equal(['Document01', 'Document02']);
      documents.forEach((d, i) => expect(Buffer.from(d.text, 'base64').equals(docs[i]!.bytes)).to.equal(true));
      const uniqueIds = all(body, NS.rim, 'ExternalIdentifier')
        .filter((e) => e.attrs.identificationScheme === DOCUMENT_ENTRY_SCHEME.uniqueId)
        .map((e) => e.attrs.value);
      expect(uniqueIds).to.deep.equal(req.uniqueIds.documents);
    });

    it('mtom: a multipart/related XOP package whose parts are the exact document bytes', () => {
      const req = buildIti41Request({ patientId, documents: docs, submissionSetUniqueId: '1.2.3.4.5' }, 'mtom');
      const ct = req.contentType;
      expect(ct).to.match(/^multipart\/related;/);
      expect(ct).to.include('type="application/xop+xml"').and.include('start-info="application/soap+xml"');
      const boundary = /boundary="([^"]+)"/.exec(ct)![1]!;
      const start = /start="<([^>]+)>"/.exec(ct)![1]!;
      const parts = splitMultipart(req.body, boundary);
      expect(parts).to.have.length(3);
      expect(parts[0]!.headers['content-id']).to.equal(`<${start}>`);
      expect(parts[0]!.headers['content-type']).to.equal('application/xop+xml; charset=UTF-8; type="application/soap+xml"');
      const body = soapBody(parts[0]!.content.toString('utf8'));
      const includes = childrenOf(body, NS.xdsb, 'Document').map((d) => child(d, NS.xop, 'Include')!.attrs.href!);
      expect(includes).to.have.length(2);
      includes.forEach((href, i) => {
        expect(href).to.match(/^cid:[^<>@:]+%40/);
        const cid = decodeURIComponent(href.slice(4));
        const part = parts.find((p) => p.headers['content-id'] === `<${cid}>`)!;
        expect(part.content.equals(docs[i]!.bytes)).to.equal(true);
        expect(part.headers['content-transfer-encoding']).to.equal('binary');
      });
      expect(parts[2]!.headers['content-type']).to.equal('application/octet-stream');
      expect(req.uniqueIds.submissionSet).to.equal('1.2.3.4.5');
    });

    it('leaves out the documents of omitDocumentBytesFor and adds documents without metadata', () => {
      const req = buildIti41Request(
        {
          patientId,
          documents: [{ id: 'A', bytes: Buffer.from('a') }, { id: 'B', bytes: Buffer.from('b') }],
          omitDocumentBytesFor: ['A'],
          extraDocumentsWithoutMetadata: [{ id: 'Orphan', bytes: Buffer.from('o') }],
        },
        'inline',
      );
      const body = soapBody(req.body.toString('utf8'));
      expect(childrenOf(body, NS.xdsb, 'Document').map((d) => d.attrs.id)).to.deep.equal(['B', 'Orphan']);
      expect(all(body, NS.rim, 'ExtrinsicObject').map((e) => e.attrs.id)).to.deep.equal(['A', 'B']);
    });

    it('passes extra SOAP headers and a chosen MessageID through', () => {
      const req = buildIti41Request({ patientId, documents: [{ bytes: Buffer.from('a') }] }, 'inline', {
        messageId: 'urn:uuid:11111111-2222-4333-8444-555555555555',
        headersXml: `<wsse:Security xmlns:wsse="${NS.wsse}"/>`,
        to: 'https://gw.example/xds/iti41',
      });
      const text = req.body.toString('utf8');
      expect(header(text, 'MessageID')).to.equal('urn:uuid:11111111-2222-4333-8444-555555555555');
      expect(header(text, 'To')).to.equal('https://gw.example/xds/iti41');
      expect(child(child(parseXml(text), NS.soap12, 'Header')!, NS.wsse, 'Security')).to.not.equal(undefined);
    });
  });

  describe('other transactions', () => {
    it('buildIti43Request asks for each document with its repository and optional community', () => {
      const req = buildIti43Request([
        { repositoryUniqueId: '1.2.3', documentUniqueId: '1.2.3.4' },
        { repositoryUniqueId: '1.2.3', documentUniqueId: '1.2.3.5', homeCommunityId: 'urn:oid:1.2.3.9' },
      ]);
      expect(req.contentType).to.equal('application/soap+xml; charset=UTF-8; action="urn:ihe:iti:2007:RetrieveDocumentSet"');
      const text = req.body.toString('utf8');
      expect(header(text, 'Action')).to.equal(SOAP_ACTION.iti43);
      expect(header(text, 'MessageID')).to.equal(req.messageId);
      const body = soapBody(text);
      expect([body.ns, body.local]).to.deep.equal([NS.xdsb, 'RetrieveDocumentSetRequest']);
      const items = childrenOf(body, NS.xdsb, 'DocumentRequest').map((d) => d.children.map((c) => `${c.local}=${c.text}`));
      expect(items).to.deep.equal([
        ['RepositoryUniqueId=1.2.3', 'DocumentUniqueId=1.2.3.4'],
        ['HomeCommunityId=urn:oid:1.2.3.9', 'RepositoryUniqueId=1.2.3', 'DocumentUniqueId=1.2.3.5'],
      ]);
    });

    it('buildIti42Request sends the metadata alone with hash, size and repositoryUniqueId', () => {
      const bytes = Buffer.from('registered elsewhere');
      const req = buildIti42Request({ patientId: newPatientId(), documents: [{ bytes }] }, '1.2.250.1.999.1.1.1');
      const text = req.body.toString('utf8');
      expect(header(text, 'Action')).to.equal(SOAP_ACTION.iti42);
      const body = soapBody(text);
      expect([body.ns, body.local]).to.deep.equal([NS.lcm, 'SubmitObjectsRequest']);
      const entry = all(body, NS.rim, 'ExtrinsicObject')[0]!;
      expect(slotValues(entry, 'hash')).to.deep.equal([sha1(bytes)]);
      expect(slotValues(entry, 'size')).to.deep.equal([String(bytes.length)]);
      expect(slotValues(entry, 'repositoryUniqueId')).to.deep.equal(['1.2.250.1.999.1.1.1']);
    });

    it('buildIti18Request writes a stored query with its parameters quoted as given', () => {
      const pid = newPatientId();
      const req = buildIti18Request({
        queryId: 'urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d',
        params: { $XDSDocumentEntryPatientId: queryString(pid), $XDSDocumentEntryStatus: queryList('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved') },
        returnType: 'ObjectRef',
      });
      const body = soapBody(req.body.toString('utf8'));
      expect(header(req.body.toString('utf8'), 'Action')).to.equal(SOAP_ACTION.iti18);
      expect(child(body, NS.query, 'ResponseOption')!.attrs.returnType).to.equal('ObjectRef');
      const query = child(body, NS.rim, 'AdhocQuery')!;
      expect(query.attrs.id).to.equal('urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d');
      expect(slotValues(query, '$XDSDocumentEntryPatientId')).to.deep.equal([`'${pid}'`]);
      expect(slotValues(query, '$XDSDocumentEntryStatus')).to.deep.equal(["('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')"]);
      expect(queryString("O'Brien")).to.equal("'O''Brien'");
    });

    it('soapEnvelope marks Action and To mustUnderstand and asks for anonymous replies', () => {
      const env = parseXml(soapEnvelope('urn:x', '<x:y xmlns:x="urn:x"/>'));
      const h = child(env, NS.soap12, 'Header')!;
      expect(child(h, NS.wsa, 'Action')!.attrs[`{${NS.soap12}}mustUnderstand`]).to.equal('1');
      expect(child(h, NS.wsa, 'To')!.attrs[`{${NS.soap12}}mustUnderstand`]).to.equal('1');
      expect(child(child(h, NS.wsa, 'ReplyTo')!, NS.wsa, 'Address')!.text).to.equal('http://www.w3.org/2005/08/addressing/anonymous');
      expect(child(env, NS.soap12, 'Body')!.children[0]!.local).to.equal('y');
    });
  });

  describe('replayIheSample', () => {
    const original = readFileSync(IHE_SAMPLE_ITI41, 'utf8');
    const patientId = newPatientId();
    const req = replayIheSample({ patientId });
    const text = req.body.toString('utf8');

    it('changes only the registry patient ids, the uniqueIds and the MessageID', () => {
      const before = original.split('\n');
      const after = text.split('\n');
      expect(after).to.have.length(before.length);
      const changed = after.filter((line, i) => line !== before[i]);
      expect(changed).to.have.length(5);
      expect(changed.filter((l) => l.includes('MessageID>'))).to.have.length(1);
      const schemes = changed.filter((l) => l.includes('ExternalIdentifier')).map((l) => /identificationScheme="([^"]+)"/.exec(l)![1]);
      expect(schemes.sort()).to.deep.equal(
        [DOCUMENT_ENTRY_SCHEME.patientId, DOCUMENT_ENTRY_SCHEME.uniqueId, SUBMISSION_SET_SCHEME.patientId, SUBMISSION_SET_SCHEME.uniqueId].sort(),
      );
    });

    it('puts the new values where the registry reads them, and keeps the source patient id', () => {
      expect(header(text, 'MessageID')).to.equal(req.messageId);
      const body = soapBody(text);
      const ids = new Map(all(body, NS.rim, 'ExternalIdentifier').map((e) => [e.attrs.identificationScheme, e.attrs.value]));
      expect(ids.get(DOCUMENT_ENTRY_SCHEME.patientId)).to.equal(patientId);
      expect(ids.get(SUBMISSION_SET_SCHEME.patientId)).to.equal(patientId);
      expect([ids.get(DOCUMENT_ENTRY_SCHEME.uniqueId)]).to.deep.equal(req.uniqueIds.documents);
      expect(ids.get(SUBMISSION_SET_SCHEME.uniqueId)).to.equal(req.uniqueIds.submissionSet);
      expect(slotValues(all(body, NS.rim, 'ExtrinsicObject')[0]!, 'sourcePatientId')).to.deep.equal(['ST-1000^^^&1.3.6.1.4.1.21367.2003.3.9&ISO']);
      expect(req.contentType).to.include('application/soap+xml');
    });

    it('replaces the non-OID sourceId of the sample only when asked to', () => {
      const sourceIds = (r: { body: Buffer }) =>
        all(soapBody(r.body.toString('utf8')), NS.rim, 'ExternalIdentifier')
          .filter((e) => e.attrs.identificationScheme === SUBMISSION_SET_SCHEME.sourceId)
          .map((e) => e.attrs.value);
      expect(sourceIds(req)).to.deep.equal(['3670984664']);
      expect(sourceIds(replayIheSample({ patientId, sourceId: '1.2.250.1.999.9.0.1' }))).to.deep.equal(['1.2.250.1.999.9.0.1']);
    });

    it('gives each replay fresh ids', () => {
      const again = replayIheSample({ patientId });
      expect(again.messageId).to.not.equal(req.messageId);
      expect(again.uniqueIds.documents[0]).to.not.equal(req.uniqueIds.documents[0]);
      expect(again.uniqueIds.submissionSet).to.not.equal(req.uniqueIds.submissionSet);
    });
  });

  describe('samples/xds', () => {
    it('holds exactly what xdsSampleRequests() builds', () => {
      for (const [name, bytes] of Object.entries(xdsSampleRequests())) {
        expect(readFileSync(path.join(ROOT, 'samples/xds', name)).equals(bytes), name).to.equal(true);
      }
    });

    it('iti41-request.xml carries cr-bio-45k.xml for its patient, and iti43-request.xml asks for it back', () => {
      const pnr = soapBody(readFileSync(path.join(ROOT, 'samples/xds/iti41-request.xml'), 'utf8'));
      expect(Buffer.from(child(pnr, NS.xdsb, 'Document')!.text, 'base64').equals(sampleCda('cr-bio-45k.xml'))).to.equal(true);
      const ids = new Map(all(pnr, NS.rim, 'ExternalIdentifier').map((e) => [e.attrs.identificationScheme, e.attrs.value]));
      expect(ids.get(DOCUMENT_ENTRY_SCHEME.patientId)).to.equal(XDS_SAMPLE.patientId);
      expect(ids.get(DOCUMENT_ENTRY_SCHEME.uniqueId)).to.equal(XDS_SAMPLE.documentUniqueId);
      const rds = soapBody(readFileSync(path.join(ROOT, 'samples/xds/iti43-request.xml'), 'utf8'));
      expect(all(rds, NS.xdsb, 'DocumentUniqueId')[0]!.text).to.equal(XDS_SAMPLE.documentUniqueId);
      const readme = readFileSync(path.join(ROOT, 'samples/xds/README.md'), 'utf8');
      expect(readme).to.include('iti41-request.xml').and.include('iti43-request.xml').and.include('curl');
    });
  });

  describe('schemas/wsdl', () => {
    const cases = {
      'DocumentRepository.wsdl': {
        operations: { 'DocumentRepository_ProvideAndRegisterDocumentSet-b': SOAP_ACTION.iti41, DocumentRepository_RetrieveDocumentSet: SOAP_ACTION.iti43 },
        addresses: ['{{BASE_URL}}/xds', '{{BASE_URL}}/xds/iti41', '{{BASE_URL}}/xds/iti43'],
        mtom: true,
      },
      'DocumentRegistry.wsdl': {
        operations: { 'DocumentRegistry_RegisterDocumentSet-b': SOAP_ACTION.iti42, DocumentRegistry_RegistryStoredQuery: SOAP_ACTION.iti18 },
        addresses: ['{{BASE_URL}}/xds', '{{BASE_URL}}/xds/iti42', '{{BASE_URL}}/xds/iti18'],
        mtom: false,
      },
    };

    for (const [file, want] of Object.entries(cases)) {
      const read = () => parseXml(readFileSync(path.join(WSDL_DIR, file), 'utf8'));
      const byName = (defs: XmlElement, local: string) => new Map(childrenOf(defs, WSDL_NS, local).map((e) => [e.attrs.name!, e]));
      const local = (qname: string) => qname.slice(qname.indexOf(':') + 1);

      it(`${file} is well-formed WSDL 1.1 naming the IHE request and response actions`, () => {
        const defs = read();
        expect([defs.ns, defs.local]).to.deep.equal([WSDL_NS, 'definitions']);
        expect(defs.attrs.targetNamespace).to.equal(NS.xdsb);
        for (const portType of childrenOf(defs, WSDL_NS, 'portType')) {
          for (const op of childrenOf(portType, WSDL_NS, 'operation')) {
            const action = want.operations[op.attrs.name as keyof typeof want.operations] as string;
            expect(action, op.attrs.name).to.be.a('string');
            const input = child(op, WSDL_NS, 'input')!;
            const output = child(op, WSDL_NS, 'output')!;
            expect(input.attrs[`{${WSAM_NS}}Action`]).to.equal(action);
            expect(output.attrs[`{${WSAM_NS}}Action`]).to.equal(`${action}Response`);
            expect(input.attrs[`{${WSAW_NS}}Action`]).to.equal(action);
            expect(output.attrs[`{${WSAW_NS}}Action`]).to.equal(`${action}Response`);
          }
        }
      });

      it(`${file} binds every operation in SOAP 1.2 with addressing required and serves the placeholder addresses`, () => {
        const defs = read();
        const portTypes = byName(defs, 'portType');
        const bindings = byName(defs, 'binding');
        const messages = byName(defs, 'message');
        const declared = new Set(
          all(child(defs, WSDL_NS, 'types')!, XSD_NS, 'schema').flatMap((s) => childrenOf(s, XSD_NS, 'element').map((e) => `${s.attrs.targetNamespace}|${e.attrs.name}`)),
        );
        const policies = new Set(childrenOf(defs, 'http://www.w3.org/ns/ws-policy', 'Policy').map((p) => p.attrs[`{http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd}Id`]));
        for (const message of messages.values()) {
          const element = child(message, WSDL_NS, 'part')!.attrs.element!;
          const prefix = element.slice(0, element.indexOf(':'));
          const ns = /xmlns:(\w+)="([^"]+)"/g;
          const text = readFileSync(path.join(WSDL_DIR, file), 'utf8');
          const map = new Map([...text.matchAll(ns)].map((m) => [m[1], m[2]]));
          expect(declared.has(`${map.get(prefix)}|${local(element)}`), element).to.equal(true);
        }
        for (const binding of bindings.values()) {
          const portType = portTypes.get(local(binding.attrs.type!));
          expect(portType, binding.attrs.type).to.not.equal(undefined);
          expect(child(binding, SOAP12_WSDL_NS, 'binding')!.attrs).to.include({ style: 'document', transport: 'http://schemas.xmlsoap.org/soap/http' });
          expect(child(binding, WSAW_NS, 'UsingAddressing')!.attrs[`{${WSDL_NS}}required`]).to.equal('true');
          const ref = child(binding, 'http://www.w3.org/ns/ws-policy', 'PolicyReference')!.attrs.URI!;
          expect(policies.has(ref.slice(1)), ref).to.equal(true);
          const ops = childrenOf(binding, WSDL_NS, 'operation');
          expect(ops.map((o) => o.attrs.name).sort()).to.deep.equal(childrenOf(portType!, WSDL_NS, 'operation').map((o) => o.attrs.name).sort());
          for (const op of ops) {
            expect(child(op, SOAP12_WSDL_NS, 'operation')!.attrs.soapAction).to.equal(want.operations[op.attrs.name as keyof typeof want.operations]);
            expect(child(child(op, WSDL_NS, 'input')!, SOAP12_WSDL_NS, 'body')!.attrs.use).to.equal('literal');
          }
        }
        const ports = all(child(defs, WSDL_NS, 'service')!, WSDL_NS, 'port');
        for (const port of ports) expect(bindings.has(local(port.attrs.binding!)), port.attrs.binding).to.equal(true);
        expect(ports.map((p) => child(p, SOAP12_WSDL_NS, 'address')!.attrs.location)).to.deep.equal(want.addresses);
        const mtom = all(defs, 'http://schemas.xmlsoap.org/ws/2004/09/policy/optimizedmimeserialization', 'OptimizedMimeSerialization');
        expect(mtom.length > 0).to.equal(want.mtom);
      });

      it(`${file} can be read by an independent SOAP client once the address is filled in`, async () => {
        const dir = mkdtempSync(path.join(os.tmpdir(), 'wsdl-'));
        try {
          const wsdl = path.join(dir, file);
          writeFileSync(wsdl, readFileSync(path.join(WSDL_DIR, file), 'utf8').replaceAll('{{BASE_URL}}', 'http://127.0.0.1:8080'));
          const client = await createClientAsync(wsdl);
          const description = client.describe() as Record<string, Record<string, Record<string, unknown>>>;
          const [service] = Object.values(description);
          const operations = new Set(Object.values(service!).flatMap((port) => Object.keys(port)));
          expect([...operations].sort()).to.deep.equal(Object.keys(want.operations).sort());
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      });
    }
  });
});

interface MimePart {
  headers: Record<string, string>;
  content: Buffer;
}

/** A deliberately plain multipart reader on Buffers, independent of the gateway's own. */
function splitMultipart(body: Buffer, boundary: string): MimePart[] {
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: MimePart[] = [];
  let at = body.indexOf(delimiter);
  while (at !== -1) {
    const after = at + delimiter.length;
    if (body.subarray(after, after + 2).toString('latin1') === '--') break;
    const headersEnd = body.indexOf('\r\n\r\n', after);
    const next = body.indexOf(Buffer.from(`\r\n--${boundary}`), headersEnd);
    const headers: Record<string, string> = {};
    for (const line of body.subarray(after + 2, headersEnd).toString('latin1').split('\r\n')) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    parts.push({ headers, content: body.subarray(headersEnd + 4, next) });
    at = next + 2;
  }
  return parts;
}
