import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { makeLabResult, newOid, newPatientId } from '../support/requests.js';
import { xdsgw } from './run.js';

const DOCUMENTS = 1000;
const PATIENTS = 4;

interface Summary {
  files: number;
  accepted: number;
  refused: number;
  notSubmitted: number;
  interrupted: boolean;
  interruptedInFlight: number;
  notAttempted: number;
  skipped: { alreadySubmitted: number; alreadyRegistered: number };
}

describe('xdsgw submit of a folder of 1,000 documents', function () {
  this.timeout(300_000);
  let gw: TestGateway;
  let dir: string;
  const patients = Array.from({ length: PATIENTS }, () => newPatientId());
  const uniqueIds: string[] = [];

  before(async () => {
    gw = await startTestGateway('postgres');
    dir = await mkdtemp(path.join(os.tmpdir(), 'xdsgw-folder-'));
    for (const p of patients) expect(await gw.registerPatient(p)).to.equal(201);
    const at = new Date('2024-06-03T09:45:00Z');
    for (let i = 0; i < DOCUMENTS; i++) {
      const uniqueId = newOid();
      uniqueIds.push(uniqueId);
      const file = path.join(dir, `lab-${String(i + 1).padStart(4, '0')}.xml`);
      await writeFile(file, makeLabResult(patients[i % PATIENTS]!, { sizeKb: 3, uniqueId, at: new Date(at.getTime() + i * 60_000) }));
    }
  });
  after(async () => {
    await gw?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('shows progress, stops cleanly on Ctrl-C keeping the state, and resumes to register each document exactly once', async () => {
    const stateFile = path.join(dir, '.xdsgw-submitted.jsonl');
    const args = ['submit', dir, '--concurrency', '8', '--progress-interval', '0.5', '--json', '--url', gw.url];

    let interruptedAt = -1;
    const first = await xdsgw(args, {
      onStderr: (chunk, child) => {
        const accepted = [...chunk.matchAll(/accepted (\d+)/g)].map((m) => Number(m[1])).pop() ?? 0;
        if (interruptedAt < 0 && accepted >= 100) {
          interruptedAt = accepted;
          child.kill('SIGINT');
        }
      },
    });
    expect(interruptedAt, first.stderr).to.be.greaterThan(0);
    expect(first.status, first.stderr).to.equal(130);
    const progress = first.stderr.split('\n').filter((l) => l.startsWith('progress: '));
    expect(progress.length).to.be.greaterThan(1);
    expect(progress[0]).to.match(/^progress: \d+\/1000 \d+% · accepted \d+ · refused 0 · skipped 0 · [\d.]+\/s/);
    expect(first.stderr).to.contain('interrupted: finishing the submissions in flight, then stopping');
    const partial = JSON.parse(first.stdout) as Summary;
    expect(partial).to.include({ files: DOCUMENTS, refused: 0, notSubmitted: 0, interrupted: true, interruptedInFlight: 0 });
    expect(partial.accepted).to.be.at.least(interruptedAt);
    expect(partial.notAttempted).to.be.greaterThan(0);
    expect(partial.accepted + partial.notAttempted).to.equal(DOCUMENTS);
    const afterFirst = (await readFile(stateFile, 'utf8')).trim().split('\n');
    expect(afterFirst).to.have.length(partial.accepted);

    const second = await xdsgw(args);
    expect(second.status, second.stderr).to.equal(0);
    const rest = JSON.parse(second.stdout) as Summary;
    expect(rest).to.include({ files: DOCUMENTS, refused: 0, notSubmitted: 0, interrupted: false, notAttempted: 0 });
    expect(rest.skipped.alreadySubmitted).to.equal(partial.accepted);
    expect(rest.accepted + rest.skipped.alreadyRegistered).to.equal(DOCUMENTS - partial.accepted);

    const state = (await readFile(stateFile, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { sha256: string; uniqueId: string });
    expect(new Set(state.map((s) => s.sha256)).size).to.equal(DOCUMENTS);
    expect(new Set(state.map((s) => s.uniqueId))).to.deep.equal(new Set(uniqueIds));

    const registered: string[] = [];
    for (const p of patients) {
      const q = await xdsgw(['query', '--patient', p, '--type', '11502-2', '--json', '--url', gw.url]);
      expect(q.status, q.stderr).to.equal(0);
      registered.push(...(JSON.parse(q.stdout).documents as { uniqueId: string }[]).map((d) => d.uniqueId));
    }
    expect(registered).to.have.length(DOCUMENTS);
    expect(new Set(registered)).to.deep.equal(new Set(uniqueIds));
  });

  it('on a second SIGTERM aborts the submissions in flight, exits 143, and the next run accounts for every file', async () => {
    const small = await mkdtemp(path.join(os.tmpdir(), 'xdsgw-term-'));
    try {
      const patient = newPatientId();
      expect(await gw.registerPatient(patient)).to.equal(201);
      for (let i = 0; i < 40; i++) await writeFile(path.join(small, `lab-${i}.xml`), makeLabResult(patient, { sizeKb: 3 }));
      const args = ['submit', small, '--concurrency', '4', '--progress-interval', '0.2', '--json', '--url', gw.url];
      let signalled = false;
      const first = await xdsgw(args, {
        onStderr: (chunk, child) => {
          if (!signalled && /accepted [1-9]/.test(chunk)) {
            signalled = true;
            child.kill('SIGTERM');
            child.kill('SIGTERM');
          }
        },
      });
      expect(first.status, first.stderr).to.equal(143);
      const stopped = JSON.parse(first.stdout) as Summary;
      expect(stopped.interrupted).to.equal(true);
      expect(stopped.accepted + stopped.interruptedInFlight + stopped.notAttempted).to.equal(40);
      const lines = (await readFile(path.join(small, '.xdsgw-submitted.jsonl'), 'utf8')).trim().split('\n');
      expect(lines).to.have.length(stopped.accepted);

      const resumed = JSON.parse((await xdsgw(args)).stdout) as Summary;
      expect(resumed.skipped.alreadySubmitted).to.equal(stopped.accepted);
      expect(resumed.accepted + resumed.skipped.alreadyRegistered).to.equal(40 - stopped.accepted);
    } finally {
      await rm(small, { recursive: true, force: true });
    }
  });
});
