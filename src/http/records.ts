import { timingSafeEqual } from 'node:crypto';
import express, { Router, type Request, type Response } from 'express';
import { EVENT_ID, type AuditEvent, type AuditOutcome } from '../audit/message.js';
import type { GatewayContext } from '../context.js';
import { parseCx } from '../ebrim/cx.js';
import type { PatientCaller } from '../policy/caller.js';
import { issuePatientToken, verifyPatientToken } from '../policy/patient-token.js';
import { purgeDueRecords } from '../policy/purge.js';
import { filterEntries } from '../policy/rules.js';
import {
  closeRecord,
  CONSENT_CHANNELS,
  createRecord,
  isPatientDocument,
  patientEntries,
  readRecord,
  recordState,
  setDocumentMasked,
  setEmergencyAccess,
  setProfessionalBlocked,
  type ConsentChannel,
} from '../policy/records.js';
import { addPatientDocument } from '../transactions/patient-document.js';
import { OPENAPI_DOCUMENT } from './openapi.js';

/** Who calls the records API: the patient with their session token, or the trusted front end with its key. */
type ApiCaller = { kind: 'front-end' } | PatientCaller;

interface Outcome {
  status: number;
  body: unknown;
  /** The patient the call concerns, for the audit trail and the access history. */
  patientId?: string;
  documentIds?: string[];
}

interface Operation {
  code: string;
  display: string;
  action: AuditEvent['action'];
  /** Who may call it. */
  allow: (caller: ApiCaller, patientId: string | undefined) => boolean;
  run: (req: Request, caller: ApiCaller, patientId: string | undefined) => Promise<Outcome>;
  /** Largest JSON body, bytes (default 16 kB). */
  bodyLimit?: number;
}

const json = express.json({ limit: '16kb' });
const fail = (status: number, error: string, message: string, patientId?: string): Outcome => ({ status, body: { error, message }, patientId });

