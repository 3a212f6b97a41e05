import type { GatewayContext } from '../context.js';
import { SOAP_ACTION } from '../ebrim/uuids.js';
import type { SoapRequest } from '../soap/envelope.js';
import { provideAndRegisterDocumentSet } from './iti41.js';
import { retrieveDocumentSet } from './iti43.js';

export interface TransactionResult {
  bodyXml: string;
  /** Present when the response carries documents: it then goes out as MTOM. */
  attachments?: { contentId: string; contentType: string; body: Buffer }[];
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
];

export const transactionByAction = new Map(TRANSACTIONS.map((t) => [t.action, t]));
