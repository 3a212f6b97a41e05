import { NS } from '../../src/ebrim/uuids.js';
import { child, childrenOf, parseXml, type XmlElement } from '../../src/xml/tree.js';

/** A coded value as XDS metadata carries it: nodeRepresentation, codingScheme slot, Name. */
export interface CodeSpec {
  code: string;
  scheme: string;
  display: string;
}

/** The XDS author classification's slots. */
export interface AuthorSpec {
  person?: string;
  institutions?: string[];
  roles?: string[];
  specialties?: string[];
  telecommunications?: string[];
}

export interface PatientDemographics {
  family?: string;
  given?: string;
  gender?: string;
  birthTime?: string;
}

/** What a CDA header says that XDS metadata must agree with, already in metadata form. */
export interface CdaFacts {
  /** ClinicalDocument/id as an XDS uniqueId: root, or root^extension. */
  documentId?: string;
  typeCode?: CodeSpec;
  title?: string;
  /** UTC DTM. */
  creationTime?: string;
  confidentiality: CodeSpec[];
  languageCode?: string;
  serviceStartTime?: string;
  serviceStopTime?: string;
  patient: PatientDemographics;
  authors: AuthorSpec[];
  legalAuthenticator?: string;
  healthcareFacilityType?: CodeSpec;
  practiceSetting?: CodeSpec;
  /** mediaType of a level 1 nonXMLBody. */
  nonXmlMediaType?: string;
  templateIds: string[];
}

const RPPS_ROOT = '1.2.250.1.71.4.2.1';
const PROFESSION_SYSTEM = '1.2.250.1.71.1.2.7';
const PROFESSIONS: Record<string, string> = {
  '10': 'Médecin',
  '21': 'Pharmacien',
  '40': 'Chirurgien-dentiste',
  '50': 'Sage-femme',
  '60': 'Infirmier',
};

const el = (parent: XmlElement | undefined, ...path: string[]): XmlElement | undefined => {
  let cur = parent;
  for (const local of path) cur = cur && child(cur, NS.cda, local);
  return cur;
};
const all = (parent: XmlElement | undefined, local: string): XmlElement[] => (parent ? childrenOf(parent, NS.cda, local) : []);
const attr = (e: XmlElement | undefined, name: string): string | undefined => e?.attrs[name] || undefined;
const text = (e: XmlElement | undefined): string | undefined => e?.text.trim() || undefined;

/** Facts from a CDA R2 header, or undefined when the bytes are not a ClinicalDocument. */
export function cdaFacts(bytes: Buffer): CdaFacts | undefined {
  const head = bytes.subarray(0, 16384).toString('latin1');
  if (!head.includes('ClinicalDocument') || !head.includes('urn:hl7-org:v3')) return undefined;
  const source = bytes.toString('utf8');
  const body = /<([\w.-]+:)?(structuredBody|nonXMLBody)\b/.exec(source);
  const doc = parseHeader(source, body) ?? parseOrUndefined(source);
  if (!doc || doc.ns !== NS.cda || doc.local !== 'ClinicalDocument') return undefined;

  const serviceTime = all(doc, 'documentationOf')
    .map((d) => el(d, 'serviceEvent', 'effectiveTime'))
    .find((t) => t !== undefined);
  const person = el(doc, 'recordTarget', 'patientRole', 'patient');
  const name = el(person, 'name');
  const families = all(name, 'family');
  const givens = all(name, 'given');
  const birthName = (list: XmlElement[]) => text(list.find((e) => e.attrs.qualifier === 'BR') ?? list[0]);

  const docRoot = attr(el(doc, 'id'), 'root');
  const docExt = attr(el(doc, 'id'), 'extension');
  return {
    documentId: docRoot && docExt ? `${docRoot}^${docExt}` : docRoot,
    typeCode: code(el(doc, 'code')),
    title: text(el(doc, 'title')),
    creationTime: cdaTimeToUtc(attr(el(doc, 'effectiveTime'), 'value')),
    confidentiality: all(doc, 'confidentialityCode').flatMap((c) => code(c) ?? []),
    languageCode: attr(el(doc, 'languageCode'), 'code'),
    serviceStartTime: cdaTimeToUtc(attr(el(serviceTime, 'low'), 'value')),
    serviceStopTime: cdaTimeToUtc(attr(el(serviceTime, 'high'), 'value')),
    patient: {
      family: birthName(families),
      given: birthName(givens),
      gender: attr(el(person, 'administrativeGenderCode'), 'code'),
      birthTime: attr(el(person, 'birthTime'), 'value'),
    },
    authors: all(doc, 'author').map((a) => authorOf(el(a, 'assignedAuthor'), el(a, 'functionCode'))),
    legalAuthenticator: xcn(el(doc, 'legalAuthenticator', 'assignedEntity')),
    healthcareFacilityType: code(el(doc, 'componentOf', 'encompassingEncounter', 'location', 'healthCareFacility', 'code')),
    practiceSetting: practiceSetting(doc),
    nonXmlMediaType: body?.[2] === 'nonXMLBody' ? /<(?:[\w.-]+:)?text\b[^>]*\smediaType="([^"]+)"/.exec(source.slice(body.index, body.index + 4096))?.[1] : undefined,
    templateIds: all(doc, 'templateId').flatMap((t) => attr(t, 'root') ?? []),
  };
}

