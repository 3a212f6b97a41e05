import type { GatewayContext } from '../context.js';
import type { SoapRequest } from '../soap/envelope.js';
import type { AuditOutcome } from './message.js';
import { auditSubjects, TRANSACTION_AUDIT } from './subjects.js';

/** Minor failure for a Failure or PartialSuccess answer (refused, nothing or part done), success otherwise. */
export function responseOutcome(bodyXml: string): AuditOutcome {
  return /ResponseStatusType:(Failure|PartialSuccess)"/.test(bodyXml) ? 4 : 0;
}

/** Writes the ATNA record of one SOAP transaction: who, what, which patients and documents, how it ended. */
export async function auditSoapTransaction(
  ctx: GatewayContext,
  transaction: string,
  request: SoapRequest,
  outcome: { indicator: AuditOutcome; description?: string },
  network: { sourceAddress?: string; destination: string },
): Promise<void> {
  if (!ctx.audit) return;
  const kind = TRANSACTION_AUDIT[transaction];
  if (!kind) return;
  const subjects = auditSubjects(request.body);
  if (!subjects.patientIds.length && subjects.documentIds.length) subjects.patientIds = await patientsOfDocuments(ctx, subjects.documentIds);
  await ctx.audit.record({
    at: ctx.clock?.() ?? new Date(),
    eventId: kind.eventId,
    action: kind.action,
    eventType: { code: transaction, system: 'IHE Transactions', display: kind.display },
    outcome: outcome.indicator,
    outcomeDescription: outcome.description,
    caller: ctx.caller,
    sourceAddress: network.sourceAddress,
    destination: network.destination,
    patientIds: subjects.patientIds,
    documentIds: subjects.documentIds,
    query: subjects.query,
  });
}

/** Retrieve and delete requests name documents only: their patients come from the registry. */
async function patientsOfDocuments(ctx: GatewayContext, ids: string[]): Promise<string[]> {
  try {
    const rows = await ctx.registry.db.query<{ patient_id: string }>(
      'select distinct patient_id from document_entries where unique_id = any($1) or entry_uuid = any($1)',
      [ids],
    );
    return rows.map((r) => r.patient_id);
  } catch (err) {
    ctx.logger.error({ err: (err as Error).message }, 'patients of audited documents could not be read');
    return [];
  }
}
