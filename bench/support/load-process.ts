/**
 * The load generator process (started by load.ts): receives a LoadSpec over IPC, drives the target
 * on keep-alive connections (one undici Agent per run, a connection per client), answers a LoadResult.
 */
import { Agent, request } from 'undici';
import { buildIti18Request, buildIti41Request, buildIti43Request, soapContentType, soapEnvelope } from '../../test/support/requests.js';
import { documentFactory } from './documents.js';
import { drive, driveAtRate } from './drive.js';
import { ECHO_ACTION, echoBody, type LoadResult, type LoadSpec, type Workload } from './load.js';

const MAX_REGISTERED = 5000;

const ECHO_TEXT = 'Compte rendu de biologie ' + 'x'.repeat(200);

interface Attempt {
  ok: boolean;
  text: string;
  registered?: string[];
}

type Sender = (i: number) => Promise<Attempt>;

function sender(base: string, w: Workload, agent: Agent): Sender {
  const post = async (path: string, contentType: string, body: Buffer | string): Promise<{ status: number; text: string }> => {
    const res = await request(`${base}${path}`, { method: 'POST', headers: { 'content-type': contentType }, body, dispatcher: agent });
    return { status: res.statusCode, text: await res.body.text() };
  };
  switch (w.kind) {
    case 'iti41': {
      const make = documentFactory(w.document);
      return async (i) => {
        const patientId = w.patients[i % w.patients.length]!;
        const documents = Array.from({ length: w.documents }, () => ({ bytes: make(patientId) }));
        const req = buildIti41Request({ patientId, documents }, 'mtom');
        const r = await post('/xds/iti41', req.contentType, req.body);
        const ok = r.status === 200 && r.text.includes('ResponseStatusType:Success');
        return { ok, text: r.text, registered: ok ? req.uniqueIds.documents : undefined };
      };
    }
    case 'iti43':
      return async (i) => {
        const ids = Array.from({ length: w.perRequest }, (_, k) => w.uniqueIds[(i * w.perRequest + k) % w.uniqueIds.length]!);
        const req = buildIti43Request(ids.map((documentUniqueId) => ({ repositoryUniqueId: w.repositoryUniqueId, documentUniqueId })));
        const r = await post('/xds/iti43', req.contentType, req.body);
        const parts = r.text.split('<xdsb:DocumentResponse').length - 1;
        return { ok: r.status === 200 && r.text.includes('ResponseStatusType:Success') && parts === w.perRequest, text: r.text };
      };
    case 'iti18-unknown-query':
      return async () => {
        const req = buildIti18Request({ queryId: 'urn:uuid:00000000-0000-4000-8000-00000000b0b0', params: {} });
        const r = await post('/xds/iti18', req.contentType, req.body);
        return { ok: r.status === 200 && r.text.includes('XDSUnknownStoredQuery'), text: r.text };
      };
    case 'echo-unsupported-action':
    case 'echo':
      return async () => {
        const envelope = soapEnvelope(ECHO_ACTION, echoBody(ECHO_TEXT), { to: `${base}${w.path}` });
        const r = await post(w.path, soapContentType(ECHO_ACTION), envelope);
        const ok = w.kind === 'echo' ? r.status === 200 && r.text.includes(ECHO_TEXT) : r.status === 400 && r.text.includes('ActionNotSupported');
        return { ok, text: r.text };
      };
  }
}

/** The XDS errors or SOAP fault reason of a failed answer, else its first 300 characters. */
function describeFailure(text: string): string {
  const errors = [...text.matchAll(/<(?:\w+:)?RegistryError\b([^>]*)/g)].map((m) => {
    const attr = (name: string) => new RegExp(`${name}="([^"]*)"`).exec(m[1]!)?.[1] ?? '';
    return `${attr('errorCode')}: ${attr('codeContext')}`.slice(0, 300);
  });
  if (errors.length) return errors.slice(0, 3).join(' | ');
  const reason = /<(?:\w+:)?Reason>\s*<(?:\w+:)?Text[^>]*>([^<]*)/.exec(text)?.[1];
  return reason ? `SOAP fault: ${reason}` : text.slice(0, 300);
}

async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const clients = spec.concurrency ?? 256;
  const agent = new Agent({ connections: clients, pipelining: 1, keepAliveTimeout: 60_000, bodyTimeout: 120_000, headersTimeout: 120_000 });
  const send = sender(spec.base, spec.workload, agent);
  const registered: string[][] = [];
  const failures: string[] = [];
  const run = async (i: number): Promise<number | undefined> => {
    let attempt: Attempt;
    try {
      attempt = await send(i);
    } catch (err) {
      attempt = { ok: false, text: `request failed: ${(err as Error).message}` };
    }
    if (attempt.registered && registered.length < MAX_REGISTERED) registered.push(attempt.registered);
    if (attempt.ok) return 1;
    if (failures.length < 5) failures.push(describeFailure(attempt.text));
    return undefined;
  };
  const cpu = process.cpuUsage();
  try {
    const { figures } = spec.rate
      ? await driveAtRate(spec.scenario, spec.rate, spec.seconds * 1000, run, clients)
      : await drive(spec.scenario, clients, spec.seconds * 1000, run);
    const used = process.cpuUsage(cpu);
    return { figures, registered, failures, cpuSeconds: (used.user + used.system) / 1e6 };
  } finally {
    await agent.close();
  }
}

process.on('message', (spec: LoadSpec) => {
  runLoad(spec).then(
    (result) => process.send!({ result }),
    (err: unknown) => process.send!({ error: err instanceof Error ? err.stack ?? err.message : String(err) }),
  );
});
process.on('disconnect', () => process.exit(0));
process.send!({ ready: true });