/** The header alone (the body cut off), so that a megabyte of results is not parsed for a few header facts. */
function parseHeader(text: string, body: RegExpExecArray | null): XmlElement | undefined {
  if (!body) return undefined;
  const prefix = body[1] ?? '';
  const cut = text.lastIndexOf(`<${prefix}component`, body.index);
  return cut > 0 ? parseOrUndefined(`${text.slice(0, cut)}</${prefix}ClinicalDocument>`) : undefined;
}

function parseOrUndefined(text: string): XmlElement | undefined {
  try {
    return parseXml(text);
  } catch {
    return undefined;
  }
}

function code(e: XmlElement | undefined): CodeSpec | undefined {
  const c = attr(e, 'code');
  const scheme = attr(e, 'codeSystem');
  if (!c || !scheme) return undefined;
  return { code: c, scheme, display: attr(e, 'displayName') ?? c };
}

/** The first standardIndustryClassCode of the performer, author or legal authenticator organisation. */
function practiceSetting(doc: XmlElement): CodeSpec | undefined {
  const orgs = [
    ...all(doc, 'documentationOf').map((d) => el(d, 'serviceEvent', 'performer', 'assignedEntity', 'representedOrganization')),
    ...all(doc, 'author').map((a) => el(a, 'assignedAuthor', 'representedOrganization')),
    el(doc, 'legalAuthenticator', 'assignedEntity', 'representedOrganization'),
  ];
  for (const org of orgs) {
    const c = code(el(org, 'standardIndustryClassCode'));
    if (c) return c;
  }
  return undefined;
}

/** XCN as the DMP writes it: `id^FAMILY^Given^^^^^^&OID&ISO^D^^^IDNPS`. */
function xcn(entity: XmlElement | undefined): string | undefined {
  const id = el(entity, 'id');
  const ext = attr(id, 'extension');
  const root = attr(id, 'root');
  if (!ext || !root) return undefined;
  const name = el(entity, 'assignedPerson', 'name');
  const idType = root === RPPS_ROOT ? 'IDNPS' : 'EI';
  return `${ext}^${text(el(name, 'family')) ?? ''}^${text(el(name, 'given')) ?? ''}^^^^^^&${root}&ISO^D^^^${idType}`;
}

/** XON as the DMP writes it: `Name^^^^^&OID&ISO^IDNST^^^id`. */
function xon(org: XmlElement | undefined): string | undefined {
  const name = text(el(org, 'name'));
  if (!name) return undefined;
  const id = el(org, 'id');
  const ext = attr(id, 'extension');
  const root = attr(id, 'root');
  return ext && root ? `${name}^^^^^&${root}&ISO^IDNST^^^${ext}` : name;
}

function authorOf(assigned: XmlElement | undefined, functionCode: XmlElement | undefined): AuthorSpec {
  const specialty = code(el(assigned, 'code'));
  const fn = code(functionCode);
  const profession = /^G15_(\d+)/.exec(specialty?.code ?? '')?.[1];
  const role = fn
    ? `${fn.code}^${fn.display}^${fn.scheme}`
    : profession && PROFESSIONS[profession]
      ? `${profession}^${PROFESSIONS[profession]}^${PROFESSION_SYSTEM}`
      : undefined;
  const institution = xon(el(assigned, 'representedOrganization'));
  return {
    person: xcn(assigned),
    institutions: institution ? [institution] : [],
    roles: role ? [role] : [],
    specialties: specialty ? [`${specialty.code}^${specialty.display}^${specialty.scheme}`] : [],
    telecommunications: [],
  };
}

/**
 * HL7 TS (`YYYYMMDDhhmm[ss][.f][+hhmm]`) to an XDS DTM in UTC, keeping the precision; a value
 * without a zone is taken as already UTC.
 */
export function cdaTimeToUtc(ts: string | undefined): string | undefined {
  if (!ts) return undefined;
  const m = /^(\d{4,14})(?:\.\d+)?([+-]\d{4})?$/.exec(ts);
  if (!m) return undefined;
  const digits = m[1]!;
  const zone = m[2];
  if (!zone || digits.length < 10) return digits;
  const n = (from: number, len: number) => Number(digits.slice(from, from + len) || '0');
  const sign = zone.startsWith('-') ? -1 : 1;
  const offsetMin = sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(3, 5)));
  const local = Date.UTC(n(0, 4), n(4, 2) - 1, n(6, 2), n(8, 2), n(10, 2), n(12, 2));
  const utc = new Date(local - offsetMin * 60_000).toISOString().replace(/[-:T]/g, '');
  const keep = digits.length === 10 && offsetMin % 60 !== 0 ? 12 : digits.length;
  return utc.slice(0, keep);
}
