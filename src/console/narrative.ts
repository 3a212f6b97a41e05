import { DOMParser, type Element, type Node } from '@xmldom/xmldom';
import { escapeHtml, SafeHtml } from './html.js';

const HL7 = 'urn:hl7-org:v3';
const ELEMENT_NODE = 1;
const TEXT_NODE = 3;
const CDATA_SECTION_NODE = 4;
/** Deeper markup than this is not rendered (a narrative is a few levels deep; this bounds the recursion). */
const MAX_DEPTH = 48;

/** styleCode values of the CDA narrative block that have a presentation here, by class name. */
const STYLE_CLASSES: Record<string, string> = {
  Bold: 'sc-bold',
  Underline: 'sc-underline',
  Italics: 'sc-italics',
  Emphasis: 'sc-emphasis',
  Lrule: 'sc-lrule',
  Rrule: 'sc-rrule',
  Toprule: 'sc-toprule',
  Botrule: 'sc-botrule',
  Arabic: 'sc-arabic',
  LittleRoman: 'sc-little-roman',
  BigRoman: 'sc-big-roman',
  LittleAlpha: 'sc-little-alpha',
  BigAlpha: 'sc-big-alpha',
  Disc: 'sc-disc',
  Circle: 'sc-circle',
  Square: 'sc-square',
};

/** Table structure elements rendered as the HTML element of the same name. */
const TABLE_PARTS = new Set(['thead', 'tbody', 'tfoot', 'tr']);

export interface RenderedNarrative {
  /** ClinicalDocument/title, as text. */
  title?: string;
  /** The sections of the structured body, rendered; empty for a non-XML body. */
  body: SafeHtml;
  /** The document has a nonXMLBody (PDF, text...): nothing to render here. */
  nonXmlBody: boolean;
}

export class NarrativeError extends Error {}

/**
 * Renders the human-readable part of a CDA R2 document — section titles and the narrative block
 * (section/text) — as HTML built element by element from a fixed mapping. Nothing of the input is copied
 * as markup: text is escaped, attributes are never copied (styleCode becomes a fixed class, colspan/rowspan
 * small integers), links keep only an http(s) href, and every element outside the narrative block
 * vocabulary (script, iframe, img, style, other namespaces...) is dropped with its content.
 */
export function renderCdaNarrative(bytes: Buffer, opts: { headingLevel?: number } = {}): RenderedNarrative {
  const text = bytes.toString('utf8');
  // No DTD: no entity expansion, no external fetch.
  if (/<!DOCTYPE/i.test(text)) throw new NarrativeError('the document has a DOCTYPE declaration, which is not accepted');
  let doc;
  try {
    doc = new DOMParser({
      onError: (level, msg) => {
        if (level !== 'warning') throw new NarrativeError(`the document is not well-formed XML: ${msg}`);
      },
    }).parseFromString(text, 'text/xml');
  } catch (err) {
    if (err instanceof NarrativeError) throw err;
    throw new NarrativeError(`the document is not well-formed XML: ${(err as Error).message}`);
  }
  const root = doc.documentElement;
  if (!root || root.namespaceURI !== HL7 || root.localName !== 'ClinicalDocument') throw new NarrativeError('the document is not a CDA R2 ClinicalDocument');
  const title = hl7Child(root, 'title');
  const component = hl7Child(root, 'component');
  const structured = component ? hl7Child(component, 'structuredBody') : undefined;
  const nonXml = component ? hl7Child(component, 'nonXMLBody') : undefined;
  const sections = structured ? hl7Children(structured, 'component').flatMap((c) => hl7Children(c, 'section')) : [];
  return {
    title: title ? plainText(title) : undefined,
    body: new SafeHtml(sections.map((s) => section(s, opts.headingLevel ?? 2)).join('')),
    nonXmlBody: Boolean(nonXml) && !structured,
  };
}

function section(el: Element, level: number): string {
  const h = Math.min(level, 6);
  const title = hl7Child(el, 'title');
  const text = hl7Child(el, 'text');
  const nested = hl7Children(el, 'component').flatMap((c) => hl7Children(c, 'section'));
  return (
    '<section class="cda-section">' +
    (title ? `<h${h}>${inline(title, 0)}</h${h}>` : '') +
    (text ? `<div class="narrative">${inline(text, 0)}</div>` : '') +
    nested.map((s) => section(s, level + 1)).join('') +
    '</section>'
  );
}

