/**
 * Authentication benchmark (`npm run bench -- policy`):
 *   verify-miss   AssertionVerifier.authenticate on a new assertion (signature checked), in process
 *   verify-hit    the same assertion again (remembered: fingerprint + validity window only)
 *   find-checked    FindDocuments over HTTP with a signed VIHF assertion, checked (cache hit after the first)
 *   find-unchecked  the same request, the assertion not checked
 *   find-no-token   the same query without an assertion
 * One gateway in this process on PostgreSQL with 20 documents; the three alternate request by request.
 * Figures go to bench/results/<date>-policy.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { SOAP_ACTION } from '../src/ebrim/uuids.js';
import { AssertionVerifier } from '../src/policy/saml.js';
import { parseEnvelope } from '../src/soap/envelope.js';
import { createTestIdp } from '../test/policy/idp.js';
import { AUDIENCE, AUTHOR, startPolicyGateway } from '../test/policy/support.js';
import type { TestGateway } from '../test/support/gateway.js';
import { buildIti18Request, buildIti41Request, newPatientId, queryList, queryString, soapEnvelope } from '../test/support/requests.js';
import { median, quantile } from './support/drive.js';
import { round } from './support/proc.js';

const FIND_DOCUMENTS = 'urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 1000);

const p95 = (xs: number[]): number => quantile([...xs].sort((a, b) => a - b), 0.95);

async function inProcess(): Promise<Record<string, { medianMs: number; p95Ms: number; n: number }>> {
  const idp = await createTestIdp();
  try {
    const verifier = new AssertionVerifier({ trustedCertificates: [idp.certPem], audience: AUDIENCE, clockSkewSeconds: 60, cacheSize: 10_000 });
    const envelopes = Array.from({ length: 200 }, () => soapEnvelope(SOAP_ACTION.iti18, '<x:Ping xmlns:x="urn:example"/>', { headersXml: idp.security(idp.assertion()) }));
    const requests = envelopes.map((xml) => ({ xml, request: parseEnvelope(xml) }));
    const time = (fn: () => void): number => {
      const t = process.hrtime.bigint();
      fn();
      return Number(process.hrtime.bigint() - t) / 1e6;
    };
    const miss = requests.map((r) => time(() => verifier.authenticate(r.xml, r.request)));
    const hit: number[] = [];
    for (let i = 0; i < ROUNDS * 5; i++) {
      const r = requests[i % requests.length]!;
      hit.push(time(() => verifier.authenticate(r.xml, r.request)));
    }
    return {
      'verify-miss': { medianMs: round(median(miss)), p95Ms: round(p95(miss)), n: miss.length },
      'verify-hit': { medianMs: round(median(hit)), p95Ms: round(p95(hit)), n: hit.length },
    };
  } finally {
    await idp.close();
  }
}

async function seed(gw: TestGateway, patientId: string, headersXml?: string): Promise<void> {
  const documents = Array.from({ length: 20 }, (_, i) => ({ bytes: Buffer.from(`document ${i}`), mimeType: 'text/plain' }));
  const reply = await gw.post('/xds/iti41', buildIti41Request({ patientId, documents }, 'mtom', { headersXml }));
  if (!reply.text.includes('ResponseStatusType:Success')) throw new Error(`seeding failed: ${reply.text.slice(0, 500)}`);
}

/**
 * One gateway, one data set, requests interleaved so that machine load falls on all alike: the same
 * FindDocuments with its assertion checked (authenticator on) or not checked (authenticator taken off the
 * context between requests), and without any assertion (the cost of carrying the token).
 */
async function overHttp(): Promise<Record<string, { medianMs: number; p95Ms: number; n: number }>> {
  const p = await startPolicyGateway();
  try {
    const patientId = newPatientId();
    await p.openRecord(patientId);
    const security = p.idp.security(p.idp.assertion({ ...AUTHOR, issueInstant: new Date(), notOnOrAfter: new Date(Date.now() + 3600_000) }));
    await seed(p.gw, patientId, security);
    const query = (headersXml?: string) =>
      buildIti18Request(
        { queryId: FIND_DOCUMENTS, params: { $XDSDocumentEntryPatientId: queryString(patientId), $XDSDocumentEntryStatus: queryList('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved') } },
        { headersXml },
      );
    const withToken = query(security);
    const bare = query();
    const ctx = p.gw.gateway.context;
    const authenticator = ctx.authenticator;
    const timeOne = async (q: ReturnType<typeof query>, checked: boolean): Promise<number> => {
      ctx.authenticator = checked ? authenticator : undefined;
      const t = process.hrtime.bigint();
      const reply = await p.gw.post('/xds/iti18', q);
      const ms = Number(process.hrtime.bigint() - t) / 1e6;
      if (!reply.text.includes('ResponseStatusType:Success')) throw new Error(`query failed: ${reply.text.slice(0, 500)}`);
      return ms;
    };
    for (let i = 0; i < 50; i++) {
      await timeOne(withToken, true);
      await timeOne(withToken, false);
    }
    const checked: number[] = [];
    const unchecked: number[] = [];
    const noToken: number[] = [];
    const kinds = [() => timeOne(withToken, true).then((ms) => checked.push(ms)), () => timeOne(withToken, false).then((ms) => unchecked.push(ms)), () => timeOne(bare, false).then((ms) => noToken.push(ms))];
    for (let i = 0; i < ROUNDS; i++) {
      // A different order each round, so that no kind always follows another.
      for (const k of [...kinds].sort(() => Math.random() - 0.5)) await k();
    }
    ctx.authenticator = authenticator;
    return {
      'find-no-token': { medianMs: round(median(noToken)), p95Ms: round(p95(noToken)), n: noToken.length },
      'find-unchecked': { medianMs: round(median(unchecked)), p95Ms: round(p95(unchecked)), n: unchecked.length },
      'find-checked': { medianMs: round(median(checked)), p95Ms: round(p95(checked)), n: checked.length },
    };
  } finally {
    await p.close();
  }
}

const figures = { ...(await inProcess()), ...(await overHttp()) };
const added = round(figures['find-checked']!.medianMs - figures['find-unchecked']!.medianMs);
for (const [name, f] of Object.entries(figures)) console.log(`${name.padEnd(12)} median ${f.medianMs} ms  p95 ${f.p95Ms} ms  (n=${f.n})`);
console.log(`checking the assertion adds ${added} ms to the median FindDocuments (shared 2-core machine)`);
mkdirSync('bench/results', { recursive: true });
const file = `bench/results/${new Date().toISOString().slice(0, 10)}-policy.json`;
writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), rounds: ROUNDS, figures, addedMedianMs: added, note: 'machine shared with other jobs' }, null, 2));
console.log(`written ${file}`);
process.exit(0);
