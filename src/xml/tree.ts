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
const XMLNS_NS = 'http://www.w3.org/2000/xmlns/';

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
 * Parses XML text into a namespace-resolved tree, in one pass over the text (after a scan for the characters
 * XML forbids) with an explicit element stack: no recursion, so depth is bounded by the limit alone. Refuses any DOCTYPE (no DTD,
 * no entity expansion: XXE and billion laughs cannot happen), text that is not well-formed XML 1.0
 * with namespaces, and trees past the limits; each refusal is an XmlSyntaxError naming line and column.
 */
export function parseXml(text: string, limits: XmlLimits = DEFAULT_XML_LIMITS): XmlElement {
  // XML 1.0 §2.11: CR LF and lone CR reach the application as LF (line numbers stay the same).
  const normalized = text.includes('\r') ? text.replace(/\r\n?/g, '\n') : text;
  return new XmlParser(normalized, limits).document();
}

/** Where an error is: 1-based line and column (in UTF-16 units) of an offset. */
function position(s: string, offset: number): string {
  let line = 1;
  let lineStart = 0;
  for (let nl = s.indexOf('\n'); nl !== -1 && nl < offset; nl = s.indexOf('\n', nl + 1)) {
    line++;
    lineStart = nl + 1;
  }
  return `line ${line}, column ${offset - lineStart + 1}`;
}

const LT = 0x3c;
const GT = 0x3e;
const AMP = 0x26;
const SLASH = 0x2f;
const BANG = 0x21;
const QUESTION = 0x3f;
const EQUALS = 0x3d;
const COLON = 0x3a;
const HASH = 0x23;
const SEMICOLON = 0x3b;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const DOUBLE_QUOTE = 0x22;
const SINGLE_QUOTE = 0x27;

const isSpace = (c: number): boolean => c === SPACE || c === LF || c === TAB || c === CR;

/** ASCII name characters: 2 may start a name, 1 may only continue one (XML 1.0 §2.3). */
const ASCII_NAME = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  if (/[A-Za-z_:]/.test(ch)) ASCII_NAME[c] = 2;
  else if (/[-.0-9]/.test(ch)) ASCII_NAME[c] = 1;
}

function isNameStartCode(cp: number): boolean {
  if (cp < 0x80) return ASCII_NAME[cp] === 2;
  return (
    (cp >= 0xc0 && cp <= 0xd6) ||
    (cp >= 0xd8 && cp <= 0xf6) ||
    (cp >= 0xf8 && cp <= 0x2ff) ||
    (cp >= 0x370 && cp <= 0x37d) ||
    (cp >= 0x37f && cp <= 0x1fff) ||
    (cp >= 0x200c && cp <= 0x200d) ||
    (cp >= 0x2070 && cp <= 0x218f) ||
    (cp >= 0x2c00 && cp <= 0x2fef) ||
    (cp >= 0x3001 && cp <= 0xd7ff) ||
    (cp >= 0xf900 && cp <= 0xfdcf) ||
    (cp >= 0xfdf0 && cp <= 0xfffd) ||
    (cp >= 0x10000 && cp <= 0xeffff)
  );
}

function isNameCode(cp: number): boolean {
  if (cp < 0x80) return ASCII_NAME[cp] !== 0;
  return isNameStartCode(cp) || cp === 0xb7 || (cp >= 0x300 && cp <= 0x36f) || (cp >= 0x203f && cp <= 0x2040);
}

/** XML 1.0 §2.2 Char: what a character reference may name. */
function isXmlChar(cp: number): boolean {
  return cp >= 0x20 ? cp <= 0xd7ff || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff) : cp === TAB || cp === LF || cp === CR;
}

/** Characters XML 1.0 §2.2 excludes: C0 controls but TAB/LF/CR, U+FFFE/U+FFFF, and surrogates (pairs are then checked one by one). */
// eslint-disable-next-line no-control-regex -- finding the control characters XML forbids is the point
const SUSPECT_CHAR = /[\0-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]/g;