/** The patient's record under /api: consent, closing, the patient's settings, the access history (OpenAPI at /api/openapi.json). */
export function recordsRouter(ctx: GatewayContext): Router {
  const router = Router();
  const now = (): Date => ctx.clock?.() ?? new Date();
  const own = (caller: ApiCaller, patientId: string | undefined): boolean => caller.kind === 'patient' && caller.patientId === patientId;
  const ownOrFrontEnd = (caller: ApiCaller, patientId: string | undefined): boolean => caller.kind === 'front-end' || own(caller, patientId);
  const frontEnd = (caller: ApiCaller): boolean => caller.kind === 'front-end';
  const db = ctx.registry.db;

  router.get('/openapi.json', (_req, res) => {
    res.json(OPENAPI_DOCUMENT);
  });

  const route = (method: 'get' | 'post' | 'put' | 'delete', path: string, op: Operation): void => {
    router[method](path, op.bodyLimit ? express.json({ limit: op.bodyLimit }) : json, async (req: Request, res: Response) => {
      const caller = authenticate(req, ctx, now());
      const patientId = typeof req.params.patientId === 'string' ? req.params.patientId : undefined;
      let outcome: Outcome;
      try {
        if (!caller) outcome = fail(401, 'unauthenticated', 'a patient session token or the front-end key is required (Authorization: Bearer)', patientId);
        else if (!op.allow(caller, patientId)) outcome = fail(403, 'forbidden', 'this caller may not do this on this record', patientId);
        else if (patientId !== undefined && !validPatientId(patientId, ctx)) outcome = fail(400, 'invalid_patient_id', `patientId must be <INS>^^^&${ctx.config.patientAuthority}&ISO`);
        else outcome = await op.run(req, caller, patientId);
      } catch (err) {
        ctx.logger.error({ err: (err as Error).message, operation: op.code }, 'records API failure');
        outcome = fail(503, 'registry_unavailable', 'the registry database is not available', patientId);
      }
      await audit(ctx, op, caller, outcome, req, now());
      res.status(outcome.status).json(outcome.body);
    });
  };

  route('post', '/patient-sessions', {
    code: 'PATIENT-SESSION',
    display: 'Patient session token issued',
    action: 'E',
    allow: frontEnd,
    run: async (req) => {
      const patientId: unknown = req.body?.patientId;
      if (!ctx.config.patientTokenSecret) return fail(503, 'not_configured', 'PATIENT_TOKEN_SECRET is not set: no patient session can be opened');
      if (typeof patientId !== 'string' || !validPatientId(patientId, ctx)) return fail(400, 'invalid_patient_id', `patientId must be <INS>^^^&${ctx.config.patientAuthority}&ISO`);
      const issued = issuePatientToken(ctx.config.patientTokenSecret, patientId, ctx.config.patientTokenTtlSeconds, now());
      return { status: 201, body: issued, patientId };
    },
  });

  route('post', '/records', {
    code: 'RECORD-CREATE',
    display: 'Record created with the patient consent',
    action: 'C',
    allow: () => true,
    run: async (req, caller) => {
      const patientId: unknown = req.body?.patientId;
      const channel: unknown = caller.kind === 'patient' ? 'patient-online' : req.body?.consentChannel;
      if (typeof patientId !== 'string' || !validPatientId(patientId, ctx)) return fail(400, 'invalid_patient_id', `patientId must be <INS>^^^&${ctx.config.patientAuthority}&ISO`);
      if (caller.kind === 'patient' && caller.patientId !== patientId) return fail(403, 'forbidden', 'a patient opens their own record only', patientId);
      if (!CONSENT_CHANNELS.includes(channel as ConsentChannel)) return fail(400, 'invalid_consent_channel', `consentChannel must be one of ${CONSENT_CHANNELS.join(', ')}`, patientId);
      if (req.body?.consent !== true) return fail(400, 'consent_required', 'a record is opened only with the patient consent: send "consent": true', patientId);
      const createdBy = caller.kind === 'patient' ? caller.patientId : typeof req.body?.createdBy === 'string' ? req.body.createdBy : undefined;
      const result = await createRecord(db, { patientId, channel: channel as ConsentChannel, createdBy }, now());
      if (result === 'closed') return fail(409, 'record_closed', 'the record of this patient is closed', patientId);
      return { status: result === 'created' ? 201 : 200, body: await readRecord(db, patientId), patientId };
    },
  });

  route('get', '/records/:patientId', {
    code: 'RECORD-READ',
    display: 'Record settings read',
    action: 'R',
    allow: ownOrFrontEnd,
    run: async (_req, _caller, patientId) => {
      const record = await readRecord(db, patientId!);
      return record ? { status: 200, body: record, patientId } : fail(404, 'no_record', 'the patient has no record', patientId);
    },
  });

  route('post', '/records/:patientId/close', {
    code: 'RECORD-CLOSE',
    display: 'Record closed',
    action: 'U',
    allow: ownOrFrontEnd,
    run: async (req, _caller, patientId) => {
      const reason = typeof req.body?.reason === 'string' ? req.body.reason.slice(0, 500) : undefined;
      if (!(await closeRecord(db, patientId!, reason, now(), ctx.config.recordRetentionYears))) return fail(404, 'no_open_record', 'the patient has no open record', patientId);
      return { status: 200, body: await readRecord(db, patientId!), patientId };
    },
  });

  const setting = (code: string, display: string, action: AuditEvent['action'], change: (req: Request, patientId: string) => Promise<boolean | Outcome>): Operation => ({
    code,
    display,
    action,
    allow: own,
    run: async (req, _caller, patientId) => {
      const done = await change(req, patientId!);
      if (typeof done === 'object') return done;
      if (!done) return fail(404, 'no_open_record', 'the patient has no open record', patientId);
      return { status: 200, body: await readRecord(db, patientId!), patientId };
    },
  });

  route('put', '/records/:patientId/blocked-professionals/:professionalId', setting('PROFESSIONAL-BLOCK', 'Professional blocked', 'U', (req, patientId) =>
    setProfessionalBlocked(db, patientId, String(req.params.professionalId), true, now()),
  ));
  route('delete', '/records/:patientId/blocked-professionals/:professionalId', setting('PROFESSIONAL-UNBLOCK', 'Professional unblocked', 'U', (req, patientId) =>
    setProfessionalBlocked(db, patientId, String(req.params.professionalId), false, now()),
  ));
  route('put', '/records/:patientId/emergency-access', setting('EMERGENCY-ACCESS', 'Emergency access setting', 'U', async (req, patientId) => {
    const access: unknown = req.body?.access;
    if (access !== 'allowed' && access !== 'refused') return fail(400, 'invalid_request', 'body must be {"access": "allowed" | "refused"}', patientId);
    return setEmergencyAccess(db, patientId, access);
  }));
  const mask = (masked: boolean) => async (req: Request, patientId: string): Promise<boolean | Outcome> => {
    const uniqueId = String(req.params.documentUniqueId);
    if (!(await isPatientDocument(db, patientId, uniqueId))) return fail(404, 'no_document', 'no such document in this record', patientId);
    return setDocumentMasked(db, patientId, uniqueId, masked, now());
  };
  route('put', '/records/:patientId/masked-documents/:documentUniqueId', setting('DOCUMENT-MASK', 'Document masked from professionals', 'U', mask(true)));
  route('delete', '/records/:patientId/masked-documents/:documentUniqueId', setting('DOCUMENT-UNMASK', 'Document unmasked', 'U', mask(false)));

  route('post', '/records/:patientId/documents', {
    code: 'PATIENT-DOCUMENT',
    display: 'Document added by the patient',
    action: 'C',
    allow: own,
    bodyLimit: ctx.config.maxRequestBytes,
    run: async (req, caller, patientId) => {
      const { title, mimeType, content } = (req.body ?? {}) as { title?: unknown; mimeType?: unknown; content?: unknown };
      if (typeof title !== 'string' || !title.trim() || typeof mimeType !== 'string' || !/^[\w.+-]+\/[\w.+-]+$/.test(mimeType) || typeof content !== 'string' || !content) {
        return fail(400, 'invalid_request', 'body must be {"title": "...", "mimeType": "type/subtype", "content": "<base64>"}', patientId);
      }
      const added = await addPatientDocument(ctx, caller as PatientCaller, { title: title.trim(), mimeType, bytes: Buffer.from(content, 'base64') }, now());
      if (added.errors.length) return { status: 422, body: { error: 'document_refused', errors: added.errors }, patientId };
      return { status: 201, body: { uniqueId: added.uniqueId }, patientId, documentIds: [added.uniqueId] };
    },
  });

  route('get', '/records/:patientId/documents', {
    code: 'PATIENT-DOCUMENT-LIST',
    display: 'Documents listed by the patient',
    action: 'R',
    allow: own,
    run: async (_req, caller, patientId) => {
      const entries = await patientEntries(db, patientId!);
      const shown = filterEntries(caller as PatientCaller, patientId!, await recordState(db, patientId!), entries, now());
      if (shown.refusal) return fail(403, 'refused', shown.refusal.error.message, patientId);
      const documents = shown.visible.map((e) => ({ uniqueId: e.uniqueId, title: e.title, mimeType: e.mimeType, registeredAt: e.registeredAt.toISOString(), addedByPatient: Boolean(e.addedByPatient) }));
      return { status: 200, body: { patientId, documents }, patientId, documentIds: documents.map((d) => d.uniqueId) };
    },
  });

  route('get', '/records/:patientId/access-history', {
    code: 'ACCESS-HISTORY',
    display: 'Access history read',
    action: 'R',
    allow: own,
    run: async (_req, _caller, patientId) => {
      if (!ctx.audit) return fail(503, 'not_configured', 'no audit trail');
      return { status: 200, body: { patientId, events: await ctx.audit.history(patientId!) }, patientId };
    },
  });

  route('post', '/records/purge', {
    code: 'RECORD-PURGE-RUN',
    display: 'Purge of closed records run',
    action: 'E',
    allow: frontEnd,
    run: async () => ({ status: 200, body: { purged: await purgeDueRecords({ ...ctx, clock: now }) } }),
  });
  return router;
}

