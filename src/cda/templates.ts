import { isUtf8 } from 'node:buffer';
import type { XmlDocument, XmlElement } from 'libxml2-wasm';
import type { DocumentType, MediaTypeRule, SectionRule } from './document-types.js';
import type { CdaBody, CdaHeader } from './header.js';
import { error, warning, type CdaIssue } from './issues.js';
import { checkPdf } from './pdf.js';
import { attrOf, countAt, elementsAt, pathOf } from './xpath.js';

const DOC = '/hl7:ClinicalDocument';
const BODY = `${DOC}/hl7:component/hl7:structuredBody`;
/** Deepest section nesting searched (component/section inside a section). */
const MAX_SECTION_DEPTH = 5;

/**
 * Union of the paths to sections nested 1 to MAX_SECTION_DEPTH levels below `from`: sections only
 * nest through component/section, so the search never walks into entries (most of a large document).
 */
function nestedSections(from: string, predicate: string): string {
  const steps: string[] = [];
  for (let depth = 1, p = from; depth <= MAX_SECTION_DEPTH; depth++) {
    p = `${p}/hl7:component/hl7:section`;
    steps.push(`${p}${predicate}`);
  }
  return steps.join(' | ');
}

const at = (el: XmlElement | undefined) => (el ? { line: el.line, path: pathOf(el) } : {});

/** Applies the rules of a document type to a parsed CDA document whose header was already read. */
export function checkDocumentType(doc: XmlDocument, header: CdaHeader, type: DocumentType): CdaIssue[] {
  const root = elementsAt(doc, DOC)[0];
  const issues: CdaIssue[] = [];
  for (const id of type.templateIds) {
    if (!header.templateIds.includes(id)) issues.push(error('type', `${type.type}: ClinicalDocument/templateId ${id} is required`, at(root)));
  }
  if (type.code.length && !type.code.some((c) => c.code === header.code?.code && c.codeSystem === header.code?.codeSystem)) {
    const found = header.code ? `${header.code.code} (${header.code.codeSystem})` : 'absent';
    const expected = type.code.map((c) => `${c.code} (${c.codeSystem})`).join(' or ');
    issues.push(error('type', `${type.type}: ClinicalDocument/code is ${found}, expected ${expected}`, at(elementsAt(doc, `${DOC}/hl7:code`)[0] ?? root)));
  }
  for (const p of type.header) {
    const expression = `${DOC}/${p.split('/').map((s) => `hl7:${s}`).join('/')}`;
    if (countAt(doc, expression) === 0) issues.push(error('type', `${type.type}: header element ClinicalDocument/${p} is required`, at(root)));
  }
  if (type.body === 'structured') {
    if (header.body.kind !== 'structured') issues.push(error('type', `${type.type}: the document must have a structuredBody (CDA level 3)`, at(root)));
    else for (const rule of type.sections) issues.push(...checkSection(doc, rule, type));
  } else {
    issues.push(...checkNonXmlBody(header.body, type, root));
  }
  return issues;
}

function describe(rule: SectionRule): string {
  return `section "${rule.name}" (templateId ${rule.templateId}${rule.code ? `, code ${rule.code}` : ''})`;
}

function checkSection(doc: XmlDocument, rule: SectionRule, type: DocumentType): CdaIssue[] {
  const sections = elementsAt(doc, nestedSections(BODY, `[hl7:templateId/@root='${rule.templateId}']`));
  if (sections.length === 0) {
    const where = at(elementsAt(doc, BODY)[0]);
    return [rule.required ? error('type', `${type.type}: required ${describe(rule)} is missing`, where) : warning('type', `${type.type}: optional ${describe(rule)} is absent`, where)];
  }
  const issues: CdaIssue[] = [];
  for (const section of sections) {
    const codeEl = elementsAt(section, 'hl7:code')[0];
    const code = codeEl && attrOf(codeEl, 'code');
    if (rule.code && code !== rule.code) {
      issues.push(error('type', `${type.type}: ${describe(rule)} has code ${code ?? '(none)'}, expected ${rule.code}`, at(codeEl ?? section)));
    }
    for (const entry of rule.entries ?? []) {
      const hasEntry = `hl7:entry[hl7:templateId/@root='${entry}' or */hl7:templateId/@root='${entry}']`;
      if (countAt(section, `${hasEntry} | ${nestedSections('.', `/${hasEntry}`)}`) === 0) {
        issues.push(error('type', `${type.type}: ${describe(rule)} has no entry with templateId ${entry}`, at(section)));
      }
    }
  }
  return issues;
}

function checkNonXmlBody(body: CdaBody, type: DocumentType, root: XmlElement | undefined): CdaIssue[] {
  const where = body.line ? { line: body.line, path: '/ClinicalDocument/component/nonXMLBody/text' } : at(root);
  if (body.kind !== 'nonXML') return [error('type', `${type.type}: the document must have a nonXMLBody (CDA level 1)`, where)];
  const rule = type.mediaTypes?.find((m) => m.mediaType === body.mediaType);
  if (!rule) {
    const accepted = (type.mediaTypes ?? []).map((m) => m.mediaType).join(', ');
    return [error('type', `${type.type}: nonXMLBody/text mediaType ${body.mediaType ?? '(none)'} is not accepted (${accepted})`, where)];
  }
  if (rule.representation && body.representation !== rule.representation) {
    return [error('type', `${type.type}: nonXMLBody/text for ${rule.mediaType} must have representation="${rule.representation}", found ${body.representation ?? '(none)'}`, where)];
  }
  if (body.compression) return [error('type', `${type.type}: nonXMLBody/text must not be compressed (compression="${body.compression}")`, where)];
  if (!body.text?.trim()) return [error('type', `${type.type}: nonXMLBody/text carries no content (a reference is not accepted)`, where)];
  return checkContent(body, rule).map((m) => error('type', `${type.type}: ${m}`, where));
}

const BASE64 = /^[A-Za-z0-9+/\s]*={0,2}\s*$/;

function checkContent(body: CdaBody, rule: MediaTypeRule): string[] {
  const b64 = body.representation === 'B64';
  if (b64 && !BASE64.test(body.text!)) return ['nonXMLBody/text is not valid base64'];
  const bytes = b64 ? Buffer.from(body.text!, 'base64') : Buffer.from(body.text!, 'utf8');
  if (rule.content === 'pdf') return checkPdf(bytes);
  return isUtf8(bytes) ? [] : ['nonXMLBody/text is not UTF-8 text'];
}
