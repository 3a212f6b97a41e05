import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** An XDS code as the metadata carries it. */
export interface MetadataCode {
  code: string;
  codingScheme: string;
}

export interface SectionRule {
  name: string;
  /** A section conforms when one of its templateId roots is this. */
  templateId: string;
  /** Expected section/code/@code (LOINC unless said otherwise); absent when the code varies (e.g. lab specialties). */
  code?: string;
  required: boolean;
  /** templateIds of which at least one entry (or clinical statement inside it) must be present in each such section. */
  entries?: string[];
}

export interface MediaTypeRule {
  mediaType: string;
  /** Required nonXMLBody/text/@representation, when the type fixes one. */
  representation?: string;
  /** How the content is checked: a real PDF file, or plain text. */
  content: 'pdf' | 'text';
  formatCode: MetadataCode;
}

/** The rules of one CI-SIS document type, as written in cda-templates/<type>.json. */
export interface DocumentType {
  type: string;
  title: string;
  /** A document is of this type when it declares one of these templateIds (level 1 documents are matched by their body instead). */
  match: string[];
  /** templateIds the ClinicalDocument must all declare. */
  templateIds: string[];
  /** Accepted ClinicalDocument/code values; empty means any. */
  code: { code: string; codeSystem: string }[];
  /** Accepted DocumentEntry classCode and formatCode; empty means not constrained by the type. */
  classCode: MetadataCode[];
  formatCode: MetadataCode[];
  /** Header elements that must be present, as paths of element names under ClinicalDocument. */
  header: string[];
  body: 'structured' | 'nonXML';
  sections: SectionRule[];
  mediaTypes?: MediaTypeRule[];
}

const OID = /^[0-2](\.(0|[1-9][0-9]*))+$/;
const NAME_PATH = /^[A-Za-z][A-Za-z0-9]*(\/[A-Za-z][A-Za-z0-9]*)*$/;
const CODE = /^[A-Za-z0-9_.:/-]+$/;

export class DocumentTypeError extends Error {}

/** Reads every `*.json` of the directory and checks its shape, so that a bad rule file stops the gateway at start. */
export function loadDocumentTypes(dir: string): DocumentType[] {
  const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
  const types = files.map((f) => checkType(JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as unknown, f));
  const seen = new Map<string, string>();
  for (const t of types) {
    for (const id of t.match) {
      const other = seen.get(id);
      if (other) throw new DocumentTypeError(`templateId ${id} identifies both ${other} and ${t.type}`);
      seen.set(id, t.type);
    }
  }
  if (types.filter((t) => t.body === 'nonXML').length > 1) throw new DocumentTypeError('only one document type may describe level 1 (nonXMLBody) documents');
  return types;
}

function fail(file: string, what: string): never {
  throw new DocumentTypeError(`${file}: ${what}`);
}

function oids(v: unknown, file: string, what: string): string[] {
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string' && OID.test(x))) fail(file, `${what} must be a list of OIDs`);
  return v as string[];
}

function metadataCodes(v: unknown, file: string, what: string): MetadataCode[] {
  if (!Array.isArray(v)) fail(file, `${what} must be a list`);
  return v.map((c) => metadataCode(c, file, what));
}

function metadataCode(c: unknown, file: string, what: string): MetadataCode {
  const o = c as Partial<MetadataCode> | null;
  if (!o || typeof o.code !== 'string' || typeof o.codingScheme !== 'string' || !OID.test(o.codingScheme)) {
    fail(file, `${what} entries need a code and an OID codingScheme`);
  }
  return { code: o.code, codingScheme: o.codingScheme };
}

function checkType(raw: unknown, file: string): DocumentType {
  const t = raw as Partial<DocumentType> | null;
  if (!t || typeof t.type !== 'string' || !t.type || typeof t.title !== 'string') fail(file, 'type and title are required');
  if (t.body !== 'structured' && t.body !== 'nonXML') fail(file, "body must be 'structured' or 'nonXML'");
  const code = t.code ?? [];
  if (!Array.isArray(code) || !code.every((c) => typeof c?.code === 'string' && CODE.test(c.code) && typeof c.codeSystem === 'string' && OID.test(c.codeSystem))) {
    fail(file, 'code entries need a code and an OID codeSystem');
  }
  const header = t.header ?? [];
  if (!Array.isArray(header) || !header.every((h) => typeof h === 'string' && NAME_PATH.test(h))) fail(file, 'header must list element paths like author/assignedAuthor');
  const sections = (t.sections ?? []).map((s) => {
    if (!s || typeof s.name !== 'string' || typeof s.templateId !== 'string' || !OID.test(s.templateId) || typeof s.required !== 'boolean') {
      fail(file, 'each section needs a name, an OID templateId and required true/false');
    }
    if (s.code !== undefined && (typeof s.code !== 'string' || !CODE.test(s.code))) fail(file, `section ${s.templateId} has a malformed code`);
    return { ...s, entries: s.entries === undefined ? undefined : oids(s.entries, file, `entries of section ${s.templateId}`) };
  });
  const mediaTypes = t.mediaTypes?.map((m) => {
    if (!m || typeof m.mediaType !== 'string' || (m.content !== 'pdf' && m.content !== 'text')) fail(file, "mediaTypes entries need a mediaType and content 'pdf' or 'text'");
    return { ...m, formatCode: metadataCode(m.formatCode, file, 'formatCode of a media type') };
  });
  if (t.body === 'nonXML' && !mediaTypes?.length) fail(file, 'a nonXML document type lists its mediaTypes');
  return {
    type: t.type,
    title: t.title,
    match: oids(t.match ?? [], file, 'match'),
    templateIds: oids(t.templateIds ?? [], file, 'templateIds'),
    code,
    classCode: metadataCodes(t.classCode ?? [], file, 'classCode'),
    formatCode: metadataCodes(t.formatCode ?? [], file, 'formatCode'),
    header,
    body: t.body,
    sections,
    ...(mediaTypes ? { mediaTypes } : {}),
  };
}

/** The type of a document: level 1 documents by their body, structured ones by the templateIds they declare. */
export function detectType(types: DocumentType[], templateIds: string[], bodyKind: 'structured' | 'nonXML' | 'none'): DocumentType | undefined {
  if (bodyKind === 'nonXML') return types.find((t) => t.body === 'nonXML');
  return types.find((t) => t.body === 'structured' && t.match.some((id) => templateIds.includes(id)));
}
