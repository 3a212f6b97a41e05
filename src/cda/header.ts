import type { XmlDocument, XmlElement } from 'libxml2-wasm';
import { attrOf, elementsAt, stringAt } from './xpath.js';

export interface CdaIi {
  root: string;
  extension?: string;
}

export interface CdaCode {
  code: string;
  codeSystem: string;
  displayName?: string;
}

export interface CdaBody {
  kind: 'structured' | 'nonXML' | 'none';
  /** nonXMLBody/text/@mediaType. */
  mediaType?: string;
  /** nonXMLBody/text/@representation (B64 or TXT). */
  representation?: string;
  compression?: string;
  /** nonXMLBody/text as written (base64 when representation is B64); a reference instead of inline text leaves it empty. */
  text?: string;
  line?: number;
}

/** What the header of a ClinicalDocument says, read once from the parsed document. */
export interface CdaHeader {
  id?: CdaIi;
  templateIds: string[];
  code?: CdaCode;
  title?: string;
  /** HL7 TS as written. */
  effectiveTime?: string;
  confidentialityCodes: CdaCode[];
  languageCode?: string;
  patientIds: CdaIi[];
  authors: CdaIi[];
  legalAuthenticator?: CdaIi;
  /** documentationOf/serviceEvent/effectiveTime low and high of the first serviceEvent that has them (HL7 TS). */
  serviceStartTime?: string;
  serviceStopTime?: string;
  body: CdaBody;
}

const DOC = '/hl7:ClinicalDocument';

function ii(el: XmlElement | undefined): CdaIi | undefined {
  const root = el && attrOf(el, 'root');
  if (!el || !root) return undefined;
  const extension = attrOf(el, 'extension');
  return extension ? { root, extension } : { root };
}

function code(el: XmlElement | undefined): CdaCode | undefined {
  const c = el && attrOf(el, 'code');
  const system = el && attrOf(el, 'codeSystem');
  if (!el || !c || !system) return undefined;
  const displayName = attrOf(el, 'displayName');
  return displayName ? { code: c, codeSystem: system, displayName } : { code: c, codeSystem: system };
}

const optional = (s: string): string | undefined => s || undefined;

/** Reads the header facts of a parsed CDA document (namespace urn:hl7-org:v3). */
export function readHeader(doc: XmlDocument): CdaHeader {
  const serviceTime = elementsAt(doc, `${DOC}/hl7:documentationOf/hl7:serviceEvent/hl7:effectiveTime[hl7:low/@value or hl7:high/@value]`)[0];
  const ids = (expression: string) => elementsAt(doc, expression).flatMap((e) => ii(e) ?? []);
  return {
    id: ii(elementsAt(doc, `${DOC}/hl7:id`)[0]),
    templateIds: elementsAt(doc, `${DOC}/hl7:templateId`).flatMap((e) => attrOf(e, 'root') ?? []),
    code: code(elementsAt(doc, `${DOC}/hl7:code`)[0]),
    title: optional(stringAt(doc, `${DOC}/hl7:title`)),
    effectiveTime: optional(stringAt(doc, `${DOC}/hl7:effectiveTime/@value`)),
    confidentialityCodes: elementsAt(doc, `${DOC}/hl7:confidentialityCode`).flatMap((e) => code(e) ?? []),
    languageCode: optional(stringAt(doc, `${DOC}/hl7:languageCode/@code`)),
    patientIds: ids(`${DOC}/hl7:recordTarget/hl7:patientRole/hl7:id`),
    authors: ids(`${DOC}/hl7:author/hl7:assignedAuthor/hl7:id`),
    legalAuthenticator: ii(elementsAt(doc, `${DOC}/hl7:legalAuthenticator/hl7:assignedEntity/hl7:id`)[0]),
    serviceStartTime: serviceTime ? optional(stringAt(serviceTime, 'hl7:low/@value')) : undefined,
    serviceStopTime: serviceTime ? optional(stringAt(serviceTime, 'hl7:high/@value')) : undefined,
    body: readBody(doc),
  };
}

function readBody(doc: XmlDocument): CdaBody {
  const component = `${DOC}/hl7:component`;
  if (elementsAt(doc, `${component}/hl7:structuredBody`).length) return { kind: 'structured' };
  const text = elementsAt(doc, `${component}/hl7:nonXMLBody/hl7:text`)[0];
  if (!text) return { kind: elementsAt(doc, `${component}/hl7:nonXMLBody`).length ? 'nonXML' : 'none' };
  return {
    kind: 'nonXML',
    mediaType: attrOf(text, 'mediaType'),
    representation: attrOf(text, 'representation'),
    compression: attrOf(text, 'compression'),
    text: text.content,
    line: text.line,
  };
}

/** HL7 II as an XDS uniqueId: `root`, or `root^extension`. */
export function iiToUniqueId(id: CdaIi): string {
  return id.extension ? `${id.root}^${id.extension}` : id.root;
}

/** HL7 II as an XDS patient id (CX): `extension^^^&root&ISO`. */
export function iiToCx(id: CdaIi): string {
  return `${id.extension ?? ''}^^^&${id.root}&ISO`;
}

/**
 * HL7 TS (`YYYYMMDD[hh[mm[ss[.f]]]][+-ZZzz]`) as an XDS DTM in UTC with the same precision; a
 * time without a zone is taken as UTC. Undefined when the value is not a TS.
 */
export function tsToUtcDtm(ts: string): string | undefined {
  const m = /^(\d{4,14})(?:\.\d{1,4})?([+-]\d{4})?$/.exec(ts);
  if (!m) return undefined;
  const digits = m[1]!;
  const zone = m[2];
  if (digits.length % 2 !== 0) return undefined;
  if (!zone || digits.length < 10) return digits;
  const n = (from: number, len: number) => Number(digits.slice(from, from + len) || '0');
  const sign = zone.startsWith('-') ? -1 : 1;
  const offsetMin = sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(3, 5)));
  const local = Date.UTC(n(0, 4), n(4, 2) - 1, n(6, 2), n(8, 2), n(10, 2), n(12, 2));
  const utc = new Date(local - offsetMin * 60_000).toISOString().replace(/[-:T]/g, '');
  // An hour-precision time in a half-hour zone needs its minutes in UTC.
  const keep = digits.length === 10 && offsetMin % 60 !== 0 ? 12 : digits.length;
  return utc.slice(0, keep);
}
