/** Identifiers of ITI TF-3 §4.2 and ebRIM 3.0, named as the standard names them. */
export const NS = {
  soap12: 'http://www.w3.org/2003/05/soap-envelope',
  soap11: 'http://schemas.xmlsoap.org/soap/envelope/',
  wsa: 'http://www.w3.org/2005/08/addressing',
  xop: 'http://www.w3.org/2004/08/xop/include',
  rim: 'urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0',
  rs: 'urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0',
  lcm: 'urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0',
  query: 'urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0',
  xdsb: 'urn:ihe:iti:xds-b:2007',
  rmd: 'urn:ihe:iti:rmd:2017',
  cda: 'urn:hl7-org:v3',
  wsse: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd',
  saml2: 'urn:oasis:names:tc:SAML:2.0:assertion',
  xsi: 'http://www.w3.org/2001/XMLSchema-instance',
} as const;

export const OBJECT_TYPE = {
  stableDocumentEntry: 'urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1',
  onDemandDocumentEntry: 'urn:uuid:34268e47-fdf5-41a6-ba33-82133c465248',
  registryPackage: 'urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:RegistryPackage',
  association: 'urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:Association',
  classification: 'urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:Classification',
  externalIdentifier: 'urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:ExternalIdentifier',
} as const;

export const CLASSIFICATION_NODE = {
  submissionSet: 'urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd',
  folder: 'urn:uuid:d9d542f3-6cc4-48b6-8870-ea235fbc94c2',
} as const;

export const DOCUMENT_ENTRY_SCHEME = {
  author: 'urn:uuid:93606bcf-9494-43ec-9b4e-a7748d1a838d',
  classCode: 'urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a',
  confidentialityCode: 'urn:uuid:f4f85eac-e6cb-4883-b524-f2705394840f',
  eventCodeList: 'urn:uuid:2c6b8cb7-8b2a-4051-b291-b1ae6a575ef4',
  formatCode: 'urn:uuid:a09d5840-386c-46f2-b5ad-9c3699a4309d',
  healthcareFacilityTypeCode: 'urn:uuid:f33fb8ac-18af-42cc-ae0e-ed0b0bdb91e1',
  practiceSettingCode: 'urn:uuid:cccf5598-8b07-4b77-a05e-ae952c785ead',
  typeCode: 'urn:uuid:f0306f51-975f-434e-a61c-c59651d33983',
  patientId: 'urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427',
  uniqueId: 'urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab',
} as const;

export const SUBMISSION_SET_SCHEME = {
  author: 'urn:uuid:a7058bb9-b4e4-4307-ba5b-e3f0ab85e12d',
  contentTypeCode: 'urn:uuid:aa543740-bdda-424e-8c96-df4873be8500',
  patientId: 'urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446',
  sourceId: 'urn:uuid:554ac39e-e3fe-47fe-b233-965d2a147832',
  uniqueId: 'urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8',
} as const;

export const FOLDER_SCHEME = {
  codeList: 'urn:uuid:1ba97051-7806-41a8-a48b-8fce7af683c5',
  patientId: 'urn:uuid:f64ffdf0-4b97-4e06-b79f-a52b38ec2f8a',
  uniqueId: 'urn:uuid:75df8f67-9973-4fbe-a900-df66cefecc5a',
} as const;

export const ASSOCIATION_TYPE = {
  hasMember: 'urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember',
  replace: 'urn:ihe:iti:2007:AssociationType:RPLC',
  append: 'urn:ihe:iti:2007:AssociationType:APND',
  transform: 'urn:ihe:iti:2007:AssociationType:XFRM',
  transformAndReplace: 'urn:ihe:iti:2007:AssociationType:XFRM_RPLC',
  signs: 'urn:ihe:iti:2007:AssociationType:signs',
  isSnapshotOf: 'urn:ihe:iti:2010:AssociationType:IsSnapshotOf',
} as const;

export const STATUS = {
  approved: 'urn:oasis:names:tc:ebxml-regrep:StatusType:Approved',
  deprecated: 'urn:oasis:names:tc:ebxml-regrep:StatusType:Deprecated',
  submitted: 'urn:oasis:names:tc:ebxml-regrep:StatusType:Submitted',
} as const;

export const RESPONSE_STATUS = {
  success: 'urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success',
  failure: 'urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Failure',
  partialSuccess: 'urn:ihe:iti:2007:ResponseStatusType:PartialSuccess',
} as const;

export const SOAP_ACTION = {
  iti41: 'urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b',
  iti42: 'urn:ihe:iti:2007:RegisterDocumentSet-b',
  iti43: 'urn:ihe:iti:2007:RetrieveDocumentSet',
  iti18: 'urn:ihe:iti:2007:RegistryStoredQuery',
  iti57: 'urn:ihe:iti:2010:UpdateDocumentSet',
  iti62: 'urn:ihe:iti:2010:DeleteDocumentSet',
} as const;

export const responseAction = (action: string): string => `${action}Response`;
