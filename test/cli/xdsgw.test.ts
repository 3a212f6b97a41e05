import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { createDsgSignature } from '../../src/signature/sign.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { makeLabResult, newPatientId, SAMPLES_CDA_DIR } from '../support/requests.js';
import { testCa, testSigner } from '../signature/pki.js';
import { xdsgw } from './run.js';

/** The sample documents of samples/cda, one per CI-SIS document type, and the INS-NIR of their patient. */
const SAMPLES: Record<string, string> = {
  'cr-bio-45k.xml': '282059999900181',
  'cr-img.xml': '175019999900419',
  'dlu.xml': '231099999900323',
  'ldl-ses.xml': '148039999900218',
  'unstructured-pdf.xml': '290079999900508',
  'vac.xml': '289119999900722',
  'vsm.xml': '167069999900604',
};
const INS_NIR = '1.2.250.1.213.1.4.8';
const cx = (id: string): string => `${id}^^^&${INS_NIR}&ISO`;

interface Summary {
  files: number;
  accepted: number;
  refused: number;
  refusedByCode: Record<string, number>;
  notSubmitted: number;
  skipped: { alreadySubmitted: number; alreadyRegistered: number; sameContent: number; notCda: number };
  failures: { file: string; outcome: string; errors?: { code: string; message: string }[]; problems?: string[] }[];
  state: string;
}

