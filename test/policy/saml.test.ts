import { expect } from 'chai';
import { SOAP_ACTION } from '../../src/ebrim/uuids.js';
import { AssertionVerifier } from '../../src/policy/saml.js';
import { parseEnvelope } from '../../src/soap/envelope.js';
import { SoapFault } from '../../src/soap/fault.js';
import { soapEnvelope } from '../support/requests.js';
import { createTestIdp, DOCTOR, type TestIdp } from './idp.js';

const AUDIENCE = 'urn:dmp-xds-gateway:test';
const BODY = '<x:Ping xmlns:x="urn:example"/>';

describe('SAML/VIHF assertion verification', function () {
  this.timeout(20_000);
  let idp: TestIdp;
  let other: TestIdp;
  let now: Date;
  let verifier: AssertionVerifier;

  before(async () => {
    idp = await createTestIdp();
    other = await createTestIdp('Rogue IdP');
  });
  after(async () => {
    await idp?.close();
    await other?.close();
  });
  beforeEach(() => {
    now = new Date();
    verifier = new AssertionVerifier({ trustedCertificates: [idp.certPem], audience: AUDIENCE, clockSkewSeconds: 60, cacheSize: 3, now: () => now });
  });

  const envelope = (headersXml?: string): string => soapEnvelope(SOAP_ACTION.iti18, BODY, { headersXml });
  const authenticate = (xml: string) => verifier.authenticate(xml, parseEnvelope(xml));
  const faultOf = (xml: string): SoapFault => {
    try {
      authenticate(xml);
    } catch (err) {
      if (err instanceof SoapFault) return err;
      throw err;
    }
    throw new Error('expected a SOAP fault');
  };

  it('reads the professional, role, structure, purpose of use and patient of a signed assertion', () => {
    const caller = authenticate(envelope(idp.security(idp.assertion({ patientId: '1234567890123^^^&1.2.250.1.213.1.4.8&ISO', purposeOfUse: 'BRIS_DE_GLACE' }))));
    expect(caller).to.include({
      kind: 'professional',
      professionalId: DOCTOR.professionalId,
      professionalIdType: 'RPPS',
      organisationId: DOCTOR.structureId,
      organisationIdType: 'FINESS',
      name: DOCTOR.name,
      purposeOfUse: 'emergency',
      patientId: '1234567890123^^^&1.2.250.1.213.1.4.8&ISO',
    });
    expect(caller.roles[0]).to.deep.include({ code: '10', codeSystem: '1.2.250.1.213.1.1.4.5' });
  });

  it('maps the SAMU regulation purpose of use', () => {
    expect(authenticate(envelope(idp.security(idp.assertion({ purposeOfUse: 'CENTRE_DE_REGULATION' })))).purposeOfUse).to.equal('regulation');
  });

  it('refuses a request without a WS-Security header with wsse:InvalidSecurity', () => {
    expect(faultOf(envelope()).subcode?.local).to.equal('InvalidSecurity');
  });

  it('refuses a Security header without an assertion with wsse:InvalidSecurity', () => {
    expect(faultOf(envelope(idp.security(''))).subcode?.local).to.equal('InvalidSecurity');
  });

  it('refuses an unsigned assertion with wsse:FailedAuthentication', () => {
    expect(faultOf(envelope(idp.security(idp.unsignedAssertion()))).subcode?.local).to.equal('FailedAuthentication');
  });

  it('refuses an assertion whose attributes were changed after signing with wsse:FailedAuthentication', () => {
    const tampered = idp.assertion().replace(DOCTOR.professionalId, '810009999999');
    const fault = faultOf(envelope(idp.security(tampered)));
    expect(fault.subcode?.local).to.equal('FailedAuthentication');
    expect(fault.reason).to.match(/signature/);
  });

  it('refuses an assertion signed by an identity provider that is not trusted', () => {
    expect(faultOf(envelope(idp.security(other.assertion()))).subcode?.local).to.equal('FailedAuthentication');
  });

  it('refuses an expired assertion, and accepts one within the clock skew', () => {
    const xml = envelope(idp.security(idp.assertion({ issueInstant: new Date(now.getTime() - 20 * 60_000) })));
    expect(faultOf(xml).reason).to.match(/expired/);
    const justExpired = envelope(idp.security(idp.assertion({ notOnOrAfter: new Date(now.getTime() - 30_000) })));
    expect(authenticate(justExpired).professionalId).to.equal(DOCTOR.professionalId);
  });

  it('refuses an assertion that is not valid yet', () => {
    const xml = envelope(idp.security(idp.assertion({ notBefore: new Date(now.getTime() + 5 * 60_000) })));
    expect(faultOf(xml).reason).to.match(/not valid yet/);
  });

  it('refuses an assertion for another audience, and one with no audience when one is configured', () => {
    expect(faultOf(envelope(idp.security(idp.assertion({ audience: 'urn:other' })))).reason).to.match(/Audience/);
    expect(faultOf(envelope(idp.security(idp.assertion({ audience: null })))).reason).to.match(/Audience/);
  });

  it('refuses signature wrapping: a second assertion beside the signed one', () => {
    const signed = idp.assertion({ id: '_signed' });
    const forged = idp.unsignedAssertion({ id: '_forged', professionalId: '810009999999' });
    expect(faultOf(envelope(idp.security(forged + signed))).subcode?.local).to.equal('InvalidSecurity');
  });

  it('refuses signature wrapping: the signed assertion moved elsewhere under a forged one with the same ID', () => {
    const signed = idp.assertion({ id: '_same' });
    const forged = idp.unsignedAssertion({ id: '_same', professionalId: '810009999999' });
    const signature = /<ds:Signature[\s\S]*<\/ds:Signature>|<Signature[\s\S]*<\/Signature>/.exec(signed)![0];
    const wrapped = forged.replace('</saml2:Issuer>', `</saml2:Issuer>${signature}`);
    const xml = envelope(`${idp.security(wrapped)}<x:Hidden xmlns:x="urn:example">${signed}</x:Hidden>`);
    expect(faultOf(xml).subcode?.local).to.equal('FailedAuthentication');
  });

  it('remembers a verified assertion but still checks its validity window on every use', () => {
    const xml = envelope(idp.security(idp.assertion()));
    authenticate(xml);
    now = new Date(now.getTime() + 60 * 60_000);
    expect(faultOf(xml).reason).to.match(/expired/);
  });

  it('does not take a tampered copy of a remembered assertion for the remembered one', () => {
    const signed = idp.assertion();
    authenticate(envelope(idp.security(signed)));
    expect(faultOf(envelope(idp.security(signed.replace(DOCTOR.name, 'Someone Else')))).subcode?.local).to.equal('FailedAuthentication');
  });
});