/** XML 1.0 §2.8 XMLDecl, matched where the document starts. */
const XML_DECLARATION =
  /<\?xml[ \t\n]+version[ \t\n]*=[ \t\n]*(?:"1\.[0-9]+"|'1\.[0-9]+')(?:[ \t\n]+encoding[ \t\n]*=[ \t\n]*(?:"[A-Za-z][-A-Za-z0-9._]*"|'[A-Za-z][-A-Za-z0-9._]*'))?(?:[ \t\n]+standalone[ \t\n]*=[ \t\n]*(?:"(?:yes|no)"|'(?:yes|no)'))?[ \t\n]*\?>/y;

/** One parse: the text, the namespace bindings in force, what the last start tag left, and scratch arrays for its attributes. */
class XmlParser {
  private elementCount = 0;
  /** Offset of the first colon of the last name scanned, -1 when it had none. */
  private colon = -1;
  /** Offset just past the last entity or character reference decoded. */
  private refEnd = 0;
  /**
   * Prefix ('' for the default namespace) to namespace, for the element being read. Declarations change it in place
   * and log the value they hide in `undo` (prefix, hidden value) so that closing the element restores it: no copy per element.
   */
  private readonly bindings = new Map<string, string>([['xml', XML_NS]]);
  private readonly undo: (string | undefined)[] = [];
  /** Prefix to the element count of the start tag that last declared it: a second declaration in one tag is a duplicate. */
  private readonly declaredBy = new Map<string, number>();
  /** The last start tag read: its qualified name, the offset past it, and whether it was an empty-element tag. */
  private tagName = '';
  private tagEnd = 0;
  private selfClosing = false;
  /** Next '&' and next ']]>' at or after the current text run: cached so that every search moves forward and the parse stays linear. */
  private nextAmp = -1;
  private nextCdataEnd = -1;
  private readonly attrNames: string[] = [];
  private readonly attrColons: number[] = [];
  private readonly attrValues: string[] = [];
  private readonly attrStarts: number[] = [];

  constructor(
    private readonly s: string,
    private readonly limits: XmlLimits,
  ) {}

  private fail(message: string, offset: number): never {
    throw new XmlSyntaxError(`${message} (${position(this.s, offset)})`);
  }

  document(): XmlElement {
    this.checkCharacters();
    const s = this.s;
    let pos = s.charCodeAt(0) === 0xfeff ? 1 : 0;
    if (s.startsWith('<?xml', pos) && (isSpace(s.charCodeAt(pos + 5)) || s.charCodeAt(pos + 5) === QUESTION)) {
      XML_DECLARATION.lastIndex = pos;
      if (!XML_DECLARATION.test(s)) this.fail('malformed XML declaration', pos);
      pos = XML_DECLARATION.lastIndex;
    }
    pos = this.misc(pos, false);
    if (pos >= s.length) this.fail('no root element', pos);
    const root = this.elementTree(pos);
    pos = this.misc(this.tagEnd, true);
    if (pos < s.length) this.fail('a second root element: a document has exactly one', pos);
    return root;
  }

