import { expect } from 'chai';
import { NS } from '../../src/ebrim/uuids.js';
import { faultEnvelope, SoapFault, SOAP_CONTENT_TYPE, WSA_FAULT_ACTION, WSA_SUBCODE, GATEWAY_FAULT_NS } from '../../src/soap/fault.js';
import { child, parseXml, type XmlElement } from '../../src/xml/tree.js';

function fault(envelope: string): { header: XmlElement; fault: XmlElement } {
  const root = parseXml(envelope);
  const header = child(root, NS.soap12, 'Header')!;
  const body = child(root, NS.soap12, 'Body')!;
  return { header, fault: child(body, NS.soap12, 'Fault')! };
}

describe('soap/fault', () => {
  it('maps Sender faults to HTTP 400 and the other codes to 500 (SOAP 1.2 Part 2 §7.5.1.2)', () => {
    expect(new SoapFault('Sender', 'x').httpStatus).to.equal(400);
    for (const code of ['VersionMismatch', 'MustUnderstand', 'DataEncodingUnknown', 'Receiver'] as const) {
      expect(new SoapFault(code, 'x').httpStatus).to.equal(500);
    }
  });

  it('lets a size-limit fault answer 413', () => {
    const f = new SoapFault('Sender', 'request body exceeds the limit', { httpStatus: 413 });
    expect(f.httpStatus).to.equal(413);
    expect(f.code).to.equal('Sender');
  });

  it('is an Error whose message is the reason', () => {
    const f = new SoapFault('Receiver', 'database down');
    expect(f).to.be.instanceOf(Error);
    expect(f.message).to.equal('database down');
    expect(f.reason).to.equal('database down');
  });

  it('answers with application/soap+xml in UTF-8', () => {
    expect(SOAP_CONTENT_TYPE).to.equal('application/soap+xml; charset=UTF-8');
  });

  it('writes Code, Subcode, Reason and Detail with the WS-Addressing fault headers', () => {
    const f = new SoapFault('Sender', 'the action x is not supported', {
      subcode: WSA_SUBCODE.actionNotSupported,
      problemAction: 'x',
      detail: 'see the WSDL',
    });
    const { header, fault: el } = fault(faultEnvelope(f, { relatesTo: 'urn:uuid:1234' }));
    const code = child(el, NS.soap12, 'Code')!;
    expect(child(code, NS.soap12, 'Value')!.text).to.equal('env:Sender');
    const subValue = child(child(code, NS.soap12, 'Subcode')!, NS.soap12, 'Value')!;
    expect(subValue.text).to.equal('wsa:ActionNotSupported');
    const text = child(child(el, NS.soap12, 'Reason')!, NS.soap12, 'Text')!;
    expect(text.text).to.equal('the action x is not supported');
    expect(text.attrs['{http://www.w3.org/XML/1998/namespace}lang']).to.equal('en');
    const detail = child(el, NS.soap12, 'Detail')!;
    expect(child(child(detail, NS.wsa, 'ProblemAction')!, NS.wsa, 'Action')!.text).to.equal('x');
    expect(child(detail, GATEWAY_FAULT_NS, 'Message')!.text).to.equal('see the WSDL');
    expect(child(header, NS.wsa, 'Action')!.text).to.equal(WSA_FAULT_ACTION);
    expect(child(header, NS.wsa, 'MessageID')!.text).to.match(/^urn:uuid:[0-9a-f-]{36}$/);
    expect(child(header, NS.wsa, 'RelatesTo')!.text).to.equal('urn:uuid:1234');
  });

  it('gives every fault message a fresh MessageID', () => {
    const f = new SoapFault('Receiver', 'x');
    const id = (xml: string) => child(fault(xml).header, NS.wsa, 'MessageID')!.text;
    expect(id(faultEnvelope(f))).to.not.equal(id(faultEnvelope(f)));
  });

  it('omits RelatesTo when the request MessageID is unknown and uses the one recorded on the fault otherwise', () => {
    const f = new SoapFault('Sender', 'x');
    expect(child(fault(faultEnvelope(f)).header, NS.wsa, 'RelatesTo')).to.equal(undefined);
    f.relatesTo = 'urn:uuid:abcd';
    expect(child(fault(faultEnvelope(f)).header, NS.wsa, 'RelatesTo')!.text).to.equal('urn:uuid:abcd');
  });

  it('declares the namespace of a subcode outside WS-Addressing on the Value that uses it', () => {
    const f = new SoapFault('Receiver', 'x', { subcode: { ns: 'urn:example:errors', local: 'Busy', prefix: 'ex' } });
    const xml = faultEnvelope(f);
    expect(xml).to.contain('<env:Value xmlns:ex="urn:example:errors">ex:Busy</env:Value>');
    expect(() => parseXml(xml)).to.not.throw();
  });

  it('never lets a subcode prefix rebind env', () => {
    const f = new SoapFault('Receiver', 'x', { subcode: { ns: 'urn:example:errors', local: 'Busy', prefix: 'env' } });
    const { fault: el } = fault(faultEnvelope(f));
    const value = child(child(child(el, NS.soap12, 'Code')!, NS.soap12, 'Subcode')!, NS.soap12, 'Value')!;
    expect(value.text).to.equal('sc:Busy');
  });

  it('adds the Upgrade header naming SOAP 1.2 to a VersionMismatch fault', () => {
    const { header } = fault(faultEnvelope(new SoapFault('VersionMismatch', 'SOAP 1.1 envelope received')));
    const supported = child(child(header, NS.soap12, 'Upgrade')!, NS.soap12, 'SupportedEnvelope')!;
    expect(supported.attrs.qname).to.equal('env:Envelope');
  });

  it('reports each header block not understood in an env:NotUnderstood header', () => {
    const f = new SoapFault('MustUnderstand', 'not understood', { notUnderstood: [{ ns: 'urn:example:h', local: 'Session', prefix: 'nu' }] });
    const xml = faultEnvelope(f);
    expect(xml).to.contain('<env:NotUnderstood qname="nu:Session" xmlns:nu="urn:example:h"/>');
    const { header } = fault(xml);
    expect(child(header, NS.soap12, 'NotUnderstood')).to.not.equal(undefined);
    const viaOption = faultEnvelope(new SoapFault('MustUnderstand', 'x'), { notUnderstood: [{ ns: 'urn:example:h', local: 'Other', prefix: 'h' }] });
    expect(viaOption).to.contain('qname="h:Other" xmlns:h="urn:example:h"');
  });

  it('escapes reason, detail and RelatesTo, and replaces characters XML cannot carry', () => {
    const f = new SoapFault('Sender', 'bad <tag> & "quote" \u0001', { detail: '</gw:Message><evil/>' });
    const xml = faultEnvelope(f, { relatesTo: '<x>' });
    const { header, fault: el } = fault(xml);
    expect(child(child(el, NS.soap12, 'Reason')!, NS.soap12, 'Text')!.text).to.equal('bad <tag> & "quote" \uFFFD');
    expect(child(child(el, NS.soap12, 'Detail')!, GATEWAY_FAULT_NS, 'Message')!.text).to.equal('</gw:Message><evil/>');
    expect(child(header, NS.wsa, 'RelatesTo')!.text).to.equal('<x>');
  });

  it('names the missing header in wsa:ProblemHeaderQName', () => {
    const f = new SoapFault('Sender', 'wsa:Action is required', { subcode: WSA_SUBCODE.messageAddressingHeaderRequired, problemHeader: 'wsa:Action' });
    const detail = child(fault(faultEnvelope(f)).fault, NS.soap12, 'Detail')!;
    expect(child(detail, NS.wsa, 'ProblemHeaderQName')!.text).to.equal('wsa:Action');
  });
});
