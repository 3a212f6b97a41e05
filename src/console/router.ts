import { readFileSync } from 'node:fs';
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import type { GatewayContext } from '../context.js';
import type { PatientCaller } from '../policy/caller.js';
import { html, type SafeHtml } from './html.js';
import { negotiateLanguage, translator, type MessageKey } from './i18n.js';
import { layout, notice, type Page, type Section } from './layout.js';
import { isOperatorKey, patientFromToken, professionalFromAssertion, professionalFromForm } from './login.js';
import { OperatorView, QUEUE_NAMES, type QueueName } from './operator.js';
import { operatorLoginPage, operatorPage } from './operator-pages.js';
import { PROFESSIONAL_ID, patientOverview, setBlocked, setEmergency, setMasked, type SettingResult } from './patient.js';
import { patientLoginPage, patientPage } from './patient-pages.js';
import { findDocuments, openDocument, parseFilters } from './professional.js';
import { documentNotFoundPage, documentPage, documentRefusedPage, proLoginAssertionPage, proLoginFormPage, searchPage } from './pro-pages.js';
import { cookies, COOKIE_PATH, LANG_COOKIE, processSecret, SessionCodec, type ConsoleSession } from './session.js';

/** No script at all: the console is server-rendered and its forms work without JavaScript. */
const CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'";
const STYLESHEET = readFileSync(new URL('./console.css', import.meta.url));

/** Messages shown after an action (the `done` / `error` query parameter of the redirect). */
const DONE: Record<string, MessageKey> = {
  masked: 'doneMasked',
  unmasked: 'doneUnmasked',
  blocked: 'doneBlocked',
  unblocked: 'doneUnblocked',
  emergency: 'doneEmergency',
  retried: 'doneRetried',
};
const FAILED: Record<string, MessageKey> = {
  'no-open-record': 'errNoOpenRecord',
  'no-document': 'errNoDocument',
  'no-job': 'errNoJob',
  'emergency-value': 'errEmergency',
  'professional-id': 'errProfessionalId',
};

type Locals = { page: Page; session?: ConsoleSession };

/**
 * The web console under /console: a professional view (search, documents with their narrative, signature
 * and replacements), a patient view (documents, masking, blocked professionals, emergency access, access
 * history) and an operator view (requests, errors, queues, registry size). Server-rendered, in French and
 * English, no script; every POST carries a CSRF token; sessions are signed cookies.
 */
