import { XMLParser, XMLValidator } from 'fast-xml-parser';

/** A namespace-resolved XML element: what every module reads instead of raw XML text. */
export interface XmlElement {
  ns: string;
  local: string;
  /** Attributes by local name (unprefixed attributes have no namespace in XML; prefixed ones are keyed `{ns}local`). */
  attrs: Record<string, string>;
  children: XmlElement[];
  /** Concatenated character data directly inside this element (entities decoded). */
  text: string;
  line?: number;
}

export class XmlSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'XmlSyntaxError';
  }
}

export interface XmlLimits {
  /** Deepest element nesting accepted. */
  maxDepth: number;
  /** Most elements accepted in one document. */
  maxElements: number;
  /** Most attributes on one element. */
  maxAttributes: number;
  /** Longest attribute value (ids, OIDs, codes are short; document bytes travel as text or parts, never attributes). */
  maxAttributeLength: number;
}

export const DEFAULT_XML_LIMITS: XmlLimits = { maxDepth: 256, maxElements: 2_000_000, maxAttributes: 256, maxAttributeLength: 1024 * 1024 };

const XML_NS = 'http://www.w3.org/XML/1998/namespace';

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  processEntities: false,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  cdataPropName: '#cdata',
  commentPropName: false,
});

type FxpNode = Record<string, unknown> & { ':@'?: Record<string, string> };

const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** Decodes the five predefined entities and character references; any other entity is an error (no DTDs here). */
export function decodeEntities(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&([^;&\s]{0,32});?/g, (match, name: string) => {
    if (!match.endsWith(';')) throw new XmlSyntaxError(`unterminated entity reference '${match}'`);
    if (name.startsWith('#')) {
      const cp = name[1] === 'x' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
      if (!Number.isFinite(cp) || cp < 1 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        throw new XmlSyntaxError(`invalid character reference '${match}'`);
      }
      return String.fromCodePoint(cp);
    }
    const v = PREDEFINED[name];
    if (v === undefined) throw new XmlSyntaxError(`undeclared entity '&${name};' (DTDs and custom entities are not accepted)`);
    return v;
  });
}

export function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => `&${c === '<' ? 'lt' : c === '>' ? 'gt' : c === '&' ? 'amp' : c === '"' ? 'quot' : 'apos'};`);
}

/**
 * Parses XML text into a namespace-resolved tree. Refuses DOCTYPE (no DTD, no entity
 * expansion: XXE and billion laughs cannot happen), malformed XML, and trees past the limits.
 */
export function parseXml(text: string, limits: XmlLimits = DEFAULT_XML_LIMITS): XmlElement {
  if (/<!DOCTYPE/i.test(text)) throw new XmlSyntaxError('DOCTYPE is not allowed');
  checkDepth(text, limits.maxDepth);
  const valid = XMLValidator.validate(text, { allowBooleanAttributes: false });
  if (valid !== true) {
    throw new XmlSyntaxError(`${valid.err.msg} (line ${valid.err.line}, column ${valid.err.col})`);
  }
  const nodes = parseNodes(text);
  const roots = nodes.filter((n) => elementName(n) !== undefined);
  if (roots.length !== 1) throw new XmlSyntaxError(`expected exactly one root element, found ${roots.length}`);
  const counter = { elements: 0 };
  return convert(roots[0]!, new Map([['xml', XML_NS]]), limits, counter);
}

/** The validator lets a few malformed inputs through (an unclosed processing instruction): the parser's own errors are syntax errors too. */
function parseNodes(text: string): FxpNode[] {
  try {
    return parser.parse(text) as FxpNode[];
  } catch (err) {
    throw new XmlSyntaxError(err instanceof Error ? err.message : String(err));
  }
}

/** Cheap pre-scan so that a 10,000-deep document is refused before any recursive walk. */
function checkDepth(text: string, maxDepth: number): void {
  let depth = 0;
  let i = text.indexOf('<');
  while (i !== -1) {
    const next = text.charCodeAt(i + 1);
    if (next === 47 /* / */) depth--;
    else if (next !== 33 /* ! */ && next !== 63 /* ? */) {
      const close = text.indexOf('>', i);
      if (close === -1) break;
      if (text.charCodeAt(close - 1) !== 47) {
        depth++;
        if (depth > maxDepth) throw new XmlSyntaxError(`element nesting deeper than ${maxDepth}`);
      }
      i = text.indexOf('<', close);
      continue;
    }
    i = text.indexOf('<', i + 1);
  }
}

function elementName(n: FxpNode): string | undefined {
  for (const k of Object.keys(n)) if (k !== ':@' && k !== '#text' && k !== '#cdata') return k;
  return undefined;
}

function convert(node: FxpNode, scope: Map<string, string>, limits: XmlLimits, counter: { elements: number }): XmlElement {
  if (++counter.elements > limits.maxElements) throw new XmlSyntaxError(`more than ${limits.maxElements} elements`);
  const qname = elementName(node)!;
  const rawAttrs = node[':@'] ?? {};
  const attrNames = Object.keys(rawAttrs);
  if (attrNames.length > limits.maxAttributes) throw new XmlSyntaxError(`element <${qname}> has more than ${limits.maxAttributes} attributes`);

  let localScope = scope;
  for (const name of attrNames) {
    if (name === 'xmlns' || name.startsWith('xmlns:')) {
      if (localScope === scope) localScope = new Map(scope);
      localScope.set(name === 'xmlns' ? '' : name.slice(6), decodeEntities(rawAttrs[name]!));
    }
  }
  const { ns, local } = resolve(qname, localScope, true);
  const attrs: Record<string, string> = {};
  for (const name of attrNames) {
    if (name === 'xmlns' || name.startsWith('xmlns:')) continue;
    if (rawAttrs[name]!.length > limits.maxAttributeLength) {
      throw new XmlSyntaxError(`attribute ${name} of <${qname}> is longer than ${limits.maxAttributeLength} characters`);
    }
    const value = decodeEntities(rawAttrs[name]!);
    if (name.includes(':')) {
      const a = resolve(name, localScope, false);
      attrs[`{${a.ns}}${a.local}`] = value;
    } else {
      attrs[name] = value;
    }
  }
  const children: XmlElement[] = [];
  const textParts: string[] = [];
  for (const child of node[qname] as FxpNode[]) {
    if ('#text' in child) textParts.push(decodeEntities(String(child['#text'])));
    else if ('#cdata' in child) {
      for (const c of child['#cdata'] as FxpNode[]) textParts.push(String(c['#text'] ?? ''));
    } else if (elementName(child) !== undefined) children.push(convert(child, localScope, limits, counter));
  }
  return { ns, local, attrs, children, text: textParts.length === 1 ? textParts[0]! : textParts.join('') };
}

function resolve(qname: string, scope: Map<string, string>, isElement: boolean): { ns: string; local: string } {
  const colon = qname.indexOf(':');
  if (colon === -1) return { ns: isElement ? (scope.get('') ?? '') : '', local: qname };
  const prefix = qname.slice(0, colon);
  const ns = scope.get(prefix);
  if (ns === undefined) throw new XmlSyntaxError(`undeclared namespace prefix '${prefix}' in <${qname}>`);
  return { ns, local: qname.slice(colon + 1) };
}

/** The first child element with this namespace and local name. */
export function child(el: XmlElement, ns: string, local: string): XmlElement | undefined {
  return el.children.find((c) => c.local === local && c.ns === ns);
}

/** All child elements with this namespace and local name. */
export function childrenOf(el: XmlElement, ns: string, local: string): XmlElement[] {
  return el.children.filter((c) => c.local === local && c.ns === ns);
}
