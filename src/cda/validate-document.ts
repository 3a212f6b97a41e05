import { fileURLToPath } from 'node:url';
import { ParseOption, XmlDocument, XmlLibError } from 'libxml2-wasm';
import type { DocumentEntry, SubmittedDocument } from '../ebrim/model.js';
import { XdsError } from '../errors.js';
import { checkConsistency } from './consistency.js';
import { detectType, loadDocumentTypes, type DocumentType } from './document-types.js';
import { readHeader, type CdaHeader } from './header.js';
import { error, type CdaIssue } from './issues.js';
import { CdaSchemaValidator, defaultCdaSchemaDir, type SchemaIssue } from './schema.js';
import { checkDocumentType } from './templates.js';

/** What the gateway does with a CDA document whose type it has no rules for. */
export type UnknownTypePolicy = 'accept' | 'refuse';

export interface CdaValidatorOptions {
  /** Schema set directory (default: our own schemas/cda) and its root XSD. */
  schemaDir?: string;
  schemaRoot?: string;
  /** Document type rules (default: cda-templates/). */
  templatesDir?: string;
  unknownType?: UnknownTypePolicy;
}

/** The verdict on one CDA document. */
export interface CdaReport {
  /** Document type found (cda-templates `type`), undefined when unknown. */
  type?: string;
  header?: CdaHeader;
  issues: CdaIssue[];
  valid: boolean;
}

/** Most problems reported for one document; a broken generator can otherwise produce thousands. */
const MAX_ISSUES = 50;

const DOCUMENT_OPTIONS = ParseOption.XML_PARSE_NONET | ParseOption.XML_PARSE_NO_XXE | ParseOption.XML_PARSE_BIG_LINES | ParseOption.XML_PARSE_HUGE;

export function defaultTemplatesDir(): string {
  return fileURLToPath(new URL('../../cda-templates/', import.meta.url));
}

/** A CDA document as ITI-41 receives one: XML whose root element is ClinicalDocument. */
export function isCdaDocument(bytes: Buffer, mimeType: string): boolean {
  const base = mimeType.split(';')[0]!.trim().toLowerCase();
  // text/xml, application/xml and every XML media type (application/hl7-v3+xml, application/*+xml).
  if (base !== 'text/xml' && base !== 'application/xml' && !base.endsWith('+xml')) return false;
  const head = bytes.subarray(0, 8192).toString('utf8').replace(/^\uFEFF/, '');
  return /^\s*(?:(?:<\?[\s\S]*?\?>|<!--[\s\S]*?-->)\s*)*<(?:[A-Za-z_][\w.-]*:)?ClinicalDocument[\s/>]/.test(head);
}

/**
 * CDA R2 validation as the gateway applies it: the schema, the rules of the document's type
 * (cda-templates/), and, given its DocumentEntry, the agreement of metadata and header.
 * The schema set is compiled once; one instance serves every request; dispose() frees it.
 */
export class CdaValidator {
  private constructor(
    private readonly schema: CdaSchemaValidator,
    readonly types: DocumentType[],
    readonly unknownType: UnknownTypePolicy,
  ) {}

  static async load(options: CdaValidatorOptions = {}): Promise<CdaValidator> {
    const types = loadDocumentTypes(options.templatesDir ?? defaultTemplatesDir());
    const schema = await CdaSchemaValidator.load(options.schemaDir ?? defaultCdaSchemaDir(), options.schemaRoot);
    return new CdaValidator(schema, types, options.unknownType ?? 'accept');
  }

