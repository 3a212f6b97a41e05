/** OpenAPI 3.1 description of the patient record API (served at /api/openapi.json). */
const patientIdParam = {
  name: 'patientId',
  in: 'path',
  required: true,
  description: 'The patient INS as a CX, URL-encoded: `<INS>^^^&<INS OID>&ISO`',
  schema: { type: 'string' },
};
const error = { $ref: '#/components/responses/Error' };
const record = { description: 'The record and its settings', content: { 'application/json': { schema: { $ref: '#/components/schemas/Record' } } } };
const refusals = { '400': error, '401': error, '403': error, '404': error, '503': error };
const patientOnly = [{ patientToken: [] }];
const patientOrFrontEnd = [{ patientToken: [] }, { frontEndKey: [] }];

export const OPENAPI_DOCUMENT = {
  openapi: '3.1.0',
  info: {
    title: 'DMP XDS gateway: patient records',
    version: '1',
    description:
      'The patient record lifecycle (consent, closing, retention) and the patient settings the access policy applies to SOAP ' +
      'transactions: blocked professionals, emergency access, masked documents, and the access history read from the ATNA audit trail. ' +
      'Every call is audited.',
  },
  components: {
    securitySchemes: {
      patientToken: { type: 'http', scheme: 'bearer', description: 'Patient session token issued by POST /api/patient-sessions (HMAC-SHA-256, PATIENT_TOKEN_SECRET)' },
      frontEndKey: { type: 'http', scheme: 'bearer', description: 'FRONT_END_KEY of the trusted identity / front-office front end' },
    },
    responses: {
      Error: {
        description: 'Refused or failed',
        content: { 'application/json': { schema: { type: 'object', required: ['error', 'message'], properties: { error: { type: 'string' }, message: { type: 'string' } } } } },
      },
    },
    schemas: {
      ConsentChannel: { type: 'string', enum: ['patient-online', 'insurance-office', 'professional', 'pharmacist', 'hospital'] },
      Record: {
        type: 'object',
        properties: {
          patientId: { type: 'string' },
          status: { type: 'string', enum: ['open', 'closed'] },
          consentChannel: { $ref: '#/components/schemas/ConsentChannel' },
          consentAt: { type: 'string', format: 'date-time' },
          createdBy: { type: ['string', 'null'] },
          emergencyAccess: { type: 'string', enum: ['allowed', 'refused'] },
          closedAt: { type: ['string', 'null'], format: 'date-time' },
          purgeAfter: { type: ['string', 'null'], format: 'date-time', description: 'closing time + RECORD_RETENTION_YEARS' },
          blockedProfessionals: { type: 'array', items: { type: 'string', description: 'IdNat_PS: 8+RPPS or 0+ADELI' } },
          maskedDocuments: { type: 'array', items: { type: 'string', description: 'document uniqueId' } },
        },
      },
      AccessEvent: {
        type: 'object',
        properties: {
          at: { type: 'string', format: 'date-time' },
          operation: { type: 'string', description: 'IHE transaction (ITI-18, ITI-43, ...) or API operation' },
          action: { type: 'string', enum: ['C', 'R', 'U', 'D', 'E'] },
          outcome: { type: 'integer', enum: [0, 4, 8, 12] },
          userId: { type: ['string', 'null'] },
          userName: { type: ['string', 'null'] },
          organisationId: { type: ['string', 'null'] },
          purposeOfUse: { type: ['string', 'null'], enum: ['normal', 'emergency', 'regulation', null] },
          breakGlass: { type: 'boolean' },
          documentIds: { type: 'array', items: { type: 'string' } },
        },
      },
    },
  },
  paths: {
    '/api/patient-sessions': {
      post: {
        summary: 'Issue a patient session token (called by the identity front end once it has authenticated the patient)',
        security: [{ frontEndKey: [] }],
        requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['patientId'], properties: { patientId: { type: 'string' } } } } } },
        responses: {
          '201': { description: 'Token', content: { 'application/json': { schema: { type: 'object', properties: { token: { type: 'string' }, expiresAt: { type: 'string', format: 'date-time' } } } } } },
          ...refusals,
        },
      },
    },
    '/api/records': {
      post: {
        summary: 'Create the record with the patient consent (a patient always through patient-online); also registers the patient id',
        security: patientOrFrontEnd,
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['patientId', 'consent'],
                properties: { patientId: { type: 'string' }, consent: { const: true }, consentChannel: { $ref: '#/components/schemas/ConsentChannel' }, createdBy: { type: 'string' } },
              },
            },
          },
        },
        responses: { '201': record, '200': record, '409': error, ...refusals },
      },
    },
    '/api/records/{patientId}': { get: { summary: 'Read the record and its settings', security: patientOrFrontEnd, parameters: [patientIdParam], responses: { '200': record, ...refusals } } },
    '/api/records/{patientId}/close': {
      post: {
        summary: 'Close the record: readable by nobody, purged after the retention period',
        security: patientOrFrontEnd,
        parameters: [patientIdParam],
        requestBody: { content: { 'application/json': { schema: { type: 'object', properties: { reason: { type: 'string' } } } } } },
        responses: { '200': record, ...refusals },
      },
    },
    '/api/records/{patientId}/blocked-professionals/{professionalId}': {
      parameters: [patientIdParam, { name: 'professionalId', in: 'path', required: true, schema: { type: 'string' } }],
      put: { summary: 'Block a professional', security: patientOnly, responses: { '200': record, ...refusals } },
      delete: { summary: 'Unblock a professional', security: patientOnly, responses: { '200': record, ...refusals } },
    },
    '/api/records/{patientId}/emergency-access': {
      put: {
        summary: 'Allow or refuse emergency (break-glass, SAMU regulation) access',
        security: patientOnly,
        parameters: [patientIdParam],
        requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['access'], properties: { access: { enum: ['allowed', 'refused'] } } } } } },
        responses: { '200': record, ...refusals },
      },
    },
    '/api/records/{patientId}/masked-documents/{documentUniqueId}': {
      parameters: [patientIdParam, { name: 'documentUniqueId', in: 'path', required: true, schema: { type: 'string' } }],
      put: { summary: 'Mask a document from professionals (its author still sees it)', security: patientOnly, responses: { '200': record, ...refusals } },
      delete: { summary: 'Unmask a document', security: patientOnly, responses: { '200': record, ...refusals } },
    },
    '/api/records/{patientId}/documents': {
      parameters: [patientIdParam],
      get: {
        summary: 'The documents the patient may see (hidden-from-patient ones appear after one month or once the author shows them)',
        security: patientOnly,
        responses: {
          '200': {
            description: 'Documents',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: {
                    patientId: { type: 'string' },
                    documents: {
                      type: 'array',
                      items: {
                        type: 'object',
                        properties: { uniqueId: { type: 'string' }, title: { type: ['string', 'null'] }, mimeType: { type: 'string' }, registeredAt: { type: 'string', format: 'date-time' }, addedByPatient: { type: 'boolean' } },
                      },
                    },
                  },
                },
              },
            },
          },
          ...refusals,
        },
      },
      post: {
        summary: "Add the patient's own document (registered as an ITI-41 submission authored by the patient)",
        security: patientOnly,
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: { type: 'object', required: ['title', 'mimeType', 'content'], properties: { title: { type: 'string' }, mimeType: { type: 'string' }, content: { type: 'string', contentEncoding: 'base64' } } },
            },
          },
        },
        responses: {
          '201': { description: 'Registered', content: { 'application/json': { schema: { type: 'object', properties: { uniqueId: { type: 'string' } } } } } },
          '422': error,
          ...refusals,
        },
      },
    },
    '/api/records/{patientId}/access-history': {
      get: {
        summary: 'Every audited access to the record, oldest first',
        security: patientOnly,
        parameters: [patientIdParam],
        responses: {
          '200': {
            description: 'History',
            content: { 'application/json': { schema: { type: 'object', properties: { patientId: { type: 'string' }, events: { type: 'array', items: { $ref: '#/components/schemas/AccessEvent' } } } } } },
          },
          ...refusals,
        },
      },
    },
    '/api/records/purge': {
      post: {
        summary: 'Run the purge of closed records past retention now (it also runs hourly)',
        security: [{ frontEndKey: [] }],
        responses: { '200': { description: 'Purged patients', content: { 'application/json': { schema: { type: 'object', properties: { purged: { type: 'array', items: { type: 'string' } } } } } } }, ...refusals },
      },
    },
  },
} as const;
