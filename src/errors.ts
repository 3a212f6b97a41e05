/** XDS error codes (ITI TF-3 Table 4.2.4.1-2, ebRS 3.0), the only codes this gateway answers with. */
export const XDS_ERROR_CODES = [
  'XDSMissingDocument',
  'XDSMissingDocumentMetadata',
  'XDSRegistryNotAvailable',
  'XDSRegistryError',
  'XDSRegistryBusy',
  'XDSRepositoryError',
  'XDSRepositoryBusy',
  'XDSRepositoryOutOfResources',
  'XDSRegistryOutOfResources',
  'XDSRegistryDuplicateUniqueIdInMessage',
  'XDSRepositoryDuplicateUniqueIdInMessage',
  'XDSDuplicateUniqueIdInRegistry',
  'XDSNonIdenticalHash',
  'XDSNonIdenticalSize',
  'XDSRegistryMetadataError',
  'XDSRepositoryMetadataError',
  'XDSTooManyResults',
  'XDSExtraMetadataNotSaved',
  'XDSUnknownPatientId',
  'XDSPatientIdDoesNotMatch',
  'XDSUnknownStoredQuery',
  'XDSStoredQueryMissingParam',
  'XDSStoredQueryParamNumber',
  'XDSRegistryDeprecatedDocumentError',
  'XDSUnknownRepositoryId',
  'XDSDocumentUniqueIdError',
  'XDSResultNotSinglePatient',
  'XDSPartialFolderContentNotProcessed',
  'XDSReplaceFailed',
  'XDSPartialReplaceContentNotProcessed',
  'XDSUnknownCommunity',
  'XDSMetadataUpdateError',
  'XDSMetadataVersionError',
  'XDSMetadataAnnotationError',
  'UnresolvedReferenceException',
  'ReferencesExistException',
  'UnmodifiableMetadataError',
  'XDSUnreferencedObjectException',
  'InvalidRequestException',
] as const;

export type XdsErrorCode = (typeof XDS_ERROR_CODES)[number];

export type Severity = 'Error' | 'Warning';

export const SEVERITY_URN: Record<Severity, string> = {
  Error: 'urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Error',
  Warning: 'urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Warning',
};

/**
 * One failure of a request: an XDS code, a message naming the object and field (codeContext),
 * and the location (the id of the object concerned, when there is one).
 */
export class XdsError {
  constructor(
    readonly code: XdsErrorCode,
    readonly message: string,
    readonly location?: string,
    readonly severity: Severity = 'Error',
  ) {}

  toJSON(): { code: XdsErrorCode; message: string; location?: string; severity: Severity } {
    return { code: this.code, message: this.message, location: this.location, severity: this.severity };
  }

  static fromJSON(v: { code: XdsErrorCode; message: string; location?: string; severity?: Severity }): XdsError {
    return new XdsError(v.code, v.message, v.location, v.severity ?? 'Error');
  }
}

export function isXdsErrorCode(s: string): s is XdsErrorCode {
  return (XDS_ERROR_CODES as readonly string[]).includes(s);
}

/** Thrown where a whole request must stop with these XDS errors (collected, never just the first). */
export class XdsFailure extends Error {
  constructor(readonly errors: XdsError[]) {
    super(errors.map((e) => `${e.code}: ${e.message}`).join('; '));
    this.name = 'XdsFailure';
  }
}
