import type { GatewayContext } from '../context.js';
import { SOAP_ACTION } from '../ebrim/uuids.js';
import type { SoapRequest } from '../soap/envelope.js';
import type { XmlPieces } from '../xml/pieces.js';
import { registryStoredQuery } from './iti18.js';
import { provideAndRegisterDocumentSet } from './iti41.js';
import { registerDocumentSet } from './iti42.js';
import { retrieveDocumentSet } from './iti43.js';
import { updateDocumentSet } from './iti57.js';
import { callerOf, deleteDocumentSet } from './iti62.js';

export interface TransactionResult {
  /** The SOAP Body's content: a string, or pieces for a large ITI-18 answer (status and errors in the first). */
  bodyXml: string | XmlPieces;
  /** Present when the response carries documents: it then goes out as MTOM. */
  attachments?: { contentId: string; contentType: string; body: Buffer }[];
  /**
   * The patients of the registry objects the transaction found, when it knows them: the audit record names
   * them when the request names none, instead of reading them from the registry again.
   */
  patientIdsOfAnswer?: string[];
}

export interface Transaction {
  name: string;
  action: string;
  handle(request: SoapRequest, attachments: Map<string, Buffer>, ctx: GatewayContext): Promise<TransactionResult>;
}

/** The SOAP transactions this gateway serves, by WS-Addressing Action. */
export const TRANSACTIONS: Transaction[] = [
  {
    name: 'ITI-41',
    action: SOAP_ACTION.iti41,
    handle: async (request, attachments, ctx) => ({ bodyXml: await provideAndRegisterDocumentSet(request, attachments, ctx) }),
  },
  {
    name: 'ITI-43',
    action: SOAP_ACTION.iti43,
    handle: async (request, _attachments, ctx) => retrieveDocumentSet(request.body, ctx),
  },
  {
    name: 'ITI-42',
    action: SOAP_ACTION.iti42,
    handle: async (request, _attachments, ctx) => ({ bodyXml: await registerDocumentSet(request.body, ctx) }),
  },
  {
    name: 'ITI-57',
    action: SOAP_ACTION.iti57,
    handle: async (request, _attachments, ctx) => ({ bodyXml: await updateDocumentSet(request.body, ctx) }),
  },
  {
    name: 'ITI-62',
    action: SOAP_ACTION.iti62,
    handle: async (request, _attachments, ctx) => ({ bodyXml: await deleteDocumentSet(request, ctx.caller ?? callerOf(request), ctx) }),
  },
  {
    name: 'ITI-18',
    action: SOAP_ACTION.iti18,
    handle: (request, _attachments, ctx) => registryStoredQuery(request.body, ctx),
  },
];

export const transactionByAction = new Map(TRANSACTIONS.map((t) => [t.action, t]));