  validate(bytes: Buffer, entry?: DocumentEntry): CdaReport {
    // A DOCTYPE or malformed XML: reported by the schema validator's own guarded parse, with its position.
    if (hasDoctype(bytes)) return report(undefined, undefined, this.unparsable(bytes, 'DOCTYPE is not allowed in a CDA document'));
    let doc: XmlDocument;
    try {
      doc = XmlDocument.fromBuffer(bytes, { option: DOCUMENT_OPTIONS });
    } catch (e) {
      if (e instanceof XmlLibError) return report(undefined, undefined, this.unparsable(bytes, e.message));
      throw e;
    }
    try {
      const issues = schemaIssues(this.schema.validateParsed(doc, bytes));
      const header = readHeader(doc);
      const type = detectType(this.types, header.templateIds, header.body.kind);
      if (type) issues.push(...checkDocumentType(doc, header, type));
      else if (this.unknownType === 'refuse') {
        issues.push(error('type', `document type unknown to this gateway (ClinicalDocument/templateId ${header.templateIds.join(', ') || '(none)'}); unknown types are refused`, { line: 1 }));
      }
      if (entry) issues.push(...checkConsistency(entry, header, type));
      return report(type, header, issues);
    } finally {
      doc.dispose();
    }
  }

  private unparsable(bytes: Buffer, fallback: string): CdaIssue[] {
    const issues = schemaIssues(this.schema.validate(bytes));
    return issues.length ? issues : [error('schema', fallback, { line: 1 })];
  }

  dispose(): void {
    this.schema.dispose();
  }
}

function schemaIssues(found: SchemaIssue[]): CdaIssue[] {
  return found.map((s) => ({ kind: 'schema', severity: 'Error', message: s.message, line: s.line, column: s.column, ...(s.path ? { path: s.path } : {}) }));
}

function hasDoctype(bytes: Buffer): boolean {
  const head = bytes.subarray(0, 65536).toString('latin1').replace(/<!--[\s\S]*?-->/g, '');
  const root = head.search(/<[A-Za-z_]/);
  return /<!DOCTYPE/i.test(root === -1 ? head : head.slice(0, root));
}

function report(type: DocumentType | undefined, header: CdaHeader | undefined, all: CdaIssue[]): CdaReport {
  const issues = all.length > MAX_ISSUES ? [...all.slice(0, MAX_ISSUES), error(all[MAX_ISSUES]!.kind, `${all.length - MAX_ISSUES} more problems not listed`)] : all;
  return { type: type?.type, header, issues, valid: !issues.some((i) => i.severity === 'Error') };
}

/** One line per issue: `line 12, column 5 (/ClinicalDocument/code): message`, or the message alone when it has no place. */
export function formatIssue(issue: CdaIssue): string {
  const where = [issue.line ? `line ${issue.line}` : '', issue.column ? `column ${issue.column}` : ''].filter(Boolean).join(', ');
  if (!where) return issue.path ? `${issue.path}: ${issue.message}` : issue.message;
  return `${where}${issue.path ? ` (${issue.path})` : ''}: ${issue.message}`;
}

/** The report as XDS errors: header/metadata disagreements are metadata errors, schema and type rule problems repository errors. */
export function cdaXdsErrors(report: CdaReport, entry: DocumentEntry): XdsError[] {
  return report.issues.map(
    (i) =>
      new XdsError(
        i.kind === 'consistency' ? 'XDSRepositoryMetadataError' : 'XDSRepositoryError',
        `CDA document ${entry.uniqueId}: ${formatIssue(i)}`,
        entry.submittedId,
        i.severity,
      ),
  );
}

/**
 * The ITI-41 step: each CDA document of a submission validated against its schema, its type and its
 * DocumentEntry; `onReport` sees each document's report (the gateway's metrics count failures by rule).
 */
export function validateSubmittedCda(
  entries: DocumentEntry[],
  documents: SubmittedDocument[],
  cda: CdaValidator,
  onReport?: (report: CdaReport) => void,
): XdsError[] {
  const bytesById = new Map(documents.map((d) => [d.submittedId, d.bytes]));
  const errors: XdsError[] = [];
  for (const entry of entries) {
    const bytes = bytesById.get(entry.submittedId);
    if (!bytes || !isCdaDocument(bytes, entry.mimeType)) continue;
    const report = cda.validate(bytes, entry);
    onReport?.(report);
    errors.push(...cdaXdsErrors(report, entry));
  }
  return errors;
}