export function consoleRouter(ctx: GatewayContext): Router {
  const router = Router();
  const now = (): Date => ctx.clock?.() ?? new Date();
  const sessions = new SessionCodec(ctx.config.consoleSessionSecret ?? processSecret(), Boolean(ctx.config.tlsCertFile));
  const operator = new OperatorView(ctx);
  const form = express.urlencoded({ extended: false, limit: '64kb', parameterLimit: 50 });
  const network = (req: Request) => ({ sourceAddress: req.socket.remoteAddress, destination: `${req.method} ${req.baseUrl}${req.path}` });

  router.use((req: Request, res: Response, next: NextFunction) => {
    res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('X-Frame-Options', 'DENY');
    next();
  });

  router.get('/console.css', (_req, res) => {
    res.type('text/css').setHeader('Cache-Control', 'public, max-age=3600');
    res.send(STYLESHEET);
  });

  // Language (switch, then Accept-Language), session and the CSRF token of this browser, for every page.
  router.use((req: Request, res: Response, next: NextFunction) => {
    const asked = typeof req.query.lang === 'string' && (req.query.lang === 'fr' || req.query.lang === 'en') ? req.query.lang : undefined;
    if (asked) res.cookie(LANG_COOKIE, asked, { httpOnly: true, sameSite: 'strict', path: COOKIE_PATH, maxAge: 365 * 86400_000 });
    const lang = negotiateLanguage(asked ?? cookies(req)[LANG_COOKIE], req.headers['accept-language']);
    const session = sessions.read(req, now());
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Content-Language', lang);
    (res.locals as Locals).session = session;
    (res.locals as Locals).page = { lang, t: translator(lang), csrf: sessions.csrfToken(req, res), session, here: req.method === 'GET' ? req.originalUrl : '/console/' };
    next();
  });

  router.post(/.*/, form, (req: Request, res: Response, next: NextFunction) => {
    if (sessions.csrfValid(req, (req.body as Record<string, unknown> | undefined)?._csrf)) return next();
    const { page } = res.locals as Locals;
    send(res, 403, page, 'home', page.t('errorTitle'), notice(page.t('csrfRefused'), 'error'));
  });

  router.get('/', (_req, res) => {
    const { page } = res.locals as Locals;
    const { t } = page;
    send(res, 200, page, 'home', t('homeTitle'), html`<p>${t('homeIntro')}</p>
      <ul class="cards">
        <li><h2><a href="/console/pro">${t('professionalView')}</a></h2><p>${t('homeProfessional')}</p></li>
        <li><h2><a href="/console/patient">${t('patientView')}</a></h2><p>${t('homePatient')}</p></li>
        <li><h2><a href="/console/operator">${t('operatorView')}</a></h2><p>${t('homeOperator')}</p></li>
      </ul>`);
  });

  router.post('/logout', (_req, res) => {
    sessions.clear(res);
    res.redirect(303, '/console/');
  });

  // Professional view.
  router.get('/pro/login', (_req, res) => {
    const { page } = res.locals as Locals;
    const body = ctx.authenticator ? proLoginAssertionPage(page) : proLoginFormPage(page, {}, {});
    send(res, 200, { ...page, here: '/console/pro/login' }, 'pro', page.t('proLoginTitle'), body);
  });

  router.post('/pro/login', (req, res) => {
    const { page } = res.locals as Locals;
    const body = req.body as Record<string, unknown>;
    const here = { ...page, here: '/console/pro/login' };
    const ttlEnd = Math.floor(now().getTime() / 1000) + ctx.config.consoleSessionTtlSeconds;
    if (ctx.authenticator) {
      const signedIn = professionalFromAssertion(ctx, typeof body.assertion === 'string' ? body.assertion : '');
      if ('error' in signedIn) return send(res, 400, here, 'pro', page.t('proLoginTitle'), proLoginAssertionPage(page, signedIn.error));
      const assertionEnd = signedIn.notOnOrAfter ? Math.floor(signedIn.notOnOrAfter.getTime() / 1000) : ttlEnd;
      sessions.write(res, { kind: 'professional', caller: signedIn.caller, exp: Math.min(ttlEnd, assertionEnd) }, now());
    } else {
      const declared = professionalFromForm(body);
      if (!declared.caller) return send(res, 400, here, 'pro', page.t('proLoginTitle'), proLoginFormPage(page, declared.form, declared.errors));
      sessions.write(res, { kind: 'professional', caller: declared.caller, exp: ttlEnd }, now());
    }
    res.redirect(303, '/console/pro');
  });

  router.get('/pro', async (req, res) => {
    const { page, session } = res.locals as Locals;
    if (session?.kind !== 'professional') return res.redirect(303, '/console/pro/login');
    const raw = Object.fromEntries(['patientId', 'classCode', 'typeCode', 'from', 'to', 'status'].map((k) => [k, typeof req.query[k] === 'string' ? (req.query[k] as string) : undefined]));
    let outcome;
    if (raw.patientId !== undefined) {
      const parsed = parseFilters(raw, ctx.config.patientAuthority);
      outcome = parsed.filters ? { filters: parsed.filters, found: await findDocuments(ctx, session.caller, parsed.filters, network(req)) } : { problems: parsed.problems };
    }
    const status = outcome && 'problems' in outcome ? 400 : 200;
    send(res, status, page, 'pro', page.t('proSearchTitle'), searchPage(page, ctx.config.patientAuthority, raw, outcome));
  });

  router.get('/pro/documents/:uniqueId', async (req, res) => {
    const { page, session } = res.locals as Locals;
    if (session?.kind !== 'professional') return res.redirect(303, '/console/pro/login');
    const uniqueId = String(req.params.uniqueId);
    const opened = await openDocument(ctx, session.caller, uniqueId, network(req));
    if (opened.status === 'refused') return send(res, 403, page, 'pro', page.t('refused'), documentRefusedPage(page, opened.error.message));
    if (opened.status === 'not-found') return send(res, 404, page, 'pro', page.t('documentNotFound'), documentNotFoundPage(page, uniqueId));
    send(res, 200, page, 'pro', opened.summary.title || page.t('untitled'), documentPage(page, opened));
  });

  // Patient view.
  router.get('/patient/login', (_req, res) => {
    const { page } = res.locals as Locals;
    send(res, 200, { ...page, here: '/console/patient/login' }, 'patient', page.t('patientLoginTitle'), patientLoginPage(page, ctx.config.patientTokenSecret ? undefined : 'errPatientSessionsClosed'));
  });

  router.post('/patient/login', (req, res) => {
    const { page } = res.locals as Locals;
    const token = (req.body as Record<string, unknown>).token;
    const patient = typeof token === 'string' ? patientFromToken(ctx, token, now()) : undefined;
    if (!patient) {
      const error = ctx.config.patientTokenSecret ? 'errToken' : 'errPatientSessionsClosed';
      return send(res, 400, { ...page, here: '/console/patient/login' }, 'patient', page.t('patientLoginTitle'), patientLoginPage(page, error));
    }
    const exp = Math.min(patient.exp, Math.floor(now().getTime() / 1000) + ctx.config.consoleSessionTtlSeconds);
    sessions.write(res, { kind: 'patient', patientId: patient.patientId, exp }, now());
    res.redirect(303, '/console/patient');
  });

  const asPatient = (res: Response): PatientCaller | undefined => {
    const { session } = res.locals as Locals;
    return session?.kind === 'patient' ? { kind: 'patient', patientId: session.patientId } : undefined;
  };

  router.get('/patient', async (req, res) => {
    const { page } = res.locals as Locals;
    const patient = asPatient(res);
    if (!patient) return res.redirect(303, '/console/patient/login');
    const overview = await patientOverview(ctx, patient, network(req));
    send(res, 200, page, 'patient', page.t('patientTitle'), patientPage(page, overview, flash(page, req)));
  });

  const afterSetting = (res: Response, result: SettingResult, done: string): void => {
    res.redirect(303, result === 'done' ? `/console/patient?done=${done}` : `/console/patient?error=${result}`);
  };

  router.post('/patient/masked-documents', async (req, res) => {
    const patient = asPatient(res);
    if (!patient) return res.redirect(303, '/console/patient/login');
    const body = req.body as Record<string, unknown>;
    if (typeof body.uniqueId !== 'string' || !body.uniqueId || (body.masked !== 'true' && body.masked !== 'false')) return badRequest(res, 'uniqueId and masked=true|false');
    const masked = body.masked === 'true';
    afterSetting(res, await setMasked(ctx, patient, body.uniqueId, masked, network(req)), masked ? 'masked' : 'unmasked');
  });

  router.post('/patient/blocked-professionals', async (req, res) => {
    const patient = asPatient(res);
    if (!patient) return res.redirect(303, '/console/patient/login');
    const body = req.body as Record<string, unknown>;
    if (body.blocked !== 'true' && body.blocked !== 'false') return badRequest(res, 'blocked=true|false');
    const id = typeof body.professionalId === 'string' ? body.professionalId.trim() : '';
    if (!PROFESSIONAL_ID.test(id)) return res.redirect(303, '/console/patient?error=professional-id');
    const blocked = body.blocked === 'true';
    afterSetting(res, await setBlocked(ctx, patient, id, blocked, network(req)), blocked ? 'blocked' : 'unblocked');
  });

  router.post('/patient/emergency-access', async (req, res) => {
    const patient = asPatient(res);
    if (!patient) return res.redirect(303, '/console/patient/login');
    const access = (req.body as Record<string, unknown>).access;
    if (access !== 'allowed' && access !== 'refused') return res.redirect(303, '/console/patient?error=emergency-value');
    afterSetting(res, await setEmergency(ctx, patient, access, network(req)), 'emergency');
  });

  // Operator view.
  router.get('/operator/login', (_req, res) => {
    const { page } = res.locals as Locals;
    send(res, 200, { ...page, here: '/console/operator/login' }, 'operator', page.t('operatorLoginTitle'), operatorLoginPage(page, Boolean(ctx.config.consoleOperatorKey)));
  });

  router.post('/operator/login', (req, res) => {
    const { page } = res.locals as Locals;
    const key = (req.body as Record<string, unknown>).key;
    if (typeof key !== 'string' || !isOperatorKey(ctx, key)) {
      ctx.logger.warn({ sourceAddress: req.socket.remoteAddress }, 'console operator sign-in refused');
      return send(res, 401, { ...page, here: '/console/operator/login' }, 'operator', page.t('operatorLoginTitle'), operatorLoginPage(page, Boolean(ctx.config.consoleOperatorKey), 'errOperatorKey'));
    }
    sessions.write(res, { kind: 'operator', exp: Math.floor(now().getTime() / 1000) + ctx.config.consoleSessionTtlSeconds }, now());
    res.redirect(303, '/console/operator');
  });

  router.get('/operator', async (req, res) => {
    const { page, session } = res.locals as Locals;
    if (session?.kind !== 'operator') return res.redirect(303, '/console/operator/login');
    send(res, 200, page, 'operator', page.t('operatorTitle'), operatorPage(page, await operator.overview(), flash(page, req)));
  });

  router.post('/operator/jobs/retry', async (req, res) => {
    const { session } = res.locals as Locals;
    if (session?.kind !== 'operator') return res.redirect(303, '/console/operator/login');
    const body = req.body as Record<string, unknown>;
    const queue = body.queue as QueueName;
    if (!QUEUE_NAMES.includes(queue) || typeof body.jobId !== 'string' || !body.jobId) return badRequest(res, `queue=${QUEUE_NAMES.join('|')} and jobId`);
    res.redirect(303, (await operator.retry(queue, body.jobId)) ? '/console/operator?done=retried' : '/console/operator?error=no-job');
  });

  router.use((_req: Request, res: Response) => {
    const { page } = res.locals as Locals;
    send(res, 404, page, 'home', page.t('notFoundTitle'), html`<p>${page.t('notFoundText')}</p><p><a href="/console/">${page.t('home')}</a></p>`);
  });

  router.use((err: Error & { status?: number; type?: string }, _req: Request, res: Response, _next: NextFunction) => {
    const page = (res.locals as Partial<Locals>).page ?? { lang: 'fr' as const, t: translator('fr'), csrf: '', here: '/console/' };
    if (err.status && err.status >= 400 && err.status < 500) return send(res, err.status, page, 'home', page.t('errorTitle'), notice(page.t('badRequest', { detail: err.message }), 'error'));
    ctx.logger.error({ err: { message: err.message, stack: err.stack } }, 'console request failed');
    send(res, 503, page, 'home', page.t('errorTitle'), notice(page.t('unavailable'), 'error'));
  });
  return router;
}

function send(res: Response, status: number, page: Page, section: Section, title: string, body: SafeHtml): void {
  res.status(status).type('text/html; charset=utf-8').send(layout(page, { title, section, body }));
}

function badRequest(res: Response, detail: string): void {
  const { page } = res.locals as Locals;
  send(res, 400, page, 'home', page.t('errorTitle'), notice(page.t('badRequest', { detail }), 'error'));
}

function flash(page: Page, req: Request): { text: string; kind: 'done' | 'error' } | undefined {
  const done = typeof req.query.done === 'string' ? DONE[req.query.done] : undefined;
  if (done) return { text: page.t(done), kind: 'done' };
  const failed = typeof req.query.error === 'string' ? FAILED[req.query.error] : undefined;
  return failed ? { text: page.t(failed), kind: 'error' } : undefined;
}
