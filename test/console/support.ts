import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { request } from 'undici';
import { ASSOCIATION_TYPE } from '../../src/ebrim/uuids.js';
import { INDEX_QUEUE } from '../../src/queue/jobs.js';
import { REDIS_URL, startTestGateway, type RegistryMode, type TestGateway } from '../support/gateway.js';
import { buildIti41Request, makeLabResult, newPatientId, type DocSpec, type SubmissionSpec } from '../support/requests.js';

export const FRONT_END_KEY = 'console-front-end-key-0123456789abcdef';
export const TOKEN_SECRET = 'console-patient-token-secret-0123456789abcdef';
export const OPERATOR_KEY = 'console-operator-key-0123456789abcdef';
export const SESSION_SECRET = 'console-session-secret-0123456789abcdefghij';
/** A CDA schema that accepts anything under ClinicalDocument (see the file). */
export const PERMISSIVE_CDA_SCHEMA_DIR = fileURLToPath(new URL('./fixtures/permissive-cda/', import.meta.url));

/** The fictitious biologist who authors makeLabResult documents (IdNat_PS, organisation). */
export const LAB_AUTHOR = { professionalId: '899700000011', organisationId: '1999000017' } as const;

export interface ConsoleGateway {
  gw: TestGateway;
  url: string;
  /** Registers the patient and opens their record with consent (through the front end). */
  openRecord(patientId?: string): Promise<string>;
  /** Submits documents with ITI-41 (MTOM), with these SOAP header blocks (a VIHF assertion); returns the uniqueIds. */
  submit(spec: SubmissionSpec, headersXml?: string): Promise<string[]>;
  /** Submits a lab result replacing a registered document (RPLC). */
  replace(patientId: string, replacedUniqueId: string, doc?: Partial<DocSpec>): Promise<string>;
  patientToken(patientId: string): Promise<string>;
  close(): Promise<void>;
}

/** A test gateway (PostgreSQL unless told) with the patient API, the operator key and a fixed console secret, plus seeding helpers. */
export async function startConsoleGateway(env: Record<string, string> = {}, mode: RegistryMode = 'postgres'): Promise<ConsoleGateway> {
  const gw = await startTestGateway(mode, {
    FRONT_END_KEY,
    PATIENT_TOKEN_SECRET: TOKEN_SECRET,
    CONSOLE_OPERATOR_KEY: OPERATOR_KEY,
    CONSOLE_SESSION_SECRET: SESSION_SECRET,
    ...env,
  });
  const api = async (method: 'POST' | 'GET', path: string, body: unknown, token = FRONT_END_KEY) => {
    const res = await request(gw.url + path, { method, headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
    const text = await res.body.text();
    if (res.statusCode >= 300) throw new Error(`${method} ${path}: ${res.statusCode} ${text}`);
    return JSON.parse(text) as Record<string, unknown>;
  };
  const submit = async (spec: SubmissionSpec, headersXml?: string): Promise<string[]> => {
    const req = buildIti41Request(spec, 'mtom', { headersXml });
    const reply = await gw.post('/xds/iti41', req);
    if (!reply.text.includes('ResponseStatusType:Success')) throw new Error(`ITI-41 refused: ${reply.text.slice(0, 2000)}`);
    return req.uniqueIds.documents;
  };
  return {
    gw,
    url: gw.url,
    async openRecord(patientId = newPatientId()) {
      await api('POST', '/api/records', { patientId, consentChannel: 'hospital', consent: true });
      return patientId;
    },
    submit,
    async replace(patientId, replacedUniqueId, doc = {}) {
      const [row] = await gw.backends.registry.db.query<{ entry_uuid: string }>('select entry_uuid from document_entries where unique_id = $1', [replacedUniqueId]);
      const [uniqueId] = await submit({
        patientId,
        documents: [{ bytes: makeLabResult(patientId), ...doc }],
        associations: [{ type: ASSOCIATION_TYPE.replace, source: 'Document01', target: row!.entry_uuid }],
      });
      return uniqueId!;
    },
    async patientToken(patientId) {
      return String((await api('POST', '/api/patient-sessions', { patientId })).token);
    },
    close: () => gw.close(),
  };
}

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  location?: string;
}

/** A cookie-keeping HTTP client of the console, as a browser without JavaScript uses it (forms, redirects by hand). */
export class ConsoleClient {
  readonly jar = new Map<string, string>();
  /** Set-Cookie lines of the last answer, as sent. */
  lastSetCookie: string[] = [];
  /** The CSRF token of the last page that had a form. */
  csrf?: string;

  constructor(
    private readonly base: string,
    private readonly headers: Record<string, string> = {},
  ) {}

  async get(path: string): Promise<Reply> {
    return this.send('GET', path);
  }

  /** Posts a form; the CSRF token of the last page read is added unless the form has one. */
  async post(path: string, form: Record<string, string>): Promise<Reply> {
    return this.send('POST', path, new URLSearchParams({ _csrf: this.csrf ?? '', ...form }).toString());
  }

  private async send(method: 'GET' | 'POST', path: string, body?: string): Promise<Reply> {
    const cookie = [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await request(this.base + path, {
      method,
      headers: { ...this.headers, ...(cookie ? { cookie } : {}), ...(body !== undefined ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
      body,
    });
    const text = await res.body.text();
    this.lastSetCookie = ([] as string[]).concat(res.headers['set-cookie'] ?? []);
    for (const line of this.lastSetCookie) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (!value || attrs.some((a) => /^\s*expires=Thu, 01 Jan 1970/i.test(a))) this.jar.delete(name);
      else this.jar.set(name, value);
    }
    const token = /name="_csrf" value="([^"]+)"/.exec(text)?.[1];
    if (token) this.csrf = token;
    const location = typeof res.headers.location === 'string' ? res.headers.location : undefined;
    return { status: res.statusCode, headers: res.headers, text, location };
  }
}

/** The text of a page's main element, tags removed, entities of the console's escaping decoded. */
export function mainText(html: string): string {
  const main = html.slice(html.indexOf('<main'), html.indexOf('</main>'));
  return main
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#(\d+);/g, (_m, n: string) => String.fromCharCode(Number(n)))
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * Puts in the real index queue a submission whose deadline has passed, as when the workers were down
 * while the submitter waited: the index worker refuses it (XDSRegistryBusy) and the job ends failed.
 */
export async function seedFailedIndexJob(gw: TestGateway): Promise<string> {
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue(INDEX_QUEUE, { connection, prefix: gw.config.queuePrefix });
  const submissionId = `console-test-${randomUUID()}`;
  try {
    const job = await queue.add('index', { submissionId, metadata: {}, stored: [], deadline: Date.now() - 60_000 }, { jobId: submissionId, attempts: 1 });
    for (let i = 0; i < 200 && !(await job.isFailed()); i++) await new Promise((r) => setTimeout(r, 50));
    if (!(await job.isFailed())) throw new Error('the index worker did not fail the late job');
    return submissionId;
  } finally {
    await queue.close();
    connection.disconnect();
  }
}