  /** XML 1.0 §2.2: the first character outside Char, at any place in the document, is an error. */
  private checkCharacters(): void {
    const s = this.s;
    SUSPECT_CHAR.lastIndex = 0;
    for (let m = SUSPECT_CHAR.exec(s); m !== null; m = SUSPECT_CHAR.exec(s)) {
      const i = m.index;
      const c = s.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdbff) {
        const next = s.charCodeAt(i + 1);
        if (next >= 0xdc00 && next <= 0xdfff) {
          SUSPECT_CHAR.lastIndex = i + 2;
          continue;
        }
      }
      this.fail(`character U+${c.toString(16).toUpperCase().padStart(4, '0')} is not allowed in XML`, i);
    }
  }

  /** Whitespace, comments and processing instructions around the root element; returns the offset of an element start or the end. */
  private misc(pos: number, afterRoot: boolean): number {
    const s = this.s;
    for (;;) {
      while (isSpace(s.charCodeAt(pos))) pos++;
      if (pos >= s.length) return pos;
      if (s.charCodeAt(pos) !== LT) this.fail(`text ${afterRoot ? 'after' : 'before'} the root element`, pos);
      const next = s.charCodeAt(pos + 1);
      if (next === QUESTION) pos = this.processingInstruction(pos);
      else if (next === BANG) {
        if (s.startsWith('<!--', pos)) pos = this.comment(pos);
        else if (s.startsWith('<![CDATA[', pos)) this.fail('CDATA section outside the root element', pos);
        else this.badDeclaration(pos);
      } else if (afterRoot && next === SLASH) this.fail('end tag after the root element', pos);
      else return pos;
    }
  }

  /** The root element and everything inside it, with an explicit stack of open elements. */
  private elementTree(start: number): XmlElement {
    const s = this.s;
    const root = this.startTag(start, 1);
    if (this.selfClosing) return root;
    const open: XmlElement[] = [root];
    const names: string[] = [this.tagName];
    const undoMarks: number[] = [0];
    const starts: number[] = [start];
    let current = root;
    let pos = this.tagEnd;
    for (;;) {
      const lt = s.indexOf('<', pos);
      const depth = open.length;
      if (lt === -1) this.fail(`element <${names[depth - 1]}> is not closed`, starts[depth - 1]!);
      if (lt > pos) current.text += this.characterData(pos, lt);
      const next = s.charCodeAt(lt + 1);
      if (next === SLASH) {
        pos = this.endTag(lt, names[depth - 1]!, starts[depth - 1]!);
        open.pop();
        names.pop();
        starts.pop();
        this.unbind(undoMarks.pop()!);
        if (depth === 1) {
          this.tagEnd = pos;
          return root;
        }
        current = open[depth - 2]!;
      } else if (next === BANG) {
        if (s.startsWith('<!--', lt)) pos = this.comment(lt);
        else if (s.startsWith('<![CDATA[', lt)) {
          const end = s.indexOf(']]>', lt + 9);
          if (end === -1) this.fail('unterminated CDATA section', lt);
          current.text += s.slice(lt + 9, end);
          pos = end + 3;
        } else this.badDeclaration(lt);
      } else if (next === QUESTION) pos = this.processingInstruction(lt);
      else {
        const undoMark = this.undo.length;
        const element = this.startTag(lt, depth + 1);
        current.children.push(element);
        pos = this.tagEnd;
        if (this.selfClosing) this.unbind(undoMark);
        else {
          open.push(element);
          names.push(this.tagName);
          undoMarks.push(undoMark);
          starts.push(lt);
          current = element;
        }
      }
    }
  }

  /**
   * Reads the start tag at `lt` into an element, its namespace declarations applied (Namespaces in XML 1.0 §5);
   * leaves its name, end and emptiness in this.tagName, this.tagEnd and this.selfClosing, its declarations in this.bindings.
   */
  private startTag(lt: number, depth: number): XmlElement {
    const { s, limits } = this;
    if (depth > limits.maxDepth) this.fail(`element nesting deeper than ${limits.maxDepth}`, lt);
    if (++this.elementCount > limits.maxElements) this.fail(`more than ${limits.maxElements} elements`, lt);
    const nameEnd = this.scanName(lt + 1);
    if (nameEnd === lt + 1) this.fail(`'<' not followed by an element name`, lt);
    const colon = this.colon;
    const qname = s.slice(lt + 1, nameEnd);
    let count = 0;
    let pos = nameEnd;
    for (;;) {
      const afterName = pos;
      while (isSpace(s.charCodeAt(pos))) pos++;
      const c = s.charCodeAt(pos);
      if (c === GT) {
        this.selfClosing = false;
        pos++;
        break;
      }
      if (c === SLASH && s.charCodeAt(pos + 1) === GT) {
        this.selfClosing = true;
        pos += 2;
        break;
      }
      if (pos >= s.length) this.fail(`unterminated start tag <${qname}>`, lt);
      const attrStart = pos;
      const attrNameEnd = this.scanName(pos);
      if (attrNameEnd === pos) this.fail(`unexpected character '${s[pos]}' in start tag <${qname}>`, pos);
      if (pos === afterName) this.fail(`attributes of <${qname}> must be separated by whitespace`, pos);
      const attrColon = this.colon;
      const name = s.slice(pos, attrNameEnd);
      pos = attrNameEnd;
      while (isSpace(s.charCodeAt(pos))) pos++;
      if (s.charCodeAt(pos) !== EQUALS) this.fail(`attribute ${name} of <${qname}> has no '=' and value`, pos);
      pos++;
      while (isSpace(s.charCodeAt(pos))) pos++;
      const quote = s.charCodeAt(pos);
      if (quote !== DOUBLE_QUOTE && quote !== SINGLE_QUOTE) this.fail(`value of attribute ${name} of <${qname}> is not quoted`, pos);
      const close = s.indexOf(quote === DOUBLE_QUOTE ? '"' : "'", pos + 1);
      if (close === -1) this.fail(`unterminated value of attribute ${name} of <${qname}>`, pos);
      if (close - pos - 1 > limits.maxAttributeLength) {
        this.fail(`attribute ${name} of <${qname}> is longer than ${limits.maxAttributeLength} characters`, attrStart);
      }
      if (++count > limits.maxAttributes) this.fail(`element <${qname}> has more than ${limits.maxAttributes} attributes`, attrStart);
      this.attrNames[count - 1] = name;
      this.attrColons[count - 1] = attrColon === -1 ? -1 : attrColon - attrStart;
      this.attrValues[count - 1] = this.attributeValue(pos + 1, close);
      this.attrStarts[count - 1] = attrStart;
      pos = close + 1;
    }
    this.tagEnd = pos;
    this.tagName = qname;
    if (count !== 0) this.declareNamespaces(count);
    const bindings = this.bindings;
    let ns: string;
    let local: string;
    if (colon === -1) {
      ns = bindings.get('') ?? '';
      local = qname;
    } else {
      const prefix = qname.slice(0, colon - lt - 1);
      if (prefix === 'xmlns') this.fail(`element <${qname}> uses the reserved prefix xmlns`, lt);
      const bound = bindings.get(prefix);
      if (bound === undefined) this.fail(`undeclared namespace prefix '${prefix}' in <${qname}>`, lt);
      ns = bound;
      local = qname.slice(colon - lt);
    }
    return { ns, local, attrs: count === 0 ? {} : this.attributes(count, qname), children: [], text: '' };
  }

  /** Applies the xmlns and xmlns:p attributes of the start tag just read to this.bindings. */
  private declareNamespaces(count: number): void {
    for (let i = 0; i < count; i++) {
      const name = this.attrNames[i]!;
      const colon = this.attrColons[i]!;
      let prefix: string;
      if (colon === -1 && name === 'xmlns') prefix = '';
      else if (colon === 5 && name.startsWith('xmlns')) prefix = name.slice(6);
      else continue;
      const uri = this.attrValues[i]!;
      const at = this.attrStarts[i]!;
      if (this.declaredBy.get(prefix) === this.elementCount) this.fail(`duplicate attribute '${name}'`, at);
      this.declaredBy.set(prefix, this.elementCount);
      if (prefix === 'xmlns') this.fail('the prefix xmlns must not be declared', at);
      if (prefix === 'xml' ? uri !== XML_NS : uri === XML_NS) this.fail(`only the prefix xml is bound to ${XML_NS}`, at);
      if (uri === XMLNS_NS) this.fail(`no prefix may be bound to ${XMLNS_NS}`, at);
      if (prefix !== '' && uri === '') this.fail(`${name}="" is not allowed: a prefix cannot be undeclared in XML Namespaces 1.0`, at);
      this.undo.push(prefix, this.bindings.get(prefix));
      this.bindings.set(prefix, uri);
    }
  }

  /** Restores the bindings hidden by the declarations logged since `undoMark`, when their element closes. */
  private unbind(undoMark: number): void {
    const { undo, bindings } = this;
    while (undo.length > undoMark) {
      const hidden = undo.pop();
      const prefix = undo.pop()!;
      if (hidden === undefined) bindings.delete(prefix);
      else bindings.set(prefix, hidden);
    }
  }

  /** Attributes but namespace declarations, keyed by local name or `{ns}local`; a name twice, even through two prefixes of one namespace, is an error. */
  private attributes(count: number, qname: string): Record<string, string> {
    const attrs: Record<string, string> = {};
    for (let i = 0; i < count; i++) {
      const name = this.attrNames[i]!;
      const colon = this.attrColons[i]!;
      let key = name;
      if (colon !== -1) {
        const prefix = name.slice(0, colon);
        if (prefix === 'xmlns') continue;
        const ns = this.bindings.get(prefix);
        if (ns === undefined) this.fail(`undeclared namespace prefix '${prefix}' in attribute ${name} of <${qname}>`, this.attrStarts[i]!);
        key = `{${ns}}${name.slice(colon + 1)}`;
      } else if (name === 'xmlns') continue;
      if (Object.hasOwn(attrs, key)) this.fail(`duplicate attribute ${key === name ? `'${name}'` : `${key} (${name})`} in <${qname}>`, this.attrStarts[i]!);
      if (key === '__proto__') Object.defineProperty(attrs, key, { value: this.attrValues[i]!, enumerable: true, writable: true, configurable: true });
      else attrs[key] = this.attrValues[i]!;
    }
    return attrs;
  }

  /** XML 1.0 §3.3.3: references decoded, literal TAB and LF (CR is already LF) become spaces; '<' is not allowed. */
  private attributeValue(start: number, end: number): string {
    const s = this.s;
    let out = '';
    let last = start;
    for (let i = start; i < end; i++) {
      const c = s.charCodeAt(i);
      if (c === LT) this.fail("'<' is not allowed in an attribute value", i);
      if (c === AMP) {
        out += s.slice(last, i) + this.reference(i);
        i = this.refEnd - 1;
        last = this.refEnd;
      } else if (c === LF || c === TAB) {
        out += `${s.slice(last, i)} `;
        last = i + 1;
      }
    }
    return last === start ? s.slice(start, end) : out + s.slice(last, end);
  }

  /** Text between two markup constructs: references decoded, ']]>' refused. */
  private characterData(start: number, end: number): string {
    const s = this.s;
    if (this.nextCdataEnd < start) this.nextCdataEnd = indexOrEnd(s, ']]>', start);
    if (this.nextCdataEnd < end) this.fail("']]>' is not allowed in text", this.nextCdataEnd);
    if (this.nextAmp < start) this.nextAmp = indexOrEnd(s, '&', start);
    if (this.nextAmp >= end) return s.slice(start, end);
    let out = '';
    let last = start;
    while (this.nextAmp < end) {
      const amp = this.nextAmp;
      out += s.slice(last, amp) + this.reference(amp);
      last = this.refEnd;
      this.nextAmp = indexOrEnd(s, '&', last);
    }
    return out + s.slice(last, end);
  }

  /** One of the five predefined entities or a character reference at `amp`; sets this.refEnd past its ';'. */
  private reference(amp: number): string {
    const s = this.s;
    if (s.charCodeAt(amp + 1) === HASH) return this.characterReference(amp);
    const end = this.scanName(amp + 1);
    if (end === amp + 1 || s.charCodeAt(end) !== SEMICOLON) this.fail("'&' must start an entity reference like &amp; or a character reference like &#38;", amp);
    this.refEnd = end + 1;
    const name = s.slice(amp + 1, end);
    switch (name) {
      case 'lt':
        return '<';
      case 'gt':
        return '>';
      case 'amp':
        return '&';
      case 'quot':
        return '"';
      case 'apos':
        return "'";
    }
    return this.fail(`undeclared entity '&${name};' (DTDs and custom entities are not accepted)`, amp);
  }

  private characterReference(amp: number): string {
    const s = this.s;
    const hex = s.charCodeAt(amp + 2) === 0x78;
    let i = hex ? amp + 3 : amp + 2;
    const digitsStart = i;
    let cp = 0;
    for (; ; i++) {
      const c = s.charCodeAt(i);
      let digit: number;
      if (c >= 0x30 && c <= 0x39) digit = c - 0x30;
      else if (hex && c >= 0x61 && c <= 0x66) digit = c - 0x57;
      else if (hex && c >= 0x41 && c <= 0x46) digit = c - 0x37;
      else break;
      // Saturate instead of overflowing: the value is refused below anyway.
      cp = Math.min(cp * (hex ? 16 : 10) + digit, 0x110000);
    }
    if (i === digitsStart || s.charCodeAt(i) !== SEMICOLON) this.fail(`malformed character reference '${s.slice(amp, Math.min(i + 1, amp + 16))}'`, amp);
    if (!isXmlChar(cp)) this.fail(`invalid character reference '${s.slice(amp, i + 1)}': not an XML character`, amp);
    this.refEnd = i + 1;
    return cp < 0x10000 ? String.fromCharCode(cp) : String.fromCodePoint(cp);
  }

  /** End tag at `lt` that must close `expected`; returns the offset past its '>'. */
  private endTag(lt: number, expected: string, openedAt: number): number {
    const s = this.s;
    const nameEnd = lt + 2 + expected.length;
    if (s.startsWith(expected, lt + 2) && !isNameCode(s.charCodeAt(nameEnd))) {
      let pos = nameEnd;
      while (isSpace(s.charCodeAt(pos))) pos++;
      if (s.charCodeAt(pos) === GT) return pos + 1;
      if (pos < s.length) this.fail(`unexpected character '${s[pos]}' in end tag </${expected}>`, pos);
      this.fail(`unterminated end tag </${expected}>`, lt);
    }
    const found = s.slice(lt + 2, Math.max(this.scanName(lt + 2), lt + 2));
    return this.fail(`end tag </${found}> does not match start tag <${expected}> (opened at ${position(s, openedAt)})`, lt);
  }

  private comment(lt: number): number {
    const end = this.s.indexOf('--', lt + 4);
    if (end === -1) this.fail('unterminated comment', lt);
    if (this.s.charCodeAt(end + 2) !== GT) this.fail("'--' is not allowed inside a comment", end);
    return end + 3;
  }

  private processingInstruction(lt: number): number {
    const s = this.s;
    const targetEnd = this.scanName(lt + 2);
    if (targetEnd === lt + 2) this.fail("'<?' not followed by a processing instruction target", lt);
    const target = s.slice(lt + 2, targetEnd);
    if (target.toLowerCase() === 'xml') this.fail('XML declaration allowed only at the start of the document', lt);
    if (this.colon !== -1) this.fail(`processing instruction target '${target}' contains a colon`, lt);
    const end = s.indexOf('?>', targetEnd);
    if (end === -1) this.fail('unterminated processing instruction', lt);
    if (end !== targetEnd && !isSpace(s.charCodeAt(targetEnd))) this.fail(`processing instruction target '${target}' must be followed by whitespace`, targetEnd);
    return end + 2;
  }

  /** '<!' that opens neither a comment nor CDATA: a DOCTYPE (refused, in any case of letters) or garbage. */
  private badDeclaration(lt: number): never {
    if (this.s.slice(lt + 2, lt + 9).toUpperCase() === 'DOCTYPE') this.fail('DOCTYPE is not allowed', lt);
    return this.fail("'<!' that opens neither a comment nor a CDATA section", lt);
  }

  /**
   * Scans a name (XML 1.0 §2.3) that must also be a QName (Namespaces in XML 1.0 §3): at most one colon,
   * neither first nor last. Returns its end (`pos` when no name starts there) and leaves the colon's offset in this.colon.
   */
  private scanName(pos: number): number {
    const s = this.s;
    this.colon = -1;
    let i = pos;
    let needStart = true;
    for (;;) {
      let c = s.charCodeAt(i);
      let width = 1;
      if (c >= 0xd800 && c <= 0xdbff) {
        c = s.codePointAt(i)!;
        width = 2;
      }
      if (c === COLON) {
        if (needStart || this.colon !== -1) break;
        this.colon = i;
        needStart = true;
      } else if (needStart ? isNameStartCode(c) : isNameCode(c)) needStart = false;
      else break;
      i += width;
    }
    if (this.colon !== -1 && needStart) this.fail(`'${s.slice(pos, i + 1)}' is not a valid qualified name`, pos);
    if (i === pos) return pos;
    if (s.charCodeAt(i) === COLON) this.fail(`'${s.slice(pos, i + 1)}' is not a valid qualified name`, pos);
    return i;
  }
}

function indexOrEnd(s: string, search: string, from: number): number {
  const i = s.indexOf(search, from);
  return i === -1 ? s.length : i;
}

/** The first child element with this namespace and local name. */
export function child(el: XmlElement, ns: string, local: string): XmlElement | undefined {
  return el.children.find((c) => c.local === local && c.ns === ns);
}

/** All child elements with this namespace and local name. */
export function childrenOf(el: XmlElement, ns: string, local: string): XmlElement[] {
  return el.children.filter((c) => c.local === local && c.ns === ns);
}
