import { request } from 'undici';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { createTestIdp, type TestIdp } from './idp.js';

export const AUDIENCE = 'urn:dmp-xds-gateway:test';
export const FRONT_END_KEY = 'front-end-key-for-tests-0123456789';
export const TOKEN_SECRET = 'patient-token-secret-for-tests-0123456789abcdef';

/** The author of the test submissions (DEFAULT_AUTHOR of test/support/requests.ts): IdNat and structure. */
export const AUTHOR = { professionalId: '899700000011', structureId: '1999000017' } as const;

export interface PolicyGateway {
  gw: TestGateway;
  idp: TestIdp;
  api(method: string, path: string, opts?: { token?: string; body?: unknown }): Promise<{ status: number; body: Record<string, unknown> }>;
  patientToken(patientId: string): Promise<string>;
  openRecord(patientId: string): Promise<string>;
  close(): Promise<void>;
}

/** A gateway with authentication on, trusting a test identity provider, with the patient API configured. */
export async function startPolicyGateway(env: Record<string, string> = {}): Promise<PolicyGateway> {
  const idp = await createTestIdp();
  const gw = await startTestGateway('postgres', {
    AUTHENTICATION: 'required',
    VIHF_IDP_CERTS: idp.certDir,
    VIHF_AUDIENCE: AUDIENCE,
    FRONT_END_KEY,
    PATIENT_TOKEN_SECRET: TOKEN_SECRET,
    ...env,
  });
  const api: PolicyGateway['api'] = async (method, path, opts = {}) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    const res = await request(gw.url + path, { method: method as 'GET', headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
    const text = await res.body.text();
    return { status: res.statusCode, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  };
  const patientToken = async (patientId: string): Promise<string> => {
    const r = await api('POST', '/api/patient-sessions', { token: FRONT_END_KEY, body: { patientId } });
    if (r.status !== 201) throw new Error(`token not issued: ${JSON.stringify(r.body)}`);
    return r.body.token as string;
  };
  return {
    gw,
    idp,
    api,
    patientToken,
    async openRecord(patientId) {
      const token = await patientToken(patientId);
      const r = await api('POST', '/api/records', { token, body: { patientId, consent: true } });
      if (r.status !== 201) throw new Error(`record not created: ${JSON.stringify(r.body)}`);
      return token;
    },
    async close() {
      await gw.close();
      await idp.close();
    },
  };
}

export const recordPath = (patientId: string, rest = ''): string => `/api/records/${encodeURIComponent(patientId)}${rest}`;
