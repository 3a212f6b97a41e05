import type { AuditEvent, AuditOutcome } from '../audit/message.js';
import { TRANSACTION_AUDIT } from '../audit/subjects.js';
import { transactionEvent } from '../audit/transaction.js';
import type { GatewayContext } from '../context.js';
import type { AuthenticatedCaller } from '../policy/caller.js';

/** Where a console request came from and which page served it (the audit record's network part). */
export interface ConsoleRequest {
  sourceAddress?: string;
  destination: string;
}

/**
 * Audits a console read as the SOAP transaction it stands for (ITI-18 for a search, ITI-43 for opening a
 * document): same EventID, action and EventTypeCode, so the ATNA repository and the patient's access
 * history show it like the SOAP access; the destination names the console page.
 */
export async function auditAsTransaction(
  ctx: GatewayContext,
  transaction: 'ITI-18' | 'ITI-43',
  caller: AuthenticatedCaller,
  request: ConsoleRequest,
  subjects: { patientIds: string[]; documentIds: string[]; outcome: AuditOutcome; description?: string; query?: { id: string; text: string } },
): Promise<void> {
  if (!ctx.audit) return;
  await ctx.audit.record(
    transactionEvent(ctx, TRANSACTION_AUDIT[transaction]!, transaction, {
      outcome: subjects.outcome,
      outcomeDescription: subjects.description,
      caller,
      sourceAddress: request.sourceAddress,
      destination: request.destination,
      patientIds: subjects.patientIds,
      documentIds: subjects.documentIds,
      query: subjects.query,
    }),
  );
}

/**
 * Audits a patient's operation on their record with the event codes of the records API
 * (src/http/records.ts), so that both channels read the same in the access history.
 */
export async function auditRecordOperation(
  ctx: GatewayContext,
  op: { code: string; display: string; action: AuditEvent['action']; eventId: AuditEvent['eventId'] },
  caller: AuthenticatedCaller | undefined,
  request: ConsoleRequest,
  subjects: { patientIds: string[]; documentIds: string[]; outcome: AuditOutcome },
): Promise<void> {
  await ctx.audit?.record({
    at: ctx.clock?.() ?? new Date(),
    eventId: op.eventId,
    action: op.action,
    eventType: { code: op.code, system: 'urn:dmp-xds-gateway:api', display: op.display },
    outcome: subjects.outcome,
    caller,
    requestorId: caller ? undefined : 'console',
    sourceAddress: request.sourceAddress,
    destination: request.destination,
    patientIds: subjects.patientIds,
    documentIds: subjects.documentIds,
  });
}
