import type { CdaIssue } from '../cda/issues.js';

/**
 * The rule a CDA validation failure broke, as the `rule` label of xdsgw_cda_validation_failures_total:
 * `schema`, `<TYPE>:<check>[:<templateId or header path>]` for the rules of cda-templates/, or
 * `consistency:<DocumentEntry field>`. Only values taken from the rule files or from this table may
 * appear, never text of the submitted document, so the number of label values stays bounded.
 */
export function cdaRuleOf(issue: CdaIssue, type: string | undefined): string {
  if (issue.kind === 'schema') return 'schema';
  if (issue.kind === 'consistency') return `consistency:${consistencyField(issue.message)}`;
  if (type === undefined) return 'type:unknown';
  const prefix = `${type}: `;
  const message = issue.message.startsWith(prefix) ? issue.message.slice(prefix.length) : issue.message;
  for (const [pattern, check] of TYPE_RULES) {
    const m = pattern.exec(message);
    if (m) return m[1] === undefined ? `${type}:${check}` : `${type}:${check}:${m[1]}`;
  }
  return `${type}:other`;
}

/** The checks of src/cda/templates.ts, by the start of their message; a capture comes from the rule file. */
const TYPE_RULES: [RegExp, string][] = [
  [/^ClinicalDocument\/templateId ([0-9.]+) is required/, 'templateId'],
  [/^ClinicalDocument\/code is /, 'code'],
  [/^header element ClinicalDocument\/([A-Za-z0-9/]+) is required/, 'header'],
  [/^the document must have a structuredBody/, 'structuredBody'],
  [/^the document must have a nonXMLBody/, 'nonXMLBody'],
  [/^required section "[^"]*" \(templateId ([0-9.]+)[,)]/, 'section'],
  [/^section "[^"]*" \(templateId ([0-9.]+)[^)]*\) has code /, 'section-code'],
  [/^section "[^"]*" \(templateId [0-9.]+[^)]*\) has no entry with templateId ([0-9.]+)$/, 'section-entry'],
  [/^nonXMLBody\/text mediaType /, 'nonXMLBody-mediaType'],
  [/^nonXMLBody\/text for \S+ must have representation/, 'nonXMLBody-representation'],
  [/^nonXMLBody\/text must not be compressed/, 'nonXMLBody-compression'],
  [/^nonXMLBody\/text /, 'nonXMLBody-content'],
  [/^the (PDF|content|startxref|xref)\b/, 'nonXMLBody-pdf'],
];

/** DocumentEntry fields src/cda/consistency.ts compares with the header. */
const CONSISTENCY_FIELDS = new Set([
  'uniqueId',
  'patientId',
  'typeCode',
  'classCode',
  'formatCode',
  'confidentialityCode',
  'creationTime',
  'serviceStartTime',
  'serviceStopTime',
  'languageCode',
  'author',
  'legalAuthenticator',
]);

function consistencyField(message: string): string {
  const field = /^DocumentEntry\.(\w+) /.exec(message)?.[1];
  if (field !== undefined) return CONSISTENCY_FIELDS.has(field) ? field : 'other';
  if (message.startsWith('ClinicalDocument/id is missing')) return 'uniqueId';
  if (message.startsWith('CDA author ')) return 'author';
  if (/ is not an HL7 time stamp$/.test(message)) return 'timestamp';
  return 'other';
}
