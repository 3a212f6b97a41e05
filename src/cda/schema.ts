import fs, { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ParseOption,
  XmlDocument,
  XmlElement,
  XmlLibError,
  XsdValidator,
  xmlRegisterInputProvider,
  type ErrorDetail,
  type XmlTreeNode,
} from 'libxml2-wasm';

/** One problem found in a document: where it is and what the schema (or the XML parser) says. */
export interface SchemaIssue {
  line: number;
  column: number;
  /** Element path with names and 1-based positions, e.g. `/ClinicalDocument/component[1]/structuredBody[1]`. */
  path: string;
  message: string;
}

/** Root file names tried, in order, when load() is not told which one to use. */
const ROOT_CANDIDATES = ['cda.xsd', 'CDA_extended.xsd', 'CDA.xsd'];

/** Our own CDA R2 schema set, resolved from this module so it is found from src/ (tsx) and dist/src/ alike. */
export function defaultCdaSchemaDir(): string {
  return fileURLToPath(new URL('../../schemas/cda/', import.meta.url));
}

// Untrusted documents: no network, no external entity or DTD loading, no entity substitution (NOENT left off).
const DOCUMENT_OPTIONS = ParseOption.XML_PARSE_NONET | ParseOption.XML_PARSE_NO_XXE | ParseOption.XML_PARSE_BIG_LINES | ParseOption.XML_PARSE_HUGE;
const SCHEMA_OPTIONS = ParseOption.XML_PARSE_NONET | ParseOption.XML_PARSE_NO_XXE;

/**
 * Directories whose files libxml2 may read while compiling a schema (xs:include / xs:import).
 * Nothing else is reachable through libxml2's I/O, so a document can never make it open a file or a URL.
 */
const schemaRoots = new Set<string>();
let providerRegistered = false;

function schemaFilePath(name: string): string | null {
  let p = name;
  if (name.startsWith('file:')) {
    try {
      p = fileURLToPath(name);
    } catch {
      return null;
    }
  } else if (/^[a-z][a-z0-9+.-]*:/i.test(name)) {
    return null;
  }
  const abs = path.resolve(p);
  for (const root of schemaRoots) {
    if (abs.startsWith(root + path.sep)) return abs;
  }
  return null;
}

function registerSchemaProvider(): void {
  if (providerRegistered) return;
  providerRegistered = true;
  xmlRegisterInputProvider({
    match: (name) => {
      const p = schemaFilePath(name);
      return p !== null && existsSync(p);
    },
    open: (name) => {
      const p = schemaFilePath(name);
      if (p === null) return undefined;
      try {
        return fs.openSync(p, 'r');
      } catch {
        return undefined;
      }
    },
    read: (fd, buf) => {
      try {
        return fs.readSync(fd, buf, 0, buf.byteLength, null);
      } catch {
        return -1;
      }
    },
    close: (fd) => {
      try {
        fs.closeSync(fd);
      } catch {
        return false;
      }
      return true;
    },
  });
}

function pickRoot(dir: string, rootFile?: string): string {
  if (rootFile) return path.resolve(dir, rootFile);
  for (const name of ROOT_CANDIDATES) {
    const p = path.join(dir, name);
    if (existsSync(p)) return p;
  }
  throw new Error(`no root schema (${ROOT_CANDIDATES.join(', ')}) in ${dir}`);
}

/** A DOCTYPE is refused before parsing: CDA has none, and it is the door to entity expansion attacks. */
function prologHasDoctype(bytes: Buffer): boolean {
  const limit = Math.min(bytes.length, 64 * 1024);
  let i = 0;
  while (i < limit) {
    const lt = bytes.indexOf(0x3c, i);
    if (lt < 0 || lt >= limit) return false;
    const next = bytes[lt + 1];
    if (next === 0x21) {
      if (bytes.subarray(lt, lt + 9).toString('latin1').toUpperCase() === '<!DOCTYPE') return true;
      if (bytes.subarray(lt, lt + 4).toString('latin1') === '<!--') {
        const end = bytes.indexOf('-->', lt + 4);
        if (end < 0) return false;
        i = end + 3;
        continue;
      }
      return false;
    }
    if (next !== 0x3f) return false; // an element start: the prolog is over
    i = lt + 2;
  }
  return false;
}

function elementPath(el: XmlElement): string {
  const parts: string[] = [];
  let cur: XmlElement | null = el;
  while (cur) {
    const parent: XmlElement | null = cur.parent;
    const name = cur.name;
    if (parent) {
      let index = 1;
      let sib = cur.prev;
      while (sib) {
        if (sib instanceof XmlElement && sib.name === name && sib.namespaceUri === cur.namespaceUri) index++;
        sib = sib.prev;
      }
      parts.push(`${qualified(cur)}[${index}]`);
    } else {
      parts.push(qualified(cur));
    }
    cur = parent;
  }
  return '/' + parts.reverse().join('/');
}

/**
 * Follows the node path libxml2 reports (steps such as `*[27]` or `p:name[2]`) without the XPath engine, whose
 * prefixes may be undeclared in the document's scope and whose failures would be printed to stderr.
 */
