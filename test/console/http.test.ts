import { expect } from 'chai';
import { request } from 'undici';
import { loadConfig, ConfigError } from '../../src/config.js';
import { createTestIdp, DOCTOR, type TestIdp } from '../policy/idp.js';
import { AUDIENCE } from '../policy/support.js';
import { DMP_CODES, makeLabResult, newPatientId } from '../support/requests.js';
import { ConsoleClient, mainText, OPERATOR_KEY, seedFailedIndexJob, startConsoleGateway, type ConsoleGateway } from './support.js';

const CSP = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'";
const DR = { name: 'Dr Lucie TEST', professionalId: '810009876543', role: '10', organisationId: '1999000099', organisationName: 'Cabinet (fictif)', purpose: 'normal' };
const enc = encodeURIComponent;

async function signInProfessional(client: ConsoleClient, who: Record<string, string> = DR): Promise<void> {
  await client.get('/console/pro/login');
  const reply = await client.post('/console/pro/login', who);
  expect(reply.status, reply.text).to.equal(303);
}

describe('console over HTTP: professional, patient and operator views', function () {
  this.timeout(60_000);
  let cg: ConsoleGateway;
  let patientId: string;
  let replaced: string;
  let current: string;
  let masked: string;

  before(async () => {
    cg = await startConsoleGateway();
    patientId = await cg.openRecord();
    replaced = (await cg.submit({ patientId, documents: [{ bytes: makeLabResult(patientId), title: 'Bilan sanguin de janvier' }] }))[0]!;
    current = await cg.replace(patientId, replaced, { title: 'Bilan sanguin corrigé' });
    masked = (await cg.submit({ patientId, documents: [{ bytes: makeLabResult(patientId), title: 'Sérologie confidentielle', confidentiality: [DMP_CODES.normal, DMP_CODES.masquePs] }] }))[0]!;
  });
  after(async () => {
    await cg?.close();
  });

  it('serves every page with the Content-Security-Policy, nosniff, no-store and no script', async () => {
    const client = new ConsoleClient(cg.url);
    for (const path of ['/console/', '/console/pro/login', '/console/patient/login', '/console/operator/login', '/console/nowhere']) {
      const reply = await client.get(path);
      expect(reply.headers['content-security-policy'], path).to.equal(CSP);
      expect(reply.headers['x-content-type-options'], path).to.equal('nosniff');
      expect(reply.headers['cache-control'], path).to.equal('no-store');
      expect(reply.text, path).not.to.match(/<script|\son\w+=/i);
    }
    expect((await client.get('/console/nowhere')).status).to.equal(404);
    const css = await client.get('/console/console.css');
    expect(css.headers['content-type']).to.match(/^text\/css/);
  });

  it('speaks French by default and English when the browser asks for it, with the lang attribute', async () => {
    expect((await new ConsoleClient(cg.url).get('/console/')).text).to.include('<html lang="fr">').and.include('Console web de la passerelle XDS');
    const en = new ConsoleClient(cg.url, { 'accept-language': 'en-GB,en;q=0.9,fr;q=0.5' });
    expect((await en.get('/console/')).text).to.include('<html lang="en">').and.include('Web console of the XDS gateway');
    const switched = await en.get('/console/?lang=fr');
    expect(switched.text).to.include('<html lang="fr">');
    expect((await en.get('/console/')).text, 'the switch is remembered').to.include('<html lang="fr">');
  });

  it('keeps the session in an HttpOnly, SameSite=Strict cookie of /console, signed so that a changed one is refused', async () => {
    const client = new ConsoleClient(cg.url);
    await signInProfessional(client);
    const cookie = client.lastSetCookie.find((c) => c.startsWith('xdsgw_console_session='))!;
    expect(cookie).to.match(/HttpOnly/).and.match(/SameSite=Strict/).and.match(/Path=\/console/);
    expect((await client.get('/console/pro')).status).to.equal(200);
    const [payload, mac] = client.jar.get('xdsgw_console_session')!.split('.');
    const forged = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as { caller: { professionalId: string } };
    forged.caller.professionalId = DOCTOR.professionalId;
    client.jar.set('xdsgw_console_session', `${Buffer.from(JSON.stringify(forged)).toString('base64url')}.${mac}`);
    const reply = await client.get('/console/pro');
    expect(reply.status).to.equal(303);
    expect(reply.location).to.equal('/console/pro/login');
  });

  it('refuses a POST without the CSRF token, or with the token of another browser', async () => {
    const client = new ConsoleClient(cg.url);
    await client.get('/console/pro/login');
    expect((await client.post('/console/pro/login', { ...DR, _csrf: '' })).status).to.equal(403);
    const other = new ConsoleClient(cg.url);
    await other.get('/console/pro/login');
    const reply = await client.post('/console/pro/login', { ...DR, _csrf: other.csrf! });
    expect(reply.status).to.equal(403);
    expect(mainText(reply.text)).to.include('Ce formulaire a expiré');
  });

  it('reports every problem of the professional form at once, each tied to its field', async () => {
    const client = new ConsoleClient(cg.url, { 'accept-language': 'en' });
    await client.get('/console/pro/login');
    const reply = await client.post('/console/pro/login', { ...DR, name: '', professionalId: 'x', role: '99' });
    expect(reply.status).to.equal(400);
    expect(reply.text).to.include('The form has 3 problem(s)');
    expect(reply.text).to.include('aria-describedby="professionalId-error"').and.include('aria-invalid="true"');
    expect(mainText(reply.text)).to.include('This field is required.').and.include('Not a national professional id').and.include('Choose a role from the list.');
  });

  it("finds the patient's documents through FindDocuments and the ITI-18 policy: a document masked from professionals is absent", async () => {
    const client = new ConsoleClient(cg.url, { 'accept-language': 'en' });
    await signInProfessional(client);
    const all = await client.get(`/console/pro?patientId=${enc(patientId)}&status=all`);
    expect(all.status).to.equal(200);
    expect(all.text).to.include(`/console/pro/documents/${enc(current)}`).and.include(`/console/pro/documents/${enc(replaced)}`);
    expect(all.text).to.include('Bilan sanguin corrigé').and.include('Bilan sanguin de janvier');
    expect(all.text).not.to.include(enc(masked));
    expect(all.text).not.to.include('Sérologie confidentielle');
    expect(all.text).to.include('<option value="11502-2^^2.16.840.1.113883.6.1">CR d&#39;examens biologiques (11502-2)</option>').and.not.include('Digital Signature');
    const byType = await client.get(`/console/pro?patientId=${enc(patientId)}&typeCode=${enc('11502-2^^2.16.840.1.113883.6.1')}&classCode=${enc('10^^1.2.250.1.213.1.1.4.1')}`);
    expect(mainText(byType.text)).to.include('1 document(s) found').and.include('Bilan sanguin corrigé');
    const otherType = await client.get(`/console/pro?patientId=${enc(patientId)}&typeCode=${enc('11490-0^^2.16.840.1.113883.6.1')}`);
    expect(mainText(otherType.text)).to.include('0 document(s) found');
    const deprecated = await client.get(`/console/pro?patientId=${enc(patientId)}&status=deprecated`);
    expect(deprecated.text).to.include('Bilan sanguin de janvier').and.not.include('Bilan sanguin corrigé');
    const tomorrow = new Date(Date.now() + 86400_000).toISOString().slice(0, 10);
    expect(mainText((await client.get(`/console/pro?patientId=${enc(patientId)}&from=${tomorrow}`)).text)).to.include('0 document(s) found');
  });

  it('shows the author of a masked document that document (the policy, not the console, decides)', async () => {
    const author = new ConsoleClient(cg.url);
    await signInProfessional(author, { ...DR, name: 'Hélène VERNIER-ESSAI', professionalId: '899700000011', organisationId: '1999000017' });
    expect((await author.get(`/console/pro?patientId=${enc(patientId)}`)).text).to.include('Sérologie confidentielle');
    expect((await author.get(`/console/pro/documents/${enc(masked)}`)).status).to.equal(200);
  });

  it('refuses malformed search values with a precise message per field', async () => {
    const client = new ConsoleClient(cg.url, { 'accept-language': 'en' });
    await signInProfessional(client);
    const reply = await client.get(`/console/pro?patientId=123&from=2026-02-30&to=yesterday&status=gone&classCode=${enc("x' or 1=1")}`);
    expect(reply.status).to.equal(400);
    const text = mainText(reply.text);
    expect(text).to.include('Not a patient id of this affinity domain').and.include('Not a date (YYYY-MM-DD).').and.include('Choose a status from the list.').and.include('Not a code of the list.');
  });

  it('asks to narrow a search that matches more documents than a page lists', async () => {
    const crowded = await cg.openRecord();
    const notes = Array.from({ length: 501 }, (_, i) => ({ bytes: Buffer.from(`note ${i}`), mimeType: 'text/plain', title: `Note ${i}` }));
    await cg.submit({ patientId: crowded, documents: notes });
    const client = new ConsoleClient(cg.url, { 'accept-language': 'en' });
    await signInProfessional(client);
    const text = mainText((await client.get(`/console/pro?patientId=${enc(crowded)}`)).text);
    expect(text).to.match(/50[12] documents match, too many to list: narrow the search/);
    expect(text).not.to.include('Note 1');
  });

  it('answers a masked document as an unknown one, as ITI-43 does', async () => {
    const client = new ConsoleClient(cg.url, { 'accept-language': 'en' });
    await signInProfessional(client);
    const reply = await client.get(`/console/pro/documents/${enc(masked)}`);
    expect(reply.status).to.equal(404);
    expect(mainText(reply.text)).to.include(`There is no document ${masked} in this repository that you may read.`);
    expect((await client.get('/console/pro/documents/1.2.3.4.5')).status).to.equal(404);
  });

  it('opens a document with its narrative, its signature status and its replacement history', async () => {
    const client = new ConsoleClient(cg.url, { 'accept-language': 'en' });
    await signInProfessional(client);
    const reply = await client.get(`/console/pro/documents/${enc(current)}`);
    expect(reply.status).to.equal(200);
    const text = mainText(reply.text);
    expect(text).to.include('Signed, and the signature verifies.');
    expect(text).to.include('Bilan sanguin de janvier').and.include('was replaced by this document (RPLC)');
    expect(text).to.include('HÉMATOLOGIE').and.include('Numération formule sanguine');
    const old = mainText((await client.get(`/console/pro/documents/${enc(replaced)}`)).text);
    expect(old).to.include('Replaced (deprecated)').and.include('this document was replaced by Bilan sanguin corrigé');
  });

  it('refuses the whole search with the rule when the patient has blocked the professional', async () => {
    const client = new ConsoleClient(cg.url, { 'accept-language': 'en' });
    await signInProfessional(client);
    const token = await cg.patientToken(patientId);
    const block = (method: 'PUT' | 'DELETE') =>
      request(`${cg.url}/api/records/${enc(patientId)}/blocked-professionals/${DR.professionalId}`, { method, headers: { authorization: `Bearer ${token}` } }).then((r) => r.body.text());
    await block('PUT');
    try {
      const reply = await client.get(`/console/pro?patientId=${enc(patientId)}`);
      expect(mainText(reply.text)).to.include('access refused by rule PROFESSIONAL_BLOCKED').and.not.include('Bilan sanguin');
      expect((await client.get(`/console/pro/documents/${enc(current)}`)).status).to.equal(403);
    } finally {
      await block('DELETE');
    }
  });

  it("audits console searches and openings as ITI-18 and ITI-43, in the patient's access history", async () => {
    const client = new ConsoleClient(cg.url);
    const who = { ...DR, professionalId: '810001112223' };
    await signInProfessional(client, who);
    await client.get(`/console/pro?patientId=${enc(patientId)}`);
    await client.get(`/console/pro/documents/${enc(current)}`);
    const token = await cg.patientToken(patientId);
    const res = await request(`${cg.url}/api/records/${enc(patientId)}/access-history`, { headers: { authorization: `Bearer ${token}` } });
    const { events } = (await res.body.json()) as { events: { operation: string; userId: string; userName: string; documentIds: string[]; outcome: number }[] };
    const mine = events.filter((e) => e.userId === who.professionalId);
    expect(mine.map((e) => e.operation)).to.deep.equal(['ITI-18', 'ITI-43']);
    expect(mine[0]!.userName).to.equal(DR.name);
    expect(mine[1]!.documentIds).to.deep.equal([current]);
    expect(mine.every((e) => e.outcome === 0)).to.equal(true);
  });

  it('lets the patient mask and unmask a document, block and unblock a professional and set emergency access', async () => {
    const client = new ConsoleClient(cg.url, { 'accept-language': 'en' });
    await client.get('/console/patient/login');
    const signedIn = await client.post('/console/patient/login', { token: await cg.patientToken(patientId) });
    expect(signedIn.location).to.equal('/console/patient');
    const page = mainText((await client.get('/console/patient')).text);
    expect(page).to.include('Bilan sanguin corrigé').and.include('Sérologie confidentielle');

    const masking = await client.post('/console/patient/masked-documents', { uniqueId: current, masked: 'true' });
    expect(masking.location).to.equal('/console/patient?done=masked');
    expect(mainText((await client.get(masking.location!)).text)).to.include('The document is masked from professionals.');
    const pro = new ConsoleClient(cg.url);
    await signInProfessional(pro);
    expect((await pro.get(`/console/pro?patientId=${enc(patientId)}`)).text).not.to.include('Bilan sanguin corrigé');
    await client.post('/console/patient/masked-documents', { uniqueId: current, masked: 'false' });
    expect((await pro.get(`/console/pro?patientId=${enc(patientId)}`)).text).to.include('Bilan sanguin corrigé');

    expect((await client.post('/console/patient/blocked-professionals', { professionalId: '810005556667', blocked: 'true' })).location).to.equal('/console/patient?done=blocked');
    expect(mainText((await client.get('/console/patient')).text)).to.include('810005556667');
    expect((await client.post('/console/patient/blocked-professionals', { professionalId: '810005556667', blocked: 'false' })).location).to.equal('/console/patient?done=unblocked');
    expect((await client.post('/console/patient/blocked-professionals', { professionalId: '<b>', blocked: 'true' })).location).to.equal('/console/patient?error=professional-id');

    expect((await client.post('/console/patient/emergency-access', { access: 'refused' })).location).to.equal('/console/patient?done=emergency');
    expect((await client.get('/console/patient')).text).to.match(/id="emergency-refused" name="access" value="refused" checked/);
    await client.post('/console/patient/emergency-access', { access: 'allowed' });
    expect((await client.post('/console/patient/masked-documents', { uniqueId: '1.2.3.4', masked: 'true' })).location).to.equal('/console/patient?error=no-document');

    const history = mainText((await client.get('/console/patient')).text);
    expect(history).to.include('Who accessed my record').and.include('Document masked by you').and.include('Professional blocked by you').and.include(`by ${DR.name}`);
    expect(history).to.match(/Your own \d+ consultation\(s\) of this page are not listed/);
  });

  it('refuses a patient token that is not valid, and lets nobody into the patient view without one', async () => {
    const client = new ConsoleClient(cg.url, { 'accept-language': 'en' });
    expect((await client.get('/console/patient')).location).to.equal('/console/patient/login');
    await client.get('/console/patient/login');
    const token = await cg.patientToken(newPatientId());
    const reply = await client.post('/console/patient/login', { token: token.slice(0, -2) + 'xx' });
    expect(reply.status).to.equal(400);
    expect(mainText(reply.text)).to.include('This token is not valid, or it has expired.');
  });

  it('shows operators the queues, the registry size and the metrics, and retries a failed job', async () => {
    const failed = await seedFailedIndexJob(cg.gw);
    const client = new ConsoleClient(cg.url, { 'accept-language': 'en' });
    expect((await client.get('/console/operator')).location).to.equal('/console/operator/login');
    await client.get('/console/operator/login');
    expect((await client.post('/console/operator/login', { key: 'not-the-operator-key-0123456789' })).status).to.equal(401);
    expect((await client.post('/console/operator/login', { key: OPERATOR_KEY })).location).to.equal('/console/operator');
    const page = await client.get('/console/operator');
    const text = mainText(page.text);
    expect(text).to.include('Queues').and.include('Registry size').and.include(failed).and.include('XDSRegistryBusy');
    expect(text).to.match(/Document entries \d+/);
    expect(text).to.match(/ITI-41 \d+/);
    const retried = await client.post('/console/operator/jobs/retry', { queue: 'index', jobId: failed });
    expect(retried.location).to.equal('/console/operator?done=retried');
    expect((await client.post('/console/operator/jobs/retry', { queue: 'index', jobId: 'no-such-job' })).location).to.equal('/console/operator?error=no-job');
    expect((await client.post('/console/operator/jobs/retry', { queue: 'other', jobId: failed })).status).to.equal(400);
  });

  it('signs out by clearing the session', async () => {
    const client = new ConsoleClient(cg.url);
    await signInProfessional(client);
    expect((await client.post('/console/logout', {})).location).to.equal('/console/');
    expect((await client.get('/console/pro')).location).to.equal('/console/pro/login');
  });
});

