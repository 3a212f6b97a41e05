import type { Logger } from '../log.js';
import type { Db } from '../registry/db.js';
import { callerUserId } from '../policy/caller.js';
import { auditMessageXml, isBreakGlass, type AuditEvent } from './message.js';
import { syslogFrame, type SyslogTlsForwarder } from './syslog.js';

/** One line of a patient's access history, read from the audit trail. */
export interface AccessHistoryEntry {
  at: string;
  /** The IHE transaction or API operation (EventTypeCode). */
  operation: string;
  action: AuditEvent['action'];
  outcome: number;
  userId: string | null;
  userName: string | null;
  organisationId: string | null;
  purposeOfUse: string | null;
  breakGlass: boolean;
  documentIds: string[];
}

interface AuditRow {
  recorded_at: Date | string;
  event_type: string;
  event_action: AuditEvent['action'];
  outcome: number;
  user_id: string | null;
  user_name: string | null;
  organisation_id: string | null;
  purpose_of_use: string | null;
  break_glass: boolean;
  document_ids: string[];
}

/**
 * The ATNA audit trail: every event is written to the audit_events table (the record of truth, which the
 * access history reads) and, when an audit repository is configured, forwarded over syslog TLS without
 * waiting. Recording never throws: a failure is logged, the audited operation goes on.
 */
export class AuditTrail {
  constructor(
    private readonly db: Db,
    private readonly source: { sourceId: string; enterpriseSiteId?: string },
    private readonly logger: Logger,
    private readonly forwarder?: SyslogTlsForwarder,
  ) {}

  async record(event: AuditEvent): Promise<void> {
    const message = auditMessageXml(event, this.source);
    try {
      const c = event.caller;
      await this.db.query(
        `insert into audit_events (recorded_at, event_id, event_action, event_type, outcome, user_id, user_name, organisation_id,
           purpose_of_use, break_glass, patient_ids, document_ids, message)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
        [
          event.at.toISOString(),
          event.eventId.code,
          event.action,
          event.eventType.code,
          event.outcome,
          c ? callerUserId(c) : (event.requestorId ?? null),
          c?.kind === 'professional' ? (c.name ?? null) : c ? 'patient' : null,
          c?.organisationId ?? null,
          c?.kind === 'professional' ? c.purposeOfUse : null,
          isBreakGlass(event),
          event.patientIds,
          event.documentIds,
          message,
        ],
        { prepare: true },
      );
    } catch (err) {
      this.logger.error({ err: (err as Error).message, event: event.eventType.code }, 'audit record could not be written');
    }
    this.forwarder?.send(syslogFrame(message, { at: event.at, appName: this.source.sourceId }));
  }

  /** Every audited event that concerns the patient, oldest first. */
  async history(patientId: string): Promise<AccessHistoryEntry[]> {
    const rows = await this.db.query<AuditRow>(
      `select recorded_at, event_type, event_action, outcome, user_id, user_name, organisation_id, purpose_of_use, break_glass, document_ids
         from audit_events where patient_ids @> array[$1]::text[] order by id`,
      [patientId],
    );
    return rows.map((r) => ({
      at: new Date(r.recorded_at).toISOString(),
      operation: r.event_type,
      action: r.event_action,
      outcome: r.outcome,
      userId: r.user_id,
      userName: r.user_name,
      organisationId: r.organisation_id,
      purposeOfUse: r.purpose_of_use,
      breakGlass: r.break_glass,
      documentIds: r.document_ids,
    }));
  }
}
