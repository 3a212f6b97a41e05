/** Identifiers of IHE DSG (ITI TF-3 §5.5), XML-DSig and XAdES, named as those standards name them. */
export const XMLNS = {
  ds: 'http://www.w3.org/2000/09/xmldsig#',
  xades: 'http://uri.etsi.org/01903/v1.3.2#',
} as const;

export const ALGORITHM = {
  excC14n: 'http://www.w3.org/2001/10/xml-exc-c14n#',
  sha256: 'http://www.w3.org/2001/04/xmlenc#sha256',
  sha1: 'http://www.w3.org/2000/09/xmldsig#sha1',
} as const;

export const REFERENCE_TYPE = {
  manifest: 'http://www.w3.org/2000/09/xmldsig#Manifest',
  signedProperties: 'http://uri.etsi.org/01903#SignedProperties',
  signatureProperties: 'http://www.w3.org/2000/09/xmldsig#SignatureProperties',
} as const;

/** ASTM E1762-95(2013) signature purpose (DSG Table 5.5.2-1): the CommitmentTypeIndication of the gateway's signature. */
export const PURPOSE = {
  code: '1.2.840.10065.1.12.1.1',
  codingScheme: '1.2.840.10065.1.12',
  displayName: "Author's Signature",
} as const;

/** Metadata of the signature DocumentEntry (DSG §5.5.6.1); classCode is the affinity domain's choice. */
export const SIGNATURE_ENTRY = {
  formatCode: { code: 'urn:ihe:iti:dsg:detached:2014', codingScheme: '1.3.6.1.4.1.19376.1.2.3', displayName: 'Detached digital signature' },
  typeCode: { code: 'E1762', codingScheme: 'ASTM', displayName: 'Full Document' },
  classCode: { code: 'urn:oid:1.3.6.1.4.1.19376.1.2.1.1.1', codingScheme: 'URN', displayName: 'Digital Signature' },
  confidentialityCode: { code: 'N', codingScheme: '2.16.840.1.113883.5.25', displayName: 'Normal' },
  mimeType: 'text/xml',
  languageCode: 'art',
} as const;

/** Ids of the signed parts inside one signature document. */
export const PART_ID = {
  signature: 'dsg-signature',
  manifest: 'dsg-manifest',
  signedProperties: 'dsg-signed-properties',
  signatureProperties: 'dsg-signature-properties',
  submissionSet: 'dsg-submission-set',
} as const;

/** Manifest reference URI of a document: its uniqueId as a URN (DSG §5.5.3). */
export const documentUri = (uniqueId: string): string => (/^[0-2](\.(0|[1-9][0-9]*))+$/.test(uniqueId) ? `urn:oid:${uniqueId}` : uniqueId);