describe('console with AUTHENTICATION=required: professionals sign in with a VIHF assertion', function () {
  this.timeout(60_000);
  let cg: ConsoleGateway;
  let idp: TestIdp;
  let patientId: string;

  before(async () => {
    idp = await createTestIdp();
    cg = await startConsoleGateway({ AUTHENTICATION: 'required', VIHF_IDP_CERTS: idp.certDir, VIHF_AUDIENCE: AUDIENCE });
    patientId = await cg.openRecord();
    await cg.submit({ patientId, documents: [{ bytes: makeLabResult(patientId), title: 'Bilan VIHF' }] }, idp.security(idp.assertion({ audience: AUDIENCE })));
  });
  after(async () => {
    await cg?.close();
    await idp?.close();
  });

  it('offers no declared identity, only the assertion, and signs in with a valid one (XML or base64)', async () => {
    const client = new ConsoleClient(cg.url, { 'accept-language': 'en' });
    const form = await client.get('/console/pro/login');
    expect(form.text).to.include('name="assertion"').and.not.include('name="professionalId"');
    const reply = await client.post('/console/pro/login', { assertion: Buffer.from(idp.assertion({ audience: AUDIENCE })).toString('base64') });
    expect(reply.status, reply.text).to.equal(303);
    const search = await client.get(`/console/pro?patientId=${enc(patientId)}`);
    expect(search.text).to.include('Bilan VIHF').and.include(`Signed in as ${DOCTOR.name}`);
    const xml = new ConsoleClient(cg.url);
    await xml.get('/console/pro/login');
    expect((await xml.post('/console/pro/login', { assertion: idp.assertion({ audience: AUDIENCE }) })).status).to.equal(303);
  });

  it('refuses a tampered, unsigned or expired assertion with the reason', async () => {
    const client = new ConsoleClient(cg.url, { 'accept-language': 'en' });
    await client.get('/console/pro/login');
    const cases = [
      idp.assertion({ audience: AUDIENCE }).replace(DOCTOR.structureId, '1999000099'),
      idp.unsignedAssertion({ audience: AUDIENCE }),
      idp.assertion({ audience: AUDIENCE, notBefore: new Date(Date.now() - 7200_000), notOnOrAfter: new Date(Date.now() - 3600_000) }),
      '<not-xml',
    ];
    for (const assertion of cases) {
      const reply = await client.post('/console/pro/login', { assertion });
      expect(reply.status).to.equal(400);
      expect(mainText(reply.text)).to.include('The assertion was refused:');
      expect(client.jar.has('xdsgw_console_session')).to.equal(false);
    }
  });
});

