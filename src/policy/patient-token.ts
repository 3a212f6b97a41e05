import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import type { PatientCaller } from './caller.js';

/**
 * Patient session tokens: `v1.<payload>.<mac>`, the payload base64url JSON {sub: patient CX, iat, exp, jti}
 * and the mac HMAC-SHA-256 of `v1.<payload>` with PATIENT_TOKEN_SECRET. The identity front end that
 * authenticated the patient has one issued; the gateway keeps no session state.
 */
export function issuePatientToken(secret: string, patientId: string, ttlSeconds: number, now: Date): { token: string; expiresAt: string } {
  const iat = Math.floor(now.getTime() / 1000);
  const payload = Buffer.from(JSON.stringify({ sub: patientId, iat, exp: iat + ttlSeconds, jti: randomUUID() })).toString('base64url');
  const signed = `v1.${payload}`;
  return { token: `${signed}.${mac(secret, signed)}`, expiresAt: new Date((iat + ttlSeconds) * 1000).toISOString() };
}

/** The patient a valid, unexpired token names; undefined for anything else. */
export function verifyPatientToken(secret: string, token: string, now: Date): PatientCaller | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== 'v1') return undefined;
  const expected = Buffer.from(mac(secret, `v1.${parts[1]}`));
  const given = Buffer.from(parts[2]!);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  let claims: { sub?: unknown; exp?: unknown };
  try {
    claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as typeof claims;
  } catch {
    return undefined;
  }
  if (typeof claims.sub !== 'string' || typeof claims.exp !== 'number' || claims.exp * 1000 <= now.getTime()) return undefined;
  return { kind: 'patient', patientId: claims.sub };
}

const mac = (secret: string, data: string): string => createHmac('sha256', secret).update(data).digest('base64url');
