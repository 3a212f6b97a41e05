import type { Request, Response } from 'express';
import { auditSoapTransaction, responseOutcome } from '../audit/transaction.js';
import type { GatewayContext } from '../context.js';
import { registryResponseXml } from '../ebrim/response.js';
import { responseAction } from '../ebrim/uuids.js';
import { transactionOfEndpoint } from '../metrics/gateway-metrics.js';
import { parseEnvelope, responseEnvelope, actionNotSupported, type SoapRequest } from '../soap/envelope.js';
import { SoapFault, faultEnvelope, SOAP_CONTENT_TYPE } from '../soap/fault.js';
import { buildMtomResponse, readSoapMessage } from '../soap/mtom.js';
import type { Transaction } from '../transactions/index.js';
import { headOf, piecesBuffer } from '../xml/pieces.js';

/**
 * One SOAP endpoint: reads the (possibly MTOM) message, checks the envelope and WS-Addressing,
 * runs the transaction named by the Action if this endpoint serves it, and answers in SOAP 1.2.
 */
export function soapEndpoint(transactions: Map<string, Transaction>, ctx: GatewayContext) {
  return async (req: Request, res: Response): Promise<void> => {
    let relatesTo: string | undefined;
    let audited: { transaction: string; request: SoapRequest } | undefined;
    const network = { sourceAddress: req.socket.remoteAddress, destination: req.originalUrl };
    const requestCtx: GatewayContext = { ...ctx, logger: ctx.logger.child({ requestId: res.locals.requestId as string }) };
    try {
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const incoming = readSoapMessage(req.headers['content-type'], body);
      const request = parseEnvelope(incoming.soapXml);
      relatesTo = request.messageId;
      const transaction = transactions.get(request.action);
      if (!transaction) throw actionNotSupported(request.action);
      res.locals.transaction = transaction.name;
      audited = { transaction: transaction.name, request };
      requestCtx.caller = ctx.authenticator?.authenticate(incoming.soapXml, request);
      const admission = ctx.backpressure?.admit(transaction.name) ?? { admitted: true, release: () => undefined };
      const result = admission.admitted
        ? await transaction.handle(request, incoming.attachments, requestCtx).finally(admission.release)
        : { bodyXml: registryResponseXml([admission.error]) };
      // The status and errors are in the body's first piece: a large answer is not searched through.
      const head = headOf(result.bodyXml);
      await auditSoapTransaction(requestCtx, transaction.name, request, { indicator: responseOutcome(head) }, network);
      const envelope = responseEnvelope({ action: responseAction(transaction.action), relatesTo, bodyXml: result.bodyXml });
      if (result.attachments || incoming.mtom) {
        const mtom = buildMtomResponse(envelope, result.attachments ?? []);
        res.status(200).type(mtom.contentType).send(mtom.body);
      } else {
        res.status(200).type(SOAP_CONTENT_TYPE).send(typeof envelope === 'string' ? envelope : piecesBuffer(envelope));
      }
      ctx.metrics?.response(transaction.name, head, res.locals.startedAt as bigint | undefined);
    } catch (err) {
      if (audited) {
        const description = err instanceof SoapFault ? err.reason : 'internal error';
        await auditSoapTransaction(requestCtx, audited.transaction, audited.request, { indicator: 8, description }, network);
      }
      sendFault(res, err, requestCtx, relatesTo);
    }
  };
}

/** Every failure leaves as a SOAP fault; unexpected ones are logged and answered without internals. */
export function sendFault(res: Response, err: unknown, ctx: GatewayContext, relatesTo?: string): void {
  let fault: SoapFault;
  if (err instanceof SoapFault) {
    fault = err;
  } else {
    ctx.logger.error({ err: err instanceof Error ? { message: err.message, stack: err.stack } : String(err) }, 'unexpected error in SOAP endpoint');
    fault = new SoapFault('Receiver', 'internal error of the gateway; the request was not processed');
  }
  res.locals.fault = fault.code;
  res.status(fault.httpStatus).type(SOAP_CONTENT_TYPE).send(faultEnvelope(fault, { relatesTo }));
  ctx.metrics?.fault((res.locals.transaction as string | undefined) ?? transactionOfEndpoint(res.req.path), fault, res.locals.startedAt as bigint | undefined);
}