describe('console on the embedded registry (PGlite, as npm start runs it)', function () {
  this.timeout(60_000);
  let cg: ConsoleGateway;

  before(async () => {
    cg = await startConsoleGateway({}, 'pglite');
  });
  after(async () => {
    await cg?.close();
  });

  it('searches with code choices, opens a document with its history and serves the patient and operator views', async () => {
    const patientId = await cg.openRecord();
    const first = (await cg.submit({ patientId, documents: [{ bytes: makeLabResult(patientId), title: 'Bilan embarqué' }] }))[0]!;
    await cg.replace(patientId, first, { title: 'Bilan embarqué corrigé' });
    const pro = new ConsoleClient(cg.url, { 'accept-language': 'en' });
    await signInProfessional(pro);
    const search = await pro.get(`/console/pro?patientId=${enc(patientId)}&status=all`);
    expect(mainText(search.text)).to.include('2 document(s) found');
    expect(search.text).to.include('CR d&#39;examens biologiques (11502-2)</option>');
    expect(mainText((await pro.get(`/console/pro/documents/${enc(first)}`)).text)).to.include('this document was replaced by Bilan embarqué corrigé (');
    const patient = new ConsoleClient(cg.url);
    await patient.get('/console/patient/login');
    await patient.post('/console/patient/login', { token: await cg.patientToken(patientId) });
    expect(mainText((await patient.get('/console/patient')).text)).to.include('Bilan embarqué corrigé');
    const operator = new ConsoleClient(cg.url, { 'accept-language': 'en' });
    await operator.get('/console/operator/login');
    await operator.post('/console/operator/login', { key: OPERATOR_KEY });
    expect(mainText((await operator.get('/console/operator')).text)).to.match(/Document entries 4/);
  });
});

describe('console configuration', () => {
  it('requires an operator key of 24 characters and a session secret of 32, and sessions of a minute at least', () => {
    expect(() => loadConfig({ CONSOLE_OPERATOR_KEY: 'short' })).to.throw(ConfigError, /CONSOLE_OPERATOR_KEY must be at least 24 characters/);
    expect(() => loadConfig({ CONSOLE_SESSION_SECRET: 'short' })).to.throw(ConfigError, /CONSOLE_SESSION_SECRET must be at least 32 characters/);
    expect(() => loadConfig({ CONSOLE_SESSION_TTL_SECONDS: '5' })).to.throw(ConfigError, /CONSOLE_SESSION_TTL_SECONDS/);
    const config = loadConfig({});
    expect(config.consoleOperatorKey).to.equal(undefined);
    expect(config.consoleSessionTtlSeconds).to.equal(1800);
  });
});