function elementAt(doc: XmlDocument, nodePath: string): XmlElement | null {
  const steps = nodePath.split('/').slice(1);
  let cur: XmlElement | null = null;
  for (const step of steps) {
    const m = /^(?:([^:[\]]+):)?([^[\]]+)(?:\[(\d+)\])?$/.exec(step);
    if (!m) return null;
    const [, prefix, name, nth] = m;
    const wanted = Number(nth ?? '1');
    const matches = (e: XmlElement): boolean => name === '*' || (e.name === name && (prefix === undefined || e.prefix === prefix));
    if (cur === null) {
      const root = doc.root;
      if (wanted !== 1 || !matches(root)) return null;
      cur = root;
      continue;
    }
    let seen = 0;
    let next: XmlElement | null = null;
    for (let c: XmlTreeNode | null = cur.firstChild; c; c = c.next) {
      if (c instanceof XmlElement && matches(c) && ++seen === wanted) {
        next = c;
        break;
      }
    }
    if (!next) return null;
    cur = next;
  }
  return cur;
}

function qualified(el: XmlElement): string {
  return el.prefix ? `${el.prefix}:${el.name}` : el.name;
}

/** libxml2 gives no column for validity errors: point at the element's start tag on its line. */
function startTagColumn(lines: string[] | null, line: number, el: XmlElement | null): number {
  if (!lines || !el) return 0;
  const text = lines[line - 1];
  if (text === undefined) return 0;
  const at = text.search(new RegExp(`<${qualified(el).replace(/[.]/g, '\\.')}(?=[\\s/>]|$)`));
  return at < 0 ? 0 : at + 1;
}

function cleanMessage(message: string): string {
  return message.replace(/\s+$/, '');
}

export class CdaSchemaValidator {
  private validator: XsdValidator | null;
  /** Absolute path of the root XSD that was compiled. */
  readonly rootPath: string;

  private constructor(validator: XsdValidator, rootPath: string) {
    this.validator = validator;
    this.rootPath = rootPath;
  }

  /** Compiles the schema set once; keep the instance and call validate() for each document. */
  static async load(schemaDir: string = defaultCdaSchemaDir(), rootFile?: string): Promise<CdaSchemaValidator> {
    const dir = path.resolve(schemaDir);
    const rootPath = pickRoot(dir, rootFile);
    schemaRoots.add(path.dirname(rootPath));
    schemaRoots.add(dir);
    registerSchemaProvider();
    const bytes = await readFile(rootPath);
    const xsd = XmlDocument.fromBuffer(bytes, { url: rootPath, option: SCHEMA_OPTIONS });
    try {
      return new CdaSchemaValidator(XsdValidator.fromDoc(xsd), rootPath);
    } catch (e) {
      const details = e instanceof XmlLibError ? e.details.map((d) => `${d.file ?? ''}:${d.line}: ${cleanMessage(d.message)}`) : [];
      throw new Error(`cannot compile CDA schema ${rootPath}${details.length ? ': ' + details.join('; ') : ''}`, { cause: e });
    } finally {
      xsd.dispose();
    }
  }

  /** Validates one document; an empty list means valid. Malformed XML and DOCTYPE come back as issues too. */
  validate(bytes: Buffer): SchemaIssue[] {
    const validator = this.validator;
    if (!validator) throw new Error('CdaSchemaValidator used after dispose()');
    if (prologHasDoctype(bytes)) {
      return [{ line: 1, column: 1, path: '', message: 'DOCTYPE is not allowed in a CDA document' }];
    }
    let doc: XmlDocument;
    try {
      doc = XmlDocument.fromBuffer(bytes, { option: DOCUMENT_OPTIONS });
    } catch (e) {
      if (e instanceof XmlLibError) return parseIssues(e.details, e.message);
      throw e;
    }
    try {
      return this.validateParsed(doc, bytes);
    } finally {
      doc.dispose();
    }
  }

  /**
   * Validates a document the caller already parsed (with NONET and NO_XXE, no entity substitution)
   * and still owns, so that one parse serves the schema and the document-type rules.
   */
  validateParsed(doc: XmlDocument, bytes: Buffer): SchemaIssue[] {
    const validator = this.validator;
    if (!validator) throw new Error('CdaSchemaValidator used after dispose()');
    if (doc.dtd) return [{ line: 1, column: 1, path: '', message: 'DOCTYPE is not allowed in a CDA document' }];
    try {
      validator.validate(doc);
      return [];
    } catch (e) {
      if (!(e instanceof XmlLibError)) throw e;
      return this.validityIssues(doc, bytes, e.details);
    }
  }

  /** Frees the compiled schema (wasm memory); the validator is unusable afterwards. */
  dispose(): void {
    this.validator?.dispose();
    this.validator = null;
  }

  private validityIssues(doc: XmlDocument, bytes: Buffer, details: ErrorDetail[]): SchemaIssue[] {
    let lines: string[] | null = null;
    return details.map((d) => {
      let el: XmlElement | null = null;
      if (d.xpath) el = elementAt(doc, d.xpath);
      if (d.col === 0 && el && lines === null) lines = bytes.toString('utf8').split('\n');
      return {
        line: d.line,
        column: d.col > 0 ? d.col : startTagColumn(lines, d.line, el),
        path: el ? elementPath(el) : (d.xpath ?? ''),
        message: cleanMessage(d.message),
      };
    });
  }
}

function parseIssues(details: ErrorDetail[], fallback: string): SchemaIssue[] {
  if (details.length === 0) return [{ line: 0, column: 0, path: '', message: cleanMessage(fallback) }];
  return details.map((d) => ({ line: d.line, column: d.col, path: '', message: cleanMessage(d.message) }));
}
