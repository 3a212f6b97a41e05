import { createHash } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { documentUri, SIGNATURE_ENTRY } from '../../src/signature/dsg.js';
import { certificatesFromPem } from '../../src/signature/keys.js';
import { createDsgSignature } from '../../src/signature/sign.js';
import { verifyDsgSignature } from '../../src/signature/verify.js';
import { ASSOCIATION_TYPE } from '../../src/ebrim/uuids.js';
import { httpGet, startTestGateway, type TestGateway } from '../support/gateway.js';
import { buildIti41Request, buildIti43Request, cdaFacts, makeLabResult, newOid, newPatientId, type DocSpec, type SubmissionSpec } from '../support/requests.js';
import { retrieveResult, submissionResult } from '../support/responses.js';
import { testCa, testSigner, xmlCryptoVerifies, xmlsec1Available, xmlsec1Verify } from './pki.js';

const DSG = SIGNATURE_ENTRY.formatCode;

interface EntryRow {
  entry_uuid: string;
  unique_id: string;
  format_code: string | null;
  mime_type: string;
  patient_id: string;
  content_key: string | null;
  class_code: string | null;
  type_code: string | null;
}

describe('IHE DSG signatures through the gateway (ITI-41, ITI-43, signature API)', function () {
  this.timeout(60_000);
  const ca = testCa('Submitters CA');
  let trustDir: string;
  let gw: TestGateway;
  let patientId: string;

  before(async () => {
    trustDir = await mkdtemp(path.join(os.tmpdir(), 'xdsgw-trust-'));
    await writeFile(path.join(trustDir, 'submitters-ca.pem'), ca.certificate.toString());
    gw = await startTestGateway('postgres', { SIGNATURE_TRUST_DIR: trustDir, AUTHENTICATION: 'off' });
    patientId = newPatientId();
    expect(await gw.registerPatient(patientId)).to.equal(201);
  });
  after(async () => {
    await gw?.close();
    await rm(trustDir, { recursive: true, force: true });
  });

  async function submit(spec: SubmissionSpec) {
    const req = buildIti41Request(spec, 'mtom');
    const reply = await gw.post('/xds/iti41', req);
    return { req, reply, result: submissionResult(reply) };
  }

  async function entriesOf(submissionSetUniqueId: string): Promise<EntryRow[]> {
    return gw.backends.db.query<EntryRow>(
      `select d.entry_uuid, d.unique_id, d.format_code, d.mime_type, d.patient_id, d.content_key, d.class_code, d.type_code
         from document_entries d join submission_sets s on s.entry_uuid = d.submission_set_uuid where s.unique_id = $1`,
      [submissionSetUniqueId],
    );
  }

  async function retrieve(uniqueIds: string[]) {
    const req = buildIti43Request(uniqueIds.map((documentUniqueId) => ({ repositoryUniqueId: gw.config.repositoryUniqueId, documentUniqueId })));
    return retrieveResult(await gw.post('/xds/iti43', req));
  }

  const gatewayCertificates = async () => certificatesFromPem(await readFile(path.join(gw.config.dataDir, 'signing', 'dev-cert.pem'), 'utf8'), 'dev cert');

  it('registers a signature DocumentEntry with every accepted submission, signs-associated to the SubmissionSet', async () => {
    const docs = [{ bytes: makeLabResult(patientId, { sizeKb: 3 }) }, { bytes: makeLabResult(patientId, { sizeKb: 2 }) }];
    const { result, req } = await submit({ patientId, documents: docs });
    expect(result.status).to.equal('Success');

    const entries = await entriesOf(req.uniqueIds.submissionSet);
    expect(entries).to.have.length(3);
    const signatures = entries.filter((e) => e.format_code === DSG.code);
    expect(signatures).to.have.length(1);
    const sig = signatures[0]!;
    expect(sig).to.include({ mime_type: 'text/xml', patient_id: patientId, type_code: 'E1762', class_code: SIGNATURE_ENTRY.classCode.code });

    const associations = await gw.backends.db.query<{ association_type: string; source_uuid: string; target_uuid: string }>(
      `select a.association_type, a.source_uuid, a.target_uuid from associations a join submission_sets s on s.entry_uuid = a.submission_set_uuid where s.unique_id = $1`,
      [req.uniqueIds.submissionSet],
    );
    const [ss] = await gw.backends.db.query<{ entry_uuid: string }>('select entry_uuid from submission_sets where unique_id = $1', [req.uniqueIds.submissionSet]);
    expect(associations).to.deep.include({ association_type: ASSOCIATION_TYPE.signs, source_uuid: sig.entry_uuid, target_uuid: ss!.entry_uuid });
    expect(associations).to.deep.include({ association_type: ASSOCIATION_TYPE.hasMember, source_uuid: ss!.entry_uuid, target_uuid: sig.entry_uuid });
  });

  it('retrieves the signature and the documents, which verify with our verifier, xml-crypto and xmlsec1', async () => {
    const docs = [{ bytes: makeLabResult(patientId, { sizeKb: 4 }) }, { bytes: makeLabResult(patientId, { sizeKb: 1 }) }];
    const { result, req } = await submit({ patientId, documents: docs });
    expect(result.status).to.equal('Success');
    const sigEntry = (await entriesOf(req.uniqueIds.submissionSet)).find((e) => e.format_code === DSG.code)!;

    const got = await retrieve([sigEntry.unique_id, ...req.uniqueIds.documents]);
    expect(got.status).to.equal('Success');
    const [signature, ...documents] = got.documents;
    expect(signature!.mimeType).to.equal('text/xml');
    const signed = documents.map((d, i) => ({ uniqueId: req.uniqueIds.documents[i]!, bytes: d.bytes }));

    const anchors = await gatewayCertificates();
    const report = await verifyDsgSignature(signature!.bytes, { documents: signed, submissionSetUniqueId: req.uniqueIds.submissionSet, trustAnchors: anchors, validityAt: 'now' });
    expect(report.problems).to.deep.equal([]);
    expect(report.submissionSetUniqueId).to.equal(req.uniqueIds.submissionSet);
    expect(xmlCryptoVerifies(signature!.bytes)).to.deep.equal({ valid: true, errors: [] });
    if (xmlsec1Available()) {
      const r = xmlsec1Verify(signature!.bytes, anchors, signed.map((d) => ({ uri: documentUri(d.uniqueId), bytes: d.bytes })));
      expect(r.ok, r.output).to.equal(true);
      expect(r.manifest).to.equal('2/2');
    }
  });

  it("keeps the gateway's signature in the registry, written by the submission's commit, not as a content-store blob", async () => {
    const document = makeLabResult(patientId, { sizeKb: 2 });
    const { result, req } = await submit({ patientId, documents: [{ bytes: document }] });
    expect(result.status).to.equal('Success');
    const docEntry = (await entriesOf(req.uniqueIds.submissionSet)).find((e) => e.format_code !== DSG.code)!;
    expect(await gw.backends.content.hasBlob(docEntry.content_key!, document.length)).to.equal(true);
    const sigEntry = (await entriesOf(req.uniqueIds.submissionSet)).find((e) => e.format_code === DSG.code)!;

    const [row] = await gw.backends.db.query<{ inline_content: Uint8Array | null; hash: string; size: string }>(
      'select inline_content, hash, size from document_entries where entry_uuid = $1',
      [sigEntry.entry_uuid],
    );
    expect(row!.inline_content, 'inline_content of the signature entry').to.not.equal(null);
    const bytes = Buffer.from(row!.inline_content!);
    expect(await gw.backends.content.hasBlob(sigEntry.content_key!, bytes.length)).to.equal(false);
    expect(Number(row!.size)).to.equal(bytes.length);
    expect(row!.hash).to.equal(createHash('sha1').update(bytes).digest('hex'));
    expect(createHash('sha256').update(bytes).digest('hex')).to.equal(sigEntry.content_key);

    const got = await retrieve([sigEntry.unique_id]);
    expect(got.status).to.equal('Success');
    expect(got.documents[0]!.bytes.equals(bytes)).to.equal(true);
  });

  it('GET /api/documents/{uniqueId}/signature says who signed, when, and whether it still verifies', async () => {
    const bytes = makeLabResult(patientId, { sizeKb: 2 });
    const { req } = await submit({ patientId, documents: [{ bytes }] });
    const uniqueId = req.uniqueIds.documents[0]!;

    const ok = await httpGet(`${gw.url}/api/documents/${uniqueId}/signature`);
    expect(ok.status).to.equal(200);
    const body = JSON.parse(ok.text);
    expect(body).to.include({ uniqueId, signed: true, valid: true });
    expect(body.signatures).to.have.length(1);
    expect(body.signatures[0].signer.subject).to.equal('CN=XDS gateway development signing key,O=Development only');
    expect(body.signatures[0].signer).to.have.keys('subject', 'issuer', 'serialNumber', 'notBefore', 'notAfter');
    expect(Date.now() - new Date(body.signatures[0].signingTime).getTime()).to.be.lessThan(60_000);
    expect(JSON.stringify(body)).not.to.contain('PRIVATE');

    const signatureUid = body.signatures[0].signatureUniqueId as string;
    const direct = JSON.parse((await httpGet(`${gw.url}/api/documents/${signatureUid}/signature`)).text);
    expect(direct).to.include({ signed: true, valid: true });

    // The stored bytes change behind the registry's back: the signature no longer covers them.
    const [row] = await gw.backends.db.query<{ content_key: string }>('select content_key from document_entries where unique_id = $1', [uniqueId]);
    const file = gw.backends.content.pathOf(row!.content_key);
    await chmod(file, 0o644);
    await writeFile(file, Buffer.concat([bytes, Buffer.from(' ')]));
    const broken = JSON.parse((await httpGet(`${gw.url}/api/documents/${uniqueId}/signature`)).text);
    expect(broken).to.include({ signed: true, valid: false });
    expect(broken.signatures[0].problems.map((p: { code: string }) => p.code)).to.deep.equal(['document-digest']);
    expect(broken.reason).to.contain(uniqueId);

    expect((await httpGet(`${gw.url}/api/documents/1.2.3.4.5.6.7.8.9/signature`)).status).to.equal(404);
  });

  describe('a submission that carries its own DSG signature document', () => {
    function signedSubmission(signer = testSigner(ca, 'p-256'), tamper = false): SubmissionSpec {
      const docs = [makeLabResult(patientId, { sizeKb: 2 }), makeLabResult(patientId, { sizeKb: 1 })].map((bytes) => ({ uniqueId: cdaFacts(bytes)!.documentId!, bytes }));
      const submissionSetUniqueId = newOid();
      const signature = createDsgSignature({ documents: docs, submissionSetUniqueId, signingTime: new Date() }, signer);
      const sent: DocSpec[] = docs.map((d, i) => ({ uniqueId: d.uniqueId, bytes: tamper && i === 1 ? Buffer.from(d.bytes.toString().replace('<title>', '<title>X')) : d.bytes }));
      sent.push({
        id: 'Signature01',
        uniqueId: newOid(),
        bytes: signature,
        mimeType: 'text/xml',
        formatCode: { code: DSG.code, scheme: DSG.codingScheme, display: DSG.displayName },
        typeCode: { code: 'E1762', scheme: 'ASTM', display: 'Full Document' },
        classCode: { code: SIGNATURE_ENTRY.classCode.code, scheme: SIGNATURE_ENTRY.classCode.codingScheme, display: 'Digital Signature' },
      });
      return { patientId, submissionSetUniqueId, documents: sent };
    }

    it('is accepted when the signature verifies, and the gateway adds its own', async () => {
      const spec = signedSubmission();
      const { result, reply } = await submit(spec);
      expect(result, reply.text).to.deep.equal({ status: 'Success', errors: [] });
      const signatures = (await entriesOf(spec.submissionSetUniqueId!)).filter((e) => e.format_code === DSG.code);
      expect(signatures).to.have.length(2);
      const view = JSON.parse((await httpGet(`${gw.url}/api/documents/${spec.documents[0]!.uniqueId}/signature`)).text);
      expect(view).to.include({ signed: true, valid: true });
      expect(view.signatures.map((s: { signer: { subject: string } }) => s.signer.subject).sort()).to.deep.equal(['CN=XDS gateway development signing key,O=Development only', 'CN=signer p-256,O=Test lab']);
    });

    it('accepts a detached signature of one document that is signs-associated to that document only', async () => {
      const spec = signedSubmission();
      const first = spec.documents[0]!;
      const only = createDsgSignature({ documents: [{ uniqueId: first.uniqueId!, bytes: first.bytes }], submissionSetUniqueId: spec.submissionSetUniqueId!, signingTime: new Date() }, testSigner(ca));
      spec.documents[2] = { ...spec.documents[2]!, bytes: only };
      spec.documents[0] = { ...first, id: 'Document01' };
      spec.associations = [{ type: ASSOCIATION_TYPE.signs, source: 'Signature01', target: 'Document01' }];
      const { result, reply } = await submit(spec);
      expect(result, reply.text).to.deep.equal({ status: 'Success', errors: [] });

      const refused = signedSubmission();
      refused.documents[2] = { ...refused.documents[2]!, bytes: createDsgSignature({ documents: [{ uniqueId: refused.documents[0]!.uniqueId!, bytes: refused.documents[0]!.bytes }], submissionSetUniqueId: refused.submissionSetUniqueId!, signingTime: new Date() }, testSigner(ca)) };
      const without = await submit(refused);
      expect(without.result.errors.map((e) => e.context).join()).to.contain('manifest-missing-reference');
    });

    for (const [what, spec, code] of [
      ['a document changed after signing', () => signedSubmission(undefined, true), 'document-digest'],
      ['a signer whose CA is not in the trust store', () => signedSubmission(testSigner(testCa('Rogue CA'), 'p-256')), 'certificate-untrusted'],
      ['an expired signing certificate', () => signedSubmission(testSigner(ca, 'p-256', { validFromDays: -40, validDays: 30 })), 'certificate-expired'],
    ] as const) {
      it(`is refused whole with XDSRepositoryMetadataError for ${what}, naming the document and the reason`, async () => {
        const s = spec();
        const before = await gw.backends.registry.counts();
        const { result } = await submit(s);
        expect(result.status).to.equal('Failure');
        expect(result.errors.map((e) => e.code)).to.deep.equal(['XDSRepositoryMetadataError']);
        expect(result.errors[0]!.context).to.contain(s.documents[2]!.uniqueId!).and.to.contain(code);
        const after = await gw.backends.registry.counts();
        expect(after.documentEntries).to.equal(before.documentEntries);
        expect(after.submissionSets).to.equal(before.submissionSets);
      });
    }
  });

  it('adds no signature with SIGNING=off', async () => {
    const off = await startTestGateway('postgres', { SIGNING: 'off', AUTHENTICATION: 'off' });
    try {
      const pid = newPatientId();
      expect(await off.registerPatient(pid)).to.equal(201);
      const req = buildIti41Request({ patientId: pid, documents: [{ bytes: makeLabResult(pid, { sizeKb: 1 }) }] }, 'mtom');
      expect(submissionResult(await off.post('/xds/iti41', req)).status).to.equal('Success');
      const rows = await off.backends.db.query<{ n: number }>('select count(*)::int as n from document_entries where format_code = $1', [DSG.code]);
      expect(rows[0]!.n).to.equal(0);
    } finally {
      await off.close();
    }
  });

  it('refuses the whole submission with XDSRepositoryError when the signing key cannot be used, and registers nothing', async () => {
    const keyFile = path.join(trustDir, 'broken-key.pem');
    await writeFile(keyFile, 'not a key');
    const broken = await startTestGateway('postgres', { SIGNING_KEY_FILE: keyFile, SIGNING_CERT_FILE: keyFile, AUTHENTICATION: 'off' });
    try {
      const pid = newPatientId();
      expect(await broken.registerPatient(pid)).to.equal(201);
      const before = await broken.backends.registry.counts();
      const req = buildIti41Request({ patientId: pid, documents: [{ bytes: makeLabResult(pid, { sizeKb: 1 }) }] }, 'mtom');
      const result = submissionResult(await broken.post('/xds/iti41', req));
      expect(result.status).to.equal('Failure');
      expect(result.errors.map((e) => e.code)).to.deep.equal(['XDSRepositoryError']);
      expect(result.errors[0]!.context).to.contain('could not sign');
      const after = await broken.backends.registry.counts();
      expect(after.documentEntries).to.equal(before.documentEntries);
      expect(after.submissionSets).to.equal(before.submissionSets);
    } finally {
      await broken.close();
    }
  });
});
