import { expect } from 'chai';
import { httpGet, httpPost, startTestGateway, type HttpReply, type TestGateway } from '../support/gateway.js';
import { buildIti18Request, buildIti41Request, buildIti43Request, makeLabResult, newPatientId, queryList, queryString } from '../support/requests.js';
import { faultOf, readSoapReply, registryResponseOf } from '../support/responses.js';
import { missingStoredBytes, STORED_BYTES_COLUMNS, type StoredBytesRow } from '../support/stored-bytes.js';
import { mutate, type Message } from './mutate.js';

/** `npm run fuzz` raises these; CI runs the default few thousand cases, bounded in time too. */
const CASES = Number(process.env.FUZZ_CASES ?? 2000);
const SECONDS = Number(process.env.FUZZ_SECONDS ?? 60);
/** A fixed seed in CI (reproducible); `FUZZ_SEED=random` for long runs, each failure names the seed of its case. */
const SEED = process.env.FUZZ_SEED === 'random' ? Math.floor(Math.random() * 1e6) : Number(process.env.FUZZ_SEED ?? 9);

type Kind = 'iti41-mtom' | 'iti41-inline' | 'iti18' | 'iti43';
const KINDS: Kind[] = ['iti41-mtom', 'iti41-inline', 'iti18', 'iti43'];
const PATH: Record<Kind, string> = { 'iti41-mtom': '/xds/iti41', 'iti41-inline': '/xds/iti41', iti18: '/xds/iti18', iti43: '/xds/iti43' };
const FIND_DOCUMENTS = 'urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d';

/** What is wrong with an answer, if anything: a 5xx that is not a SOAP fault, an internal error, or an unreadable answer. */
function problemOf(reply: HttpReply): string | undefined {
  if (reply.status >= 500 || reply.status >= 400) {
    if (!/^application\/soap\+xml/.test(reply.contentType)) return `${reply.status} without a SOAP fault (${reply.contentType})`;
    try {
      const fault = faultOf(reply);
      if (fault.code === 'Receiver') return `internal error (Receiver fault): ${fault.reason}`;
      return undefined;
    } catch (err) {
      return `${reply.status} with an unreadable SOAP fault: ${(err as Error).message}`;
    }
  }
  if (reply.status !== 200) return `unexpected HTTP status ${reply.status}`;
  try {
    readSoapReply(reply);
    return undefined;
  } catch (err) {
    return `200 with an unreadable answer: ${(err as Error).message}`;
  }
}

/** Status of a RegistryResponse (ITI-41), of an AdhocQueryResponse (ITI-18) or of the one inside a RetrieveDocumentSetResponse (ITI-43). */
function statusOf(reply: HttpReply): string {
  const body = readSoapReply(reply).body;
  return body.attrs.status ? body.attrs.status.split(':').pop()! : registryResponseOf(body).status;
}

describe('fuzzing with mutated valid ITI-41, ITI-18 and ITI-43 requests', function () {
  this.timeout((SECONDS + 60) * 1000);
  let gw: TestGateway;
  let patientId: string;
  let registeredUniqueId: string;

  before(async () => {
    gw = await startTestGateway('pglite', { MAX_REQUEST_BYTES: String(4 * 1024 * 1024) });
    patientId = newPatientId();
    expect(await gw.registerPatient(patientId)).to.equal(201);
    const seedDoc = buildIti41Request({ patientId, documents: [{ bytes: makeLabResult(patientId, { sizeKb: 2 }) }] }, 'mtom');
    expect(registryResponseOf(readSoapReply(await gw.post('/xds/iti41', seedDoc)).body).status).to.equal('Success');
    registeredUniqueId = seedDoc.uniqueIds.documents[0]!;
  });
  after(async () => {
    await gw?.close();
  });

  function base(kind: Kind): Message {
    switch (kind) {
      case 'iti41-mtom':
      case 'iti41-inline':
        return buildIti41Request({ patientId, documents: [{ bytes: makeLabResult(patientId, { sizeKb: 1 }) }, { bytes: Buffer.from('plain text document'), mimeType: 'text/plain' }] }, kind === 'iti41-mtom' ? 'mtom' : 'inline');
      case 'iti18':
        return buildIti18Request({ queryId: FIND_DOCUMENTS, params: { $XDSDocumentEntryPatientId: queryString(patientId), $XDSDocumentEntryStatus: queryList('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved') } });
      case 'iti43':
        return buildIti43Request([{ repositoryUniqueId: gw.config.repositoryUniqueId, documentUniqueId: registeredUniqueId }]);
    }
  }

  it(`answers ${CASES} mutated requests with no crash, no 5xx other than a SOAP fault, and no partial registration`, async () => {
    const end = Date.now() + SECONDS * 1000;
    const problems: string[] = [];
    const outcomes = new Map<string, number>();
    let ran = 0;
    for (let i = 0; i < CASES && Date.now() < end && problems.length < 20; i++) {
      const kind = KINDS[i % KINDS.length]!;
      const seed = SEED * 1_000_003 + i;
      const { message, steps } = mutate(base(kind), seed);
      const submission = kind.startsWith('iti41');
      const before = submission ? await gw.backends.registry.counts() : undefined;
      let reply: HttpReply;
      try {
        reply = await httpPost(gw.url + PATH[kind], message.contentType, message.body);
      } catch (err) {
        problems.push(`seed ${seed} ${kind} [${steps.join(',')}]: no answer: ${(err as Error).message}`);
        continue;
      }
      ran++;
      const problem = problemOf(reply);
      if (problem) problems.push(`seed ${seed} ${kind} [${steps.join(',')}]: ${problem}`);
      let status = `${reply.status}`;
      if (reply.status === 200 && !problem) status = statusOf(reply);
      outcomes.set(`${kind} ${status}`, (outcomes.get(`${kind} ${status}`) ?? 0) + 1);
      if (before) {
        const after = await gw.backends.registry.counts();
        const grew = { sets: after.submissionSets - before.submissionSets, entries: after.documentEntries - before.documentEntries };
        const ok = status === 'Success' ? grew.sets === 1 && grew.entries >= 1 : grew.sets === 0 && grew.entries === 0;
        if (!ok) problems.push(`seed ${seed} ${kind} [${steps.join(',')}]: answered ${status} but the registry grew by ${JSON.stringify(grew)}`);
      }
    }
    if (process.env.FAULT_REPORT || process.env.FUZZ_CASES) console.log(`      ${ran} cases: ${[...outcomes].sort().map(([k, v]) => `${k}: ${v}`).join('; ')}`);

    expect((await httpGet(`${gw.url}/health`)).status).to.equal(200);
    const rows = await gw.backends.db.query<StoredBytesRow>(`SELECT ${STORED_BYTES_COLUMNS} FROM document_entries`);
    expect(await missingStoredBytes(rows, gw.backends.content)).to.deep.equal([]);
    expect(problems).to.deep.equal([]);
    expect(ran).to.be.greaterThan(Math.min(CASES, 500));
  });
});