describe('xdsgw command-line client', function () {
  this.timeout(120_000);
  let gw: TestGateway;
  let dir: string;
  const run = (...args: string[]) => xdsgw([...args, '--url', gw.url], { cwd: dir });

  before(async () => {
    gw = await startTestGateway('postgres');
    dir = await mkdtemp(path.join(os.tmpdir(), 'xdsgw-cli-'));
  });
  after(async () => {
    await gw?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  describe('patients create', () => {
    it('registers patients given in full or as a bare id of the gateway authority, and reports those already known', async () => {
      const full = newPatientId();
      const bare = newPatientId().split('^')[0]!;
      const first = await run('patients', 'create', full, bare);
      expect(first.status, first.stderr).to.equal(0);
      expect(first.stdout.split('\n')).to.include.members([`${full} created`, `${cx(bare)} created`]);
      const again = await run('patients', 'create', full, '--json');
      expect(again.status).to.equal(0);
      expect(JSON.parse(again.stdout)).to.deep.equal({ patients: [{ patientId: full, status: 'exists' }] });
    });

    it('exits 1 with the gateway message for a patient of another authority', async () => {
      const r = await run('patients', 'create', '123^^^&1.2.3.4&ISO');
      expect(r.status).to.equal(1);
      expect(r.stdout).to.contain("REFUSED: patientId authority 1.2.3.4 is not the affinity domain's (1.2.250.1.213.1.4.8)");
    });
  });

  describe('submit', () => {
    before(async () => {
      const r = await run('patients', 'create', ...Object.values(SAMPLES));
      expect(r.status, r.stderr).to.equal(0);
    });

    it('builds the metadata of every CI-SIS document type from its header and has each accepted', async () => {
      const files = Object.keys(SAMPLES).map((f) => path.join(SAMPLES_CDA_DIR, f));
      const r = await run('submit', ...files, '--state', 'samples.jsonl', '--json', '--quiet');
      expect(r.status, r.stdout + r.stderr).to.equal(0);
      const summary = JSON.parse(r.stdout) as Summary;
      expect(summary).to.include({ files: 7, accepted: 7, refused: 0, notSubmitted: 0 });
      const state = (await readFile(path.join(dir, 'samples.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { uniqueId: string; outcome: string });
      expect(state.map((s) => s.outcome)).to.deep.equal(Array(7).fill('accepted'));

      const query = await run('query', '--patient', SAMPLES['ldl-ses.xml']!, '--type', '11490-0', '--json');
      expect(query.status, query.stderr).to.equal(0);
      const [doc] = JSON.parse(query.stdout).documents;
      expect(doc).to.deep.include({ uniqueId: '1.2.250.1.999.9.1.2.1', patientId: cx(SAMPLES['ldl-ses.xml']!), status: 'Approved', mimeType: 'text/xml', languageCode: 'fr-FR' });
      expect(doc.classCode).to.deep.equal({ code: '10', codingScheme: '1.2.250.1.213.1.1.4.1', displayName: 'Compte rendu' });
      expect(doc.formatCode.code).to.equal('urn:asip:ci-sis:ldl-ses:2017');
    });

    it('skips the files of the state file on a second run, and a registered document whose state line was lost', async () => {
      const files = ['cr-img.xml', 'dlu.xml'].map((f) => path.join(SAMPLES_CDA_DIR, f));
      const again = await run('submit', ...files, '--state', 'samples.jsonl', '--json', '--quiet');
      expect(again.status).to.equal(0);
      expect(JSON.parse(again.stdout)).to.deep.include({ accepted: 0, skipped: { alreadySubmitted: 2, alreadyRegistered: 0, sameContent: 0, notCda: 0 } });

      const fresh = await run('submit', ...files, '--state', 'other.jsonl', '--json', '--quiet');
      expect(fresh.status).to.equal(0);
      expect(JSON.parse(fresh.stdout)).to.deep.include({ accepted: 0, skipped: { alreadySubmitted: 0, alreadyRegistered: 2, sameContent: 0, notCda: 0 } });
      const lines = (await readFile(path.join(dir, 'other.jsonl'), 'utf8')).trim().split('\n');
      expect(lines.map((l) => JSON.parse(l).outcome)).to.deep.equal(['already-registered', 'already-registered']);
    });

    it('prints each refusal with its XDS code and message, counts it by code and exits 1', async () => {
      const unknown = newPatientId();
      const file = path.join(dir, 'unknown-patient.xml');
      await writeFile(file, makeLabResult(unknown, { sizeKb: 4 }));
      const r = await run('submit', file, '--state', 'refused.jsonl');
      expect(r.status).to.equal(1);
      expect(r.stderr).to.contain('REFUSED unknown-patient.xml');
      expect(r.stderr).to.match(/ {2}XDSUnknownPatientId: .*\S/);
      expect(r.stdout).to.match(/refused +1/).and.to.match(/XDSUnknownPatientId +1/);
      const json = JSON.parse((await run('submit', file, '--state', 'refused.jsonl', '--json', '--quiet')).stdout) as Summary;
      expect(json.refusedByCode).to.deep.equal({ XDSUnknownPatientId: 1 });
      expect(json.failures[0]!.errors![0]!.code).to.equal('XDSUnknownPatientId');
      expect(await readFile(path.join(dir, 'refused.jsonl'), 'utf8')).to.equal('');
    });

    it('names what the header lacks instead of inventing metadata, and skips files of a folder that are not CDA', async () => {
      const folder = path.join(dir, 'mixed');
      await mkdir(folder);
      const patient = newPatientId();
      await run('patients', 'create', patient);
      await writeFile(path.join(folder, 'no-facility.xml'), makeLabResult(patient, { sizeKb: 4 }).toString('utf8').replace(/(<healthCareFacility>)\s*<code [^>]*\/>/, '$1'));
      await writeFile(path.join(folder, 'notes.xml'), '<notes>not a CDA document</notes>');
      await writeFile(path.join(folder, 'readme.txt'), 'ignored: not .xml');
      const r = await run('submit', folder, '--json', '--quiet');
      expect(r.status).to.equal(1);
      const summary = JSON.parse(r.stdout) as Summary;
      expect(summary).to.deep.include({ files: 2, notSubmitted: 1, skipped: { alreadySubmitted: 0, alreadyRegistered: 0, sameContent: 0, notCda: 1 } });
      expect(summary.state).to.equal(path.join(folder, '.xdsgw-submitted.jsonl'));
      expect(summary.failures[0]!.problems).to.deep.equal([
        'componentOf/encompassingEncounter/location/healthCareFacility/code is missing (healthcareFacilityTypeCode): give --facility-type',
      ]);

      const completed = await run('submit', folder, '--facility-type', 'SA25^Laboratoire de biologie médicale^1.2.250.1.71.4.2.4', '--json', '--quiet');
      expect(completed.status, completed.stdout).to.equal(0);
      expect(JSON.parse(completed.stdout)).to.include({ accepted: 1 });
    });

    it('exits 2 on a usage error and 5 when a file does not exist', async () => {
      const [none, zero, unknown, code, missing] = await Promise.all([
        run('submit'),
        run('submit', 'x.xml', '--concurrency', '0'),
        run('submit', 'x.xml', '--no-such-option'),
        run('submit', 'x.xml', '--facility-type', 'SA25'),
        run('submit', 'no-such-file.xml'),
      ]);
      expect([none.status, zero.status, unknown.status, code.status]).to.deep.equal([2, 2, 2, 2]);
      expect(code.stderr).to.contain("--facility-type 'SA25' must be CODE^DISPLAY^CODING-SCHEME-OID");
      expect(missing.status).to.equal(5);
      expect(missing.stderr).to.contain('no-such-file.xml: no such file or directory');
    });
  });

  describe('query', () => {
    let patient: string;
    const at = [new Date('2024-03-01T10:00:00Z'), new Date('2024-05-01T10:00:00Z')];
    before(async () => {
      patient = newPatientId();
      await run('patients', 'create', patient);
      for (const [i, d] of at.entries()) await writeFile(path.join(dir, `q${i}.xml`), makeLabResult(patient, { sizeKb: 4, at: d }));
      const r = await run('submit', 'q0.xml', 'q1.xml', '--state', 'q.jsonl', '--quiet');
      expect(r.status, r.stdout + r.stderr).to.equal(0);
    });

    it('lists the documents of a patient in a table, with readable dates and type names', async () => {
      const r = await run('query', '--patient', patient, '--type', '11502-2');
      expect(r.status, r.stderr).to.equal(0);
      const lines = r.stdout.trim().split('\n');
      expect(lines[0]).to.match(/^uniqueId +status +created \(UTC\) +type +title$/);
      expect(lines.filter((l) => l.includes("11502-2 CR d'examens biologiques"))).to.have.length(2);
      expect(r.stdout).to.contain('2024-03-01 10:00:00').and.to.contain('2024-05-01 10:00:00');
      expect(lines.at(-1)).to.equal('2 document(s)');
    });

    it('narrows by creation time with --from and --to and returns entryUUIDs only with --refs', async () => {
      const april = await run('query', '--patient', patient, '--type', '11502-2^^2.16.840.1.113883.6.1', '--from', '2024-04-01', '--to', '2024-06-01T00:00Z', '--json');
      expect(april.status, april.stderr).to.equal(0);
      const docs = JSON.parse(april.stdout).documents as { creationTime: string }[];
      expect(docs.map((d) => d.creationTime)).to.deep.equal(['20240501100000']);
      const refs = await run('query', '--patient', patient, '--class', '10', '--refs', '--json');
      expect(JSON.parse(refs.stdout).entryUUIDs).to.have.length(2);
    });

    it('reports no documents for a patient without any, and exits 2 on a malformed option', async () => {
      const none = await run('query', '--patient', newPatientId(), '--author', "%O'BRIEN%");
      expect(none.status, none.stderr).to.equal(0);
      expect(none.stdout).to.equal('0 document(s)\n');
      const [bad, status, missing] = await Promise.all([
        run('query', '--patient', patient, '--from', '2024-13-45'),
        run('query', '--patient', patient, '--status', 'gone'),
        run('query'),
      ]);
      expect(bad.status).to.equal(2);
      expect(bad.stderr).to.contain("--from '2024-13-45' is not a date");
      expect([status.status, missing.status]).to.deep.equal([2, 2]);
    });
  });

  describe('retrieve', () => {
    it('writes each document to <uniqueId>.xml, byte for byte, and refuses to overwrite without --force', async () => {
      const original = await readFile(path.join(SAMPLES_CDA_DIR, 'cr-bio-45k.xml'));
      const out = path.join(dir, 'retrieved');
      await mkdir(out);
      const r = await run('retrieve', '1.2.250.1.999.9.1.1.1', '--out', out);
      expect(r.status, r.stderr).to.equal(0);
      expect(r.stdout).to.contain(`1.2.250.1.999.9.1.1.1 → ${path.join(out, '1.2.250.1.999.9.1.1.1.xml')} (text/xml, ${original.length} bytes)`);
      expect((await readFile(path.join(out, '1.2.250.1.999.9.1.1.1.xml'))).equals(original)).to.equal(true);

      const again = await run('retrieve', '1.2.250.1.999.9.1.1.1', '--out', out);
      expect(again.status).to.equal(5);
      expect(again.stderr).to.contain('exists; use --force to overwrite it');
      expect((await run('retrieve', '1.2.250.1.999.9.1.1.1', '--out', out, '--force')).status).to.equal(0);
      const single = await run('retrieve', '1.2.250.1.999.9.1.1.1', '-o', 'one.xml', '--json');
      expect(JSON.parse(single.stdout).documents[0]).to.include({ uniqueId: '1.2.250.1.999.9.1.1.1', file: path.join(dir, 'one.xml'), size: original.length });
    });

    it('exits 1 and shows XDSDocumentUniqueIdError for an unknown document', async () => {
      const r = await run('retrieve', '1.2.250.1.999.9.9.9.9');
      expect(r.status).to.equal(1);
      expect(r.stderr).to.match(/^XDSDocumentUniqueIdError: .*1\.2\.250\.1\.999\.9\.9\.9\.9/m);
      expect(await readdir(dir)).not.to.include('1.2.250.1.999.9.9.9.9.xml');
    });
  });

  describe('validate and verify', () => {
    it('validates offline: VALID with the type, INVALID with the errors, --json for scripts', async () => {
      const r = await xdsgw(['validate', 'samples/cda/vac.xml', 'samples/cda/broken/vac-without-immunization-entries.xml']);
      expect(r.status).to.equal(1);
      expect(r.stdout).to.contain('VALID samples/cda/vac.xml (VAC)').and.to.contain('INVALID samples/cda/broken/vac-without-immunization-entries.xml (VAC)');
      const json = await xdsgw(['validate', 'samples/cda/vac.xml', '--json']);
      expect(json.status).to.equal(0);
      expect(JSON.parse(json.stdout)).to.deep.include({ valid: true });
    });

    it('asks the gateway to verify the signature of a registered document', async () => {
      const r = await run('verify', '--document', '1.2.250.1.999.9.1.1.1');
      expect(r.status, r.stdout + r.stderr).to.equal(0);
      expect(r.stdout).to.match(/^1\.2\.250\.1\.999\.9\.1\.1\.1: VALID/);
      const unknown = await run('verify', '--document', '1.2.250.1.999.9.9.9.9');
      expect(unknown.status).to.equal(1);
      expect(unknown.stdout).to.contain('no such document in the registry');
    });

    it('verifies a DSG signature file offline against the documents', async () => {
      const ca = testCa('xdsgw CA');
      const docs = [{ uniqueId: '1.2.250.1.999.9.7.1', bytes: Buffer.from('<doc>one</doc>') }];
      await writeFile(path.join(dir, 'ca.pem'), ca.certificate.toString());
      await writeFile(path.join(dir, 'sig.xml'), createDsgSignature({ documents: docs, submissionSetUniqueId: '1.2.250.1.999.9.7.9', signingTime: new Date() }, testSigner(ca)));
      await writeFile(path.join(dir, 'doc.xml'), docs[0]!.bytes);
      await writeFile(path.join(dir, 'changed.xml'), '<doc>One</doc>');
      const ok = await xdsgw(['verify', 'sig.xml', 'doc.xml', '--trust', '.'], { cwd: dir });
      expect(ok.status, ok.stdout + ok.stderr).to.equal(0);
      expect(ok.stdout).to.contain('sig.xml: VALID');
      const changed = await xdsgw(['verify', 'sig.xml', `${docs[0]!.uniqueId}=changed.xml`, '--trust', '.', '--json'], { cwd: dir });
      expect(changed.status).to.equal(1);
      expect(JSON.parse(changed.stdout).problems.map((p: { code: string }) => p.code)).to.deep.equal(['document-digest']);
    });
  });

  describe('errors common to every command', () => {
    it('exits 3 naming the URL when no gateway answers', async () => {
      const r = await xdsgw(['query', '--patient', newPatientId(), '--url', 'http://127.0.0.1:9']);
      expect(r.status).to.equal(3);
      expect(r.stderr).to.match(/^xdsgw: cannot reach the gateway at http:\/\/127\.0\.0\.1:9: .*ECONNREFUSED/);
    });

    it('exits 4 when the URL answers something that is not the gateway', async () => {
      const r = await xdsgw(['retrieve', '1.2.3', '--repository', '1.2.3', '--url', `${gw.url}/health`]);
      expect(r.status).to.equal(4);
      expect(r.stderr).to.contain('not the expected message');
    });

    it('exits 2 for an unknown command, and prints the usage with --help', async () => {
      const [unknown, help, submitHelp] = await Promise.all([xdsgw(['frobnicate']), xdsgw(['--help']), xdsgw(['submit', '--help'])]);
      expect(unknown.status).to.equal(2);
      expect(help.status).to.equal(0);
      expect(help.stdout).to.contain('submit FILE|DIR...');
      expect(submitHelp.stdout).to.contain('--concurrency N');
    });
  });
});