/** The children of a narrative element, rendered. */
function inline(el: Node, depth: number): string {
  if (depth > MAX_DEPTH) return '';
  let out = '';
  for (let n = el.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === TEXT_NODE || n.nodeType === CDATA_SECTION_NODE) out += escapeHtml(n.nodeValue ?? '');
    else if (n.nodeType === ELEMENT_NODE) out += element(n as Element, depth + 1);
  }
  return out;
}

function element(el: Element, depth: number): string {
  if (el.namespaceURI !== HL7) return '';
  const kids = (): string => inline(el, depth);
  const cls = styleClasses(el);
  switch (el.localName) {
    case 'paragraph':
      return `<p${cls}>${kids()}</p>`;
    case 'content': {
      const revised = el.getAttribute('revised');
      const tag = revised === 'delete' ? 'del' : revised === 'insert' ? 'ins' : 'span';
      return `<${tag}${cls}>${kids()}</${tag}>`;
    }
    case 'br':
      return '<br>';
    case 'sub':
    case 'sup':
      return `<${el.localName}>${escapeHtml(el.textContent ?? '')}</${el.localName}>`;
    case 'linkHtml':
      return link(el, kids());
    case 'list': {
      const tag = el.getAttribute('listType') === 'ordered' ? 'ol' : 'ul';
      const caption = hl7Child(el, 'caption');
      const items = hl7Children(el, 'item').map((i) => `<li${styleClasses(i)}>${inline(i, depth)}</li>`);
      return (caption ? `<p class="caption">${inline(caption, depth)}</p>` : '') + `<${tag}${cls}>${items.join('')}</${tag}>`;
    }
    case 'table':
      return `<div class="table-wrap"><table${cls}>${tableParts(el, depth)}</table></div>`;
    case 'caption':
      return `<span class="caption">${kids()}</span>`;
    case 'footnote':
      return `<small class="footnote">${kids()}</small>`;
    case 'footnoteRef':
      return `<sup class="footnote-ref">${escapeHtml(el.getAttribute('IDREF') ?? '')}</sup>`;
    case 'renderMultiMedia': {
      const caption = hl7Child(el, 'caption');
      return `<span class="multimedia">[${caption ? inline(caption, depth) : escapeHtml(el.getAttribute('referencedObject') ?? '')}]</span>`;
    }
    default:
      // Not narrative block markup: dropped with whatever it holds.
      return '';
  }
}

function tableParts(table: Element, depth: number): string {
  let out = '';
  for (let n = table.firstChild; n; n = n.nextSibling) {
    if (n.nodeType !== ELEMENT_NODE) continue;
    const el = n as Element;
    if (el.namespaceURI !== HL7) continue;
    if (el.localName === 'caption') out += `<caption>${inline(el, depth)}</caption>`;
    else if (TABLE_PARTS.has(el.localName ?? '')) out += `<${el.localName}${styleClasses(el)}>${tableParts(el, depth + 1)}</${el.localName}>`;
    else if (el.localName === 'th' || el.localName === 'td') out += `<${el.localName}${span(el, 'colspan')}${span(el, 'rowspan')}${styleClasses(el)}>${inline(el, depth)}</${el.localName}>`;
  }
  return out;
}

/** A link is kept only to an absolute http(s) URL; anything else (javascript:, data:, relative) keeps its text and loses its href. */
function link(el: Element, content: string): string {
  const href = safeHref(el.getAttribute('href'));
  if (!href) return `<span class="link-dropped">${content}</span>`;
  return `<a href="${escapeHtml(href)}" rel="noopener noreferrer nofollow" referrerpolicy="no-referrer">${content}</a>`;
}

export function safeHref(raw: string | null): string | undefined {
  if (!raw) return undefined;
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return undefined;
  }
  return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : undefined;
}

function span(el: Element, name: 'colspan' | 'rowspan'): string {
  const v = el.getAttribute(name);
  return v && /^[1-9]\d{0,2}$/.test(v) ? ` ${name}="${v}"` : '';
}

function styleClasses(el: Element): string {
  const codes = (el.getAttribute('styleCode') ?? '').split(/\s+/).flatMap((c) => (STYLE_CLASSES[c] ? [STYLE_CLASSES[c]] : []));
  return codes.length ? ` class="${codes.join(' ')}"` : '';
}

function hl7Children(el: Element, local: string): Element[] {
  const out: Element[] = [];
  for (let n = el.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === ELEMENT_NODE && (n as Element).namespaceURI === HL7 && (n as Element).localName === local) out.push(n as Element);
  }
  return out;
}

function hl7Child(el: Element, local: string): Element | undefined {
  return hl7Children(el, local)[0];
}

function plainText(el: Element): string {
  return (el.textContent ?? '').replace(/\s+/g, ' ').trim();
}
