import type { GatewayContext } from '../context.js';
import type { SoapRequest } from '../soap/envelope.js';
import type { AuditEvent, AuditOutcome } from './message.js';
import { auditSubjects, TRANSACTION_AUDIT } from './subjects.js';

// ebRS writes urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:…, IHE urn:ihe:iti:2007:ResponseStatusType:PartialSuccess.
const RESPONSE_STATUS = 'ResponseStatusType:';

/**
 * Minor failure for a Failure or PartialSuccess answer (refused, nothing or part done), success otherwise.
 * The response status is the first one of the body (on its root or the root's first child): the search
 * stops there instead of running through the objects of a large answer, whose values cannot fool it.
 */
export function responseOutcome(bodyXml: string): AuditOutcome {
  const at = bodyXml.indexOf(RESPONSE_STATUS);
  if (at === -1) return 0;
  const from = at + RESPONSE_STATUS.length;
  return bodyXml.startsWith('Failure"', from) || bodyXml.startsWith('PartialSuccess"', from) ? 4 : 0;
}

/**
 * Writes the ATNA record of one SOAP transaction: who, what, which patients and documents, how it ended.
 * The patients are those the request names, else those of what the transaction found (patientIdsOfAnswer).
 */
export async function auditSoapTransaction(
  ctx: GatewayContext,
  transaction: string,
  request: SoapRequest,
  outcome: { indicator: AuditOutcome; description?: string },
  network: { sourceAddress?: string; destination: string },
  patientIdsOfAnswer?: string[],
): Promise<void> {
  if (!ctx.audit) return;
  const kind = TRANSACTION_AUDIT[transaction];
  if (!kind) return;
  const subjects = auditSubjects(request.body);
  const patientIds = subjects.patientIds.length ? subjects.patientIds : (patientIdsOfAnswer ?? []);
  // Retrieve and delete requests, and queries by id, name documents only: unless the transaction found their
  // patients, the trail reads them with its batch.
  await ctx.audit.record(
    transactionEvent(ctx, kind, transaction, {
      outcome: outcome.indicator,
      outcomeDescription: outcome.description,
      caller: ctx.caller,
      sourceAddress: network.sourceAddress,
      destination: network.destination,
      patientIds,
      documentIds: subjects.documentIds,
      query: subjects.query,
    }),
    { patientsOfDocuments: true },
  );
}

/** The audit event of an IHE transaction, whichever door it came through (SOAP or the console). */
export function transactionEvent(
  ctx: GatewayContext,
  kind: (typeof TRANSACTION_AUDIT)[string],
  transaction: string,
  what: Omit<AuditEvent, 'at' | 'eventId' | 'action' | 'eventType'>,
): AuditEvent {
  return {
    at: ctx.clock?.() ?? new Date(),
    eventId: kind.eventId,
    action: kind.action,
    eventType: { code: transaction, system: 'IHE Transactions', display: kind.display },
    ...what,
  };
}
