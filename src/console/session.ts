import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';
import type { ProfessionalCaller } from '../policy/caller.js';

/** Who is signed in to the console: a professional (VIHF or the test-platform form), a patient, an operator. */
export type ConsoleSession =
  | { kind: 'professional'; caller: ProfessionalCaller; exp: number }
  | { kind: 'patient'; patientId: string; exp: number }
  | { kind: 'operator'; exp: number };

export const SESSION_COOKIE = 'xdsgw_console_session';
const CSRF_COOKIE = 'xdsgw_console_csrf';
export const LANG_COOKIE = 'xdsgw_console_lang';
/** Cookies of the console are sent to the console only. */
export const COOKIE_PATH = '/console';

/**
 * Stateless console sessions: the cookie holds `<payload>.<mac>`, the payload base64url JSON of the session
 * with its expiry, the mac HMAC-SHA-256 with the console secret. HttpOnly, SameSite=Strict, Secure under TLS.
 * CSRF: a random value in its own cookie; every form carries the HMAC of it, which a POST must send back.
 */
export class SessionCodec {
  constructor(
    private readonly secret: string,
    private readonly secure: boolean,
  ) {}

  read(req: Request, now: Date): ConsoleSession | undefined {
    const raw = cookies(req)[SESSION_COOKIE];
    if (!raw) return undefined;
    const [payload, mac] = raw.split('.');
    if (!payload || !mac || !this.macEquals(mac, `session.${payload}`)) return undefined;
    let session: ConsoleSession;
    try {
      session = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as ConsoleSession;
    } catch {
      return undefined;
    }
    if (typeof session.exp !== 'number' || session.exp * 1000 <= now.getTime()) return undefined;
    return session;
  }

  write(res: Response, session: ConsoleSession, now: Date): void {
    const payload = Buffer.from(JSON.stringify(session)).toString('base64url');
    const maxAge = Math.max(0, session.exp * 1000 - now.getTime());
    res.cookie(SESSION_COOKIE, `${payload}.${this.mac(`session.${payload}`)}`, { ...this.cookieOptions(), maxAge });
  }

  clear(res: Response): void {
    res.clearCookie(SESSION_COOKIE, this.cookieOptions());
  }

  /** The form token of this browser, creating its CSRF cookie on first use (called once per request). */
  csrfToken(req: Request, res: Response): string {
    let seed = cookies(req)[CSRF_COOKIE];
    if (!seed || !/^[A-Za-z0-9_-]{32}$/.test(seed)) {
      seed = randomBytes(24).toString('base64url');
      res.cookie(CSRF_COOKIE, seed, this.cookieOptions());
    }
    return this.mac(`csrf.${seed}`);
  }

  /** Does this POST carry the form token of its own CSRF cookie? */
  csrfValid(req: Request, token: unknown): boolean {
    const seed = cookies(req)[CSRF_COOKIE];
    return Boolean(seed) && typeof token === 'string' && this.macEquals(token, `csrf.${seed}`);
  }

  private cookieOptions() {
    return { httpOnly: true, sameSite: 'strict' as const, secure: this.secure, path: COOKIE_PATH };
  }

  private mac(data: string): string {
    return createHmac('sha256', this.secret).update(data).digest('base64url');
  }

  private macEquals(given: string, data: string): boolean {
    const expected = Buffer.from(this.mac(data));
    const actual = Buffer.from(given);
    return actual.length === expected.length && timingSafeEqual(actual, expected);
  }
}

/** The request's cookies (RFC 6265 `name=value; ...`), values URI-decoded. */
export function cookies(req: Request): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq < 1) continue;
    const name = part.slice(0, eq).trim();
    try {
      out[name] = decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      // A cookie of another application that is not URI-encoded: not ours.
    }
  }
  return out;
}

/** A random secret for one process, when none is configured. */
export function processSecret(): string {
  return randomBytes(32).toString('base64url');
}
