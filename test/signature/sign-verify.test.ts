import { expect } from 'chai';
import { documentUri } from '../../src/signature/dsg.js';
import { createDsgSignature, type SignedDocument } from '../../src/signature/sign.js';
import { verifyDsgSignature, type VerifyOptions } from '../../src/signature/verify.js';
import { testCa, testSigner, xmlCryptoVerifies, xmlsec1Available, xmlsec1Verify, type KeyKind } from './pki.js';

const documents = (): SignedDocument[] => [
  { uniqueId: '1.2.250.1.999.9.1.1', bytes: Buffer.from('<ClinicalDocument xmlns="urn:hl7-org:v3">first</ClinicalDocument>') },
  { uniqueId: '1.2.250.1.999.9.1.2', bytes: Buffer.from([0, 1, 2, 255, 13, 10]) },
];
const SUBMISSION_SET = '1.2.250.1.999.9.2.1';

describe('IHE DSG detached signature: sign and verify', function () {
  this.timeout(30_000);
  const ca = testCa('Test signing CA');

  const options = (docs: SignedDocument[], extra: Partial<VerifyOptions> = {}): VerifyOptions => ({
    documents: docs,
    submissionSetUniqueId: SUBMISSION_SET,
    trustAnchors: [ca.certificate],
    validityAt: 'now',
    ...extra,
  });

  for (const kind of ['p-256', 'rsa-2048', 'rsa-3072'] as KeyKind[]) {
    describe(`with a ${kind} key`, () => {
      const signer = testSigner(ca, kind);
      const docs = documents();
      const signedAt = new Date();
      const xml = createDsgSignature({ documents: docs, submissionSetUniqueId: SUBMISSION_SET, signingTime: signedAt }, signer);

      it('verifies with our verifier and names the signer, the time and the submission set', async () => {
        const report = await verifyDsgSignature(xml, options(docs));
        expect(report.problems).to.deep.equal([]);
        expect(report.valid).to.equal(true);
        expect(report.signer!.subject).to.equal(`CN=signer ${kind},O=Test lab`);
        expect(report.signer!.issuer).to.equal('CN=Test signing CA,O=Test PKI,C=FR');
        expect(report.signer!.serialNumber).to.equal(signer.certificate.serialNumber);
        expect(report.signingTime).to.equal(signedAt.toISOString().replace(/\.\d{3}Z$/, 'Z'));
        expect(report.submissionSetUniqueId).to.equal(SUBMISSION_SET);
        expect(report.references).to.deep.equal(docs.map((d) => documentUri(d.uniqueId)));
      });

      it('verifies with xml-crypto, an independent implementation', () => {
        expect(xmlCryptoVerifies(xml)).to.deep.equal({ valid: true, errors: [] });
      });

      it('verifies with xmlsec1, Manifest references included', function () {
        if (!xmlsec1Available()) this.skip();
        const r = xmlsec1Verify(xml, [ca.certificate], docs.map((d) => ({ uri: documentUri(d.uniqueId), bytes: d.bytes })));
        expect(r.ok, r.output).to.equal(true);
        expect(r.manifest).to.equal('2/2');
      });
    });
  }

  describe('detects tampering and bad certificates with the right reason', () => {
    const signer = testSigner(ca, 'p-256');
    const docs = documents();
    const xml = createDsgSignature({ documents: docs, submissionSetUniqueId: SUBMISSION_SET, signingTime: new Date() }, signer);
    const codes = async (sig: Buffer, opts: VerifyOptions): Promise<string[]> => (await verifyDsgSignature(sig, opts)).problems.map((p) => p.code);

    it('a one-byte change in any document: document-digest, naming the document', async () => {
      for (let i = 0; i < docs.length; i++) {
        const changed = docs.map((d, j) => (j === i ? { ...d, bytes: Buffer.from(d.bytes.map((b, k) => (k === 3 ? b ^ 1 : b))) } : d));
        const report = await verifyDsgSignature(xml, options(changed));
        expect(report.problems.map((p) => p.code)).to.deep.equal(['document-digest']);
        expect(report.problems[0]!.message).to.contain(docs[i]!.uniqueId);
      }
    });

    it('a one-byte change in a document is also what xmlsec1 reports on the Manifest', function () {
      if (!xmlsec1Available()) this.skip();
      const changed = docs.map((d, j) => ({ uri: documentUri(d.uniqueId), bytes: j === 0 ? Buffer.concat([d.bytes, Buffer.from(' ')]) : d.bytes }));
      expect(xmlsec1Verify(xml, [ca.certificate], changed).manifest).to.equal('1/2');
    });

    it('a changed SignedInfo: signature-value (xml-crypto and xmlsec1 refuse it too)', async () => {
      // The reference still resolves and digests the same: only the signed SignedInfo text differs.
      const changed = Buffer.from(xml.toString().replace('Type="http://www.w3.org/2000/09/xmldsig#SignatureProperties"', 'Type="http://www.w3.org/2000/09/xmldsig#Object"'));
      expect(await codes(changed, options(docs))).to.include('signature-value');
      expect(xmlCryptoVerifies(changed).valid).to.equal(false);
      if (xmlsec1Available()) expect(xmlsec1Verify(changed, [ca.certificate], []).ok).to.equal(false);
    });

    it('a Manifest changed after signing: signed-reference', async () => {
      const changed = Buffer.from(xml.toString().replace(`URI="${documentUri(docs[1]!.uniqueId)}"`, 'URI="urn:oid:1.2.3"'));
      expect(await codes(changed, options(docs))).to.include('signed-reference');
    });

    it('an expired certificate: certificate-expired', async () => {
      const expired = testSigner(ca, 'p-256', { validFromDays: -60, validDays: 30 });
      const sig = createDsgSignature({ documents: docs, submissionSetUniqueId: SUBMISSION_SET, signingTime: new Date() }, expired);
      expect(await codes(sig, options(docs))).to.deep.equal(['certificate-expired']);
    });

    it('a certificate that expired after the signing time is valid when checked at the signing time', async () => {
      const oldCa = testCa('Older CA', 'p-256', -90);
      const expired = testSigner(oldCa, 'p-256', { validFromDays: -60, validDays: 30 });
      const sig = createDsgSignature({ documents: docs, submissionSetUniqueId: SUBMISSION_SET, signingTime: new Date(Date.now() - 45 * 86_400_000) }, expired);
      expect(await codes(sig, options(docs, { validityAt: 'signing-time', trustAnchors: [oldCa.certificate] }))).to.deep.equal([]);
    });

    it('a certificate of an untrusted CA: certificate-untrusted', async () => {
      const other = testCa('Unknown CA');
      const sig = createDsgSignature({ documents: docs, submissionSetUniqueId: SUBMISSION_SET, signingTime: new Date() }, testSigner(other, 'p-256'));
      expect(await codes(sig, options(docs))).to.deep.equal(['certificate-untrusted']);
    });

    it('a Manifest with a missing reference: manifest-missing-reference, naming the document', async () => {
      const sig = createDsgSignature({ documents: docs.slice(0, 1), submissionSetUniqueId: SUBMISSION_SET, signingTime: new Date() }, signer);
      const report = await verifyDsgSignature(sig, options(docs));
      expect(report.problems.map((p) => p.code)).to.deep.equal(['manifest-missing-reference']);
      expect(report.problems[0]!.message).to.contain(docs[1]!.uniqueId);
    });

    it('a reference to a document that is not there: manifest-unknown-reference', async () => {
      expect(await codes(xml, options(docs.slice(0, 1)))).to.deep.equal(['manifest-unknown-reference']);
    });

    it('a signing certificate replaced in KeyInfo: signing-certificate', async () => {
      const other = testSigner(ca, 'p-256');
      const changed = Buffer.from(xml.toString().replace(signer.certificate.raw.toString('base64'), other.certificate.raw.toString('base64')));
      expect(await codes(changed, options(docs))).to.include('signing-certificate');
    });

    it('a document with a DOCTYPE: malformed, nothing expanded', async () => {
      const changed = Buffer.from(xml.toString().replace('?>', '?><!DOCTYPE x [<!ENTITY e "x">]>'));
      expect(await codes(changed, options(docs))).to.deep.equal(['malformed']);
    });
  });
});
