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

/** The columns of audit_events that the access history reads and the insert writes alike. */
interface AuditColumns {
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

/** One audit_events row as the access history reads it. */
interface AuditRow extends AuditColumns {
  recorded_at: Date | string;
}

/** One audit_events row, as the batched insert reads it from JSON. */
interface EventRow extends AuditColumns {
  recorded_at: string;
  event_id: string;
  patient_ids: string[];
  message: string;
}

/** Many events in one statement: the rows travel as one JSON array, inserted in their order (ids follow it). */
const INSERT_EVENTS = `insert into audit_events (recorded_at, event_id, event_action, event_type, outcome, user_id, user_name, organisation_id,
    purpose_of_use, break_glass, patient_ids, document_ids, message)
  select recorded_at, event_id, event_action, event_type, outcome, user_id, user_name, organisation_id,
    purpose_of_use, break_glass, patient_ids, document_ids, message
    from jsonb_to_recordset($1::jsonb) as e(recorded_at timestamptz, event_id text, event_action text, event_type text, outcome int,
      user_id text, user_name text, organisation_id text, purpose_of_use text, break_glass boolean, patient_ids text[], document_ids text[], message text)`;

/** Most events written by one statement. */
const MAX_BATCH = 256;

interface Waiting {
  event: AuditEvent;
  /** The event names documents only: its patients are read from the registry with the batch. */
  patientsOfDocuments: boolean;
  /** Called with the AuditMessage once the row is committed (or its failure logged; '' if it could not be built). */
  written: (message: string) => void;
}

export interface RecordOptions {
  /**
   * When the event names no patient, take the patients of its documents (by uniqueId or entryUUID) from
   * the registry: retrieve and delete requests name documents only. One query serves a whole batch.
   */
  patientsOfDocuments?: boolean;
}

/**
 * The ATNA audit trail: every event is written to the audit_events table (the record of truth, which the
 * access history reads) and, when an audit repository is configured, forwarded over syslog TLS without
 * waiting. Recording never throws: a failure is logged, the audited operation goes on.
 *
 * Writes are group-committed: record() resolves once its event is committed, and the events recorded while
 * one insert runs go together in the next one, so concurrent requests share a statement and a commit instead
 * of paying one each. Nothing is acknowledged before it is durable, so a crash loses no recorded event.
 */
export class AuditTrail {
  private waiting: Waiting[] = [];
  private writing = false;

  constructor(
    private readonly db: Db,
    private readonly source: { sourceId: string; enterpriseSiteId?: string },
    private readonly logger: Logger,
    private readonly forwarder?: SyslogTlsForwarder,
  ) {}

  async record(event: AuditEvent, opts: RecordOptions = {}): Promise<void> {
    const patientsOfDocuments = Boolean(opts.patientsOfDocuments) && !event.patientIds.length && event.documentIds.length > 0;
    const message = await this.write(event, patientsOfDocuments);
    if (message) this.forwarder?.send(syslogFrame(message, { at: event.at, appName: this.source.sourceId }));
  }

  /** Resolves with the AuditMessage when the event is committed (or its failure logged); starts an insert unless one is running. */
  private write(event: AuditEvent, patientsOfDocuments: boolean): Promise<string> {
    return new Promise((written) => {
      this.waiting.push({ event, patientsOfDocuments, written });
      if (!this.writing) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.writing = true;
    try {
      while (this.waiting.length) {
        const batch = this.waiting.splice(0, MAX_BATCH);
        let messages: string[] = [];
        try {
          await this.addPatientsOfDocuments(batch);
          messages = batch.map((w) => auditMessageXml(w.event, this.source));
          await this.insert(batch.map((w, i) => eventRow(w.event, messages[i]!)));
        } catch (err) {
          // Nothing above should throw; if it does, the waiting requests must still go on.
          this.logger.error({ err: (err as Error).message, events: batch.length }, 'audit records could not be written');
        }
        batch.forEach((w, i) => w.written(messages[i] ?? ''));
      }
    } finally {
      this.writing = false;
    }
  }

  /** The patients of the documents named by the events that asked for them, in one query for the batch. */
  private async addPatientsOfDocuments(batch: Waiting[]): Promise<void> {
    const asking = batch.filter((w) => w.patientsOfDocuments);
    if (!asking.length) return;
    let rows: { unique_id: string; entry_uuid: string; patient_id: string }[];
    try {
      rows = await this.db.query(
        'select unique_id, entry_uuid, patient_id from document_entries where unique_id = any($1::text[]) or entry_uuid = any($1::text[])',
        [[...new Set(asking.flatMap((w) => w.event.documentIds))]],
        { prepare: true },
      );
    } catch (err) {
      this.logger.error({ err: (err as Error).message }, 'patients of audited documents could not be read');
      return;
    }
    const patientOf = new Map<string, string[]>();
    for (const r of rows) {
      for (const id of [r.unique_id, r.entry_uuid]) patientOf.set(id, [...(patientOf.get(id) ?? []), r.patient_id]);
    }
    for (const w of asking) {
      w.event = { ...w.event, patientIds: [...new Set(w.event.documentIds.flatMap((id) => patientOf.get(id) ?? []))] };
    }
  }

  /** One statement for the batch; if it fails, row by row, so that one bad event does not take the others with it. */
  private async insert(rows: EventRow[]): Promise<void> {
    try {
      await this.db.query(INSERT_EVENTS, [JSON.stringify(rows)], { prepare: true });
      return;
    } catch (err) {
      if (rows.length === 1) {
        this.logger.error({ err: (err as Error).message, event: rows[0]!.event_type }, 'audit record could not be written');
        return;
      }
    }
    for (const row of rows) await this.insert([row]);
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

function eventRow(event: AuditEvent, message: string): EventRow {
  const c = event.caller;
  return {
    recorded_at: event.at.toISOString(),
    event_id: event.eventId.code,
    event_action: event.action,
    event_type: event.eventType.code,
    outcome: event.outcome,
    user_id: c ? callerUserId(c) : (event.requestorId ?? null),
    user_name: c?.kind === 'professional' ? (c.name ?? null) : c ? 'patient' : null,
    organisation_id: c?.organisationId ?? null,
    purpose_of_use: c?.kind === 'professional' ? c.purposeOfUse : null,
    break_glass: isBreakGlass(event),
    patient_ids: event.patientIds,
    document_ids: event.documentIds,
    message,
  };
}