function validPatientId(patientId: string, ctx: GatewayContext): boolean {
  const cx = parseCx(patientId);
  return Boolean(cx && cx.authority === ctx.config.patientAuthority);
}

/** The front end by its key, or a patient by a valid session token; nobody otherwise. */
function authenticate(req: Request, ctx: GatewayContext, now: Date): ApiCaller | undefined {
  const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  if (!m) return undefined;
  const token = m[1]!;
  const key = ctx.config.frontEndKey;
  if (key && token.length === key.length && timingSafeEqual(Buffer.from(token), Buffer.from(key))) return { kind: 'front-end' };
  return ctx.config.patientTokenSecret ? verifyPatientToken(ctx.config.patientTokenSecret, token, now) : undefined;
}

const outcomeOf = (status: number): AuditOutcome => (status < 400 ? 0 : status < 500 ? 4 : 8);

async function audit(ctx: GatewayContext, op: Operation, caller: ApiCaller | undefined, outcome: Outcome, req: Request, at: Date): Promise<void> {
  await ctx.audit?.record({
    at,
    eventId: op.code === 'PATIENT-SESSION' ? EVENT_ID.userAuthenticated : EVENT_ID.patientRecord,
    action: op.action,
    eventType: { code: op.code, system: 'urn:dmp-xds-gateway:api', display: op.display },
    outcome: outcomeOf(outcome.status),
    caller: caller?.kind === 'patient' ? caller : undefined,
    requestorId: caller?.kind === 'front-end' ? 'front-end' : undefined,
    sourceAddress: req.socket.remoteAddress,
    destination: `${req.method} ${req.baseUrl}${req.route?.path ?? req.path}`,
    patientIds: outcome.patientId ? [outcome.patientId] : [],
    documentIds: outcome.documentIds ?? (typeof req.params.documentUniqueId === 'string' ? [req.params.documentUniqueId] : []),
  });
}
