import type { IncomingMessage, ServerResponse } from 'node:http';
import { auditSoapTransaction, responseOutcome } from '../audit/transaction.js';
import type { GatewayContext } from '../context.js';
import { registryResponseXml } from '../ebrim/response.js';
import { responseAction } from '../ebrim/uuids.js';
import { transactionOfEndpoint } from '../metrics/gateway-metrics.js';
import { parseEnvelope, responseEnvelope, actionNotSupported, type SoapRequest } from '../soap/envelope.js';
import { SoapFault, faultEnvelope, SOAP_CONTENT_TYPE } from '../soap/fault.js';
import { buildMtomResponse, readSoapMessage } from '../soap/mtom.js';
import type { Transaction, TransactionResult } from '../transactions/index.js';
import { answerBuffers } from '../xml/buffer-pool.js';
import { headOf, type XmlPiece } from '../xml/pieces.js';
import { BodyError, readBody } from './body.js';
import { beginRequest, pathOf, type LoggedResponse, type RequestLocals } from './request-log.js';

/**
 * One SOAP endpoint, on node:http alone (no framework on the path every transaction takes): reads the
 * (possibly MTOM, possibly compressed) message within MAX_REQUEST_BYTES, checks the envelope and
 * WS-Addressing, runs the transaction named by the Action if this endpoint serves it, and answers in SOAP 1.2.
 */
export function soapEndpoint(transactions: Map<string, Transaction>, ctx: GatewayContext) {
  return async (req: IncomingMessage, res: LoggedResponse): Promise<void> => {
    const locals = beginRequest(req, res, ctx);
    let relatesTo: string | undefined;
    let audited: { transaction: string; request: SoapRequest } | undefined;
    const network = { sourceAddress: req.socket.remoteAddress, destination: req.url ?? '' };
    const requestCtx: GatewayContext = { ...ctx, logger: ctx.logger.child({ requestId: locals.requestId }) };
    try {
      const body = await readBody(req, ctx.config.maxRequestBytes);
      const incoming = readSoapMessage(req.headers['content-type'], body);
      const request = parseEnvelope(incoming.soapXml);
      relatesTo = request.messageId;
      const transaction = transactions.get(request.action);
      if (!transaction) throw actionNotSupported(request.action);
      locals.transaction = transaction.name;
      audited = { transaction: transaction.name, request };
      requestCtx.caller = ctx.authenticator?.authenticate(incoming.soapXml, request);
      const admission = ctx.backpressure?.admit(transaction.name) ?? { admitted: true, release: () => undefined };
      const result: TransactionResult = admission.admitted
        ? await transaction.handle(request, incoming.attachments, requestCtx).finally(admission.release)
        : { bodyXml: registryResponseXml([admission.error]) };
      // The status and errors are in the body's first piece: a large answer is not searched through.
      const head = headOf(result.bodyXml);
      await auditSoapTransaction(requestCtx, transaction.name, request, { indicator: responseOutcome(head) }, network, result.patientIdsOfAnswer);
      const envelope = responseEnvelope({ action: responseAction(transaction.action), relatesTo, bodyXml: result.bodyXml });
      if (result.attachments || incoming.mtom) {
        const mtom = buildMtomResponse(envelope, result.attachments ?? []);
        send(res, 200, mtom.contentType, mtom.body);
      } else {
        send(res, 200, SOAP_CONTENT_TYPE, envelope);
      }
      ctx.metrics?.response(transaction.name, head, locals.startedAt);
    } catch (err) {
      if (audited) {
        const description = err instanceof SoapFault ? err.reason : 'internal error';
        await auditSoapTransaction(requestCtx, audited.transaction, audited.request, { indicator: 8, description }, network);
      }
      sendFault(req, res, err, requestCtx, relatesTo);
    }
  };
}

/**
 * Every failure leaves as a SOAP fault; unexpected ones are logged and answered without internals. A
 * body that was not read to its end (too large, abandoned) closes the connection after the fault.
 */
export function sendFault(req: IncomingMessage, res: LoggedResponse, err: unknown, ctx: GatewayContext, relatesTo?: string): void {
  let fault: SoapFault;
  if (err instanceof SoapFault) {
    fault = err;
  } else {
    ctx.logger.error({ err: err instanceof Error ? { message: err.message, stack: err.stack } : String(err) }, 'unexpected error in SOAP endpoint');
    fault = new SoapFault('Receiver', 'internal error of the gateway; the request was not processed');
  }
  const locals = (res.locals ?? {}) as Partial<RequestLocals>;
  locals.fault = fault.code;
  ctx.metrics?.fault(locals.transaction ?? transactionOfEndpoint(pathOf(req.url)), fault, locals.startedAt);
  if (res.headersSent || res.destroyed) return;
  if (err instanceof BodyError) res.setHeader('Connection', 'close');
  send(res, fault.httpStatus, SOAP_CONTENT_TYPE, faultEnvelope(fault, { relatesTo }));
}

/**
 * An answer; one in pieces (a query answer's objects are one large buffer) goes out as they are, in one write,
 * never copied into one buffer. A buffer lent by answerBuffers is given back once the whole answer has been
 * handed to the operating system ('finish'); an answer cut short ('close' without 'finish') leaves it to the GC.
 */
function send(res: ServerResponse, status: number, contentType: string, body: XmlPiece | XmlPiece[]): void {
  const pieces = Array.isArray(body) ? body : [body];
  res.once('finish', () => {
    for (const p of pieces) if (typeof p !== 'string') answerBuffers.release(p);
  });
  let length = 0;
  for (const p of pieces) length += typeof p === 'string' ? Buffer.byteLength(p) : p.length;
  res.statusCode = status;
  res.setHeader('Content-Type', contentType);
  res.setHeader('Content-Length', length);
  res.cork();
  for (const p of pieces.slice(0, -1)) res.write(p);
  res.end(pieces[pieces.length - 1]);
  res.uncork();
}
