/** Where a problem of a CDA document comes from: its schema, its document type's rules, or its agreement with the XDS metadata. */
export type CdaIssueKind = 'schema' | 'type' | 'consistency';

/** One problem found in a CDA document, located when it can be. */
export interface CdaIssue {
  kind: CdaIssueKind;
  severity: 'Error' | 'Warning';
  message: string;
  line?: number;
  column?: number;
  /** Path of the element concerned, e.g. /ClinicalDocument/component/structuredBody. */
  path?: string;
}

export const error = (kind: CdaIssueKind, message: string, at: Partial<Pick<CdaIssue, 'line' | 'column' | 'path'>> = {}): CdaIssue => ({
  kind,
  severity: 'Error',
  message,
  ...at,
});

export const warning = (kind: CdaIssueKind, message: string, at: Partial<Pick<CdaIssue, 'line' | 'column' | 'path'>> = {}): CdaIssue => ({
  kind,
  severity: 'Warning',
  message,
  ...at,
});
