import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { NS, SOAP_ACTION } from '../../src/ebrim/uuids.js';
import { actionNotSupported, parseEnvelope, responseEnvelope } from '../../src/soap/envelope.js';
import { faultEnvelope, SoapFault, WSA_SUBCODE } from '../../src/soap/fault.js';
import { child, parseXml } from '../../src/xml/tree.js';

const SAMPLES = path.resolve(process.cwd(), '../shared/samples/xds');

function envelope(header: string, body = '<q:Ping xmlns:q="urn:example"/>', ns: string = NS.soap12): string {
  return `<env:Envelope xmlns:env="${ns}" xmlns:wsa="${NS.wsa}"><env:Header>${header}</env:Header><env:Body>${body}</env:Body></env:Envelope>`;
}

const ACTION = `<wsa:Action env:mustUnderstand="1">urn:example:Ping</wsa:Action>`;
const MESSAGE_ID = `<wsa:MessageID>urn:uuid:11111111-2222-3333-4444-555555555555</wsa:MessageID>`;

function faultOf(fn: () => unknown): SoapFault {
  try {
    fn();
  } catch (err) {
    if (err instanceof SoapFault) return err;
    throw err;
  }
  throw new Error('expected a SoapFault');
}

describe('soap/envelope', () => {
  describe('parseEnvelope', () => {
    it('reads the IHE Provide and Register sample: action, MessageID, ReplyTo, To and the body element', () => {
      const xml = readFileSync(path.join(SAMPLES, 'ProvideAndRegisterDocumentSet-bRequest_SOAP.xml'), 'utf8');
      const req = parseEnvelope(xml);
      expect(req.action).to.equal(SOAP_ACTION.iti41);
      expect(req.messageId).to.equal('urn:uuid:6d296e90-e5dc-43d0-b455-7c1f3eb35d83');
      expect(req.replyTo).to.equal('http://www.w3.org/2005/08/addressing/anonymous');
      expect(req.to).to.equal('http://localhost:2647/XdsService/IHEXDSRepository.svc');
      expect(req.body.ns).to.equal(NS.xdsb);
      expect(req.body.local).to.equal('ProvideAndRegisterDocumentSetRequest');
      expect(req.header?.local).to.equal('Header');
      expect(req.security).to.equal(undefined);
    });

    it('reads the IHE Retrieve and Stored Query samples', () => {
      const retrieve = parseEnvelope(readFileSync(path.join(SAMPLES, 'RetrieveDocumentSetRequest_SOAP.xml'), 'utf8'));
      expect(retrieve.action).to.equal(SOAP_ACTION.iti43);
      expect(retrieve.body.local).to.equal('RetrieveDocumentSetRequest');
      const query = parseEnvelope(readFileSync(path.join(SAMPLES, 'RegistryStoredQueryRequest_SOAP.xml'), 'utf8'));
      expect(query.action).to.equal(SOAP_ACTION.iti18);
      expect(query.body.local).to.equal('AdhocQueryRequest');
    });

    it('returns the wsse:Security header, which it understands even when mustUnderstand', () => {
      const security = `<wsse:Security xmlns:wsse="${NS.wsse}" env:mustUnderstand="true"><x:Token xmlns:x="urn:x"/></wsse:Security>`;
      const req = parseEnvelope(envelope(ACTION + MESSAGE_ID + security));
      expect(req.security?.local).to.equal('Security');
      expect(req.security?.children[0]?.local).to.equal('Token');
    });

    it('answers a SOAP 1.1 envelope with VersionMismatch (HTTP 500)', () => {
      const f = faultOf(() => parseEnvelope(envelope(ACTION, undefined, NS.soap11)));
      expect(f.code).to.equal('VersionMismatch');
      expect(f.httpStatus).to.equal(500);
      expect(f.reason).to.contain('SOAP 1.1');
    });

    it('answers an Envelope in any other namespace with VersionMismatch', () => {
      const f = faultOf(() => parseEnvelope('<Envelope xmlns="urn:not-soap"><Body><x/></Body></Envelope>'));
      expect(f.code).to.equal('VersionMismatch');
      expect(f.reason).to.contain('urn:not-soap');
    });

    it('answers a root that is not an Envelope with a Sender fault', () => {
      const f = faultOf(() => parseEnvelope(`<env:Body xmlns:env="${NS.soap12}"/>`));
      expect(f.code).to.equal('Sender');
      expect(f.httpStatus).to.equal(400);
      expect(f.reason).to.contain('env:Body');
    });

    it('answers malformed XML with a Sender fault that says so', () => {
      const f = faultOf(() => parseEnvelope(`<env:Envelope xmlns:env="${NS.soap12}"><env:Body>`));
      expect(f.code).to.equal('Sender');
      expect(f.reason).to.match(/^malformed XML: /);
    });

    it('refuses a DOCTYPE as malformed XML', () => {
      const f = faultOf(() => parseEnvelope(`<!DOCTYPE x [<!ENTITY a "b">]>${envelope(ACTION)}`));
      expect(f.code).to.equal('Sender');
      expect(f.reason).to.contain('DOCTYPE');
    });

    it('requires a Body', () => {
      const f = faultOf(() => parseEnvelope(`<env:Envelope xmlns:env="${NS.soap12}" xmlns:wsa="${NS.wsa}"><env:Header>${ACTION}</env:Header></env:Envelope>`));
      expect(f.code).to.equal('Sender');
      expect(f.reason).to.contain('env:Body');
    });

    it('refuses an element after the Body', () => {
      const xml = `<env:Envelope xmlns:env="${NS.soap12}" xmlns:wsa="${NS.wsa}"><env:Header>${ACTION}</env:Header><env:Body><x/></env:Body><env:Body/></env:Envelope>`;
      expect(faultOf(() => parseEnvelope(xml)).reason).to.contain('after env:Body');
    });

    it('requires exactly one element in the Body', () => {
      expect(faultOf(() => parseEnvelope(envelope(ACTION, ''))).reason).to.contain('env:Body is empty');
      const two = faultOf(() => parseEnvelope(envelope(ACTION, '<a/><b/>')));
      expect(two.code).to.equal('Sender');
      expect(two.reason).to.contain('2 elements');
    });

    it('requires wsa:Action, with subcode wsa:MessageAddressingHeaderRequired', () => {
      const f = faultOf(() => parseEnvelope(envelope(MESSAGE_ID)));
      expect(f.code).to.equal('Sender');
      expect(f.subcode).to.deep.equal(WSA_SUBCODE.messageAddressingHeaderRequired);
      expect(f.reason).to.contain('wsa:Action');
      expect(f.problemHeader).to.equal('wsa:Action');
      expect(f.httpStatus).to.equal(400);
    });

    it('requires wsa:Action also when there is no Header at all', () => {
      const f = faultOf(() => parseEnvelope(`<env:Envelope xmlns:env="${NS.soap12}"><env:Body><x/></env:Body></env:Envelope>`));
      expect(f.subcode?.local).to.equal('MessageAddressingHeaderRequired');
    });

    it('refuses two wsa:Action headers and an empty one with wsa:InvalidAddressingHeader', () => {
      const twice = faultOf(() => parseEnvelope(envelope(ACTION + ACTION)));
      expect(twice.subcode).to.deep.equal(WSA_SUBCODE.invalidAddressingHeader);
      expect(twice.reason).to.contain('2 wsa:Action headers');
      const empty = faultOf(() => parseEnvelope(envelope('<wsa:Action> </wsa:Action>')));
      expect(empty.subcode).to.deep.equal(WSA_SUBCODE.invalidAddressingHeader);
      expect(empty.reason).to.contain('wsa:Action is empty');
    });

    it('accepts a request without MessageID', () => {
      const req = parseEnvelope(envelope(ACTION));
      expect(req.action).to.equal('urn:example:Ping');
      expect(req.messageId).to.equal(undefined);
    });

    it('answers an unknown mustUnderstand header with MustUnderstand naming it, and NotUnderstood in the fault', () => {
      const block = `<s:Session xmlns:s="urn:example:session" env:mustUnderstand="1">42</s:Session>`;
      const f = faultOf(() => parseEnvelope(envelope(ACTION + MESSAGE_ID + block)));
      expect(f.code).to.equal('MustUnderstand');
      expect(f.httpStatus).to.equal(500);
      expect(f.reason).to.contain('{urn:example:session}Session');
      expect(f.relatesTo).to.equal('urn:uuid:11111111-2222-3333-4444-555555555555');
      const header = child(parseXml(faultEnvelope(f)), NS.soap12, 'Header')!;
      const nu = child(header, NS.soap12, 'NotUnderstood')!;
      expect(nu.attrs.qname).to.equal('nu:Session');
      expect(child(header, NS.wsa, 'RelatesTo')!.text).to.equal('urn:uuid:11111111-2222-3333-4444-555555555555');
    });

    it('ignores unknown headers that are optional or addressed to another role', () => {
      const optional = `<s:Session xmlns:s="urn:example:session" env:mustUnderstand="false">42</s:Session>`;
      const otherRole = `<s:Trace xmlns:s="urn:example:session" env:mustUnderstand="1" env:role="urn:example:proxy"/>`;
      const none = `<s:Note xmlns:s="urn:example:session" env:mustUnderstand="1" env:role="http://www.w3.org/2003/05/soap-envelope/role/none"/>`;
      expect(parseEnvelope(envelope(ACTION + optional + otherRole + none)).action).to.equal('urn:example:Ping');
    });

    it('refuses an env:mustUnderstand value that is not a boolean', () => {
      const f = faultOf(() => parseEnvelope(envelope(ACTION.replace('"1"', '"yes"'))));
      expect(f.code).to.equal('Sender');
      expect(f.reason).to.contain("'yes'");
    });

    it('refuses an action the endpoint does not serve with wsa:ActionNotSupported', () => {
      const f = faultOf(() => parseEnvelope(envelope(ACTION + MESSAGE_ID), { expectedActions: [SOAP_ACTION.iti41] }));
      expect(f.code).to.equal('Sender');
      expect(f.subcode).to.deep.equal(WSA_SUBCODE.actionNotSupported);
      expect(f.reason).to.contain('urn:example:Ping');
      expect(f.relatesTo).to.equal('urn:uuid:11111111-2222-3333-4444-555555555555');
      expect(parseEnvelope(envelope(ACTION), { expectedActions: new Set(['urn:example:Ping']) }).action).to.equal('urn:example:Ping');
    });

    it('requires an Address in wsa:ReplyTo', () => {
      const f = faultOf(() => parseEnvelope(envelope(ACTION + '<wsa:ReplyTo/>')));
      expect(f.subcode?.local).to.equal('InvalidAddressingHeader');
      expect(f.reason).to.contain('wsa:ReplyTo');
    });
  });

  describe('actionNotSupported', () => {
    it('is a Sender fault with subcode wsa:ActionNotSupported naming the action', () => {
      const f = actionNotSupported('urn:x:Unknown');
      expect(f.code).to.equal('Sender');
      expect(f.httpStatus).to.equal(400);
      expect(f.subcode?.local).to.equal('ActionNotSupported');
      expect(f.reason).to.contain('urn:x:Unknown');
      const detail = faultEnvelope(f);
      expect(detail).to.contain('<wsa:ProblemAction><wsa:Action>urn:x:Unknown</wsa:Action></wsa:ProblemAction>');
    });
  });

  describe('responseEnvelope', () => {
    it('writes Action (mustUnderstand), a fresh MessageID, RelatesTo and the body, and parses back', () => {
      const xml = responseEnvelope({
        action: 'urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-bResponse',
        relatesTo: 'urn:uuid:6d296e90-e5dc-43d0-b455-7c1f3eb35d83',
        bodyXml: `<rs:RegistryResponse xmlns:rs="${NS.rs}" status="urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success"/>`,
      });
      const req = parseEnvelope(xml);
      expect(req.action).to.equal('urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-bResponse');
      expect(req.messageId).to.match(/^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(req.body.local).to.equal('RegistryResponse');
      const action = child(req.header!, NS.wsa, 'Action')!;
      expect(action.attrs[`{${NS.soap12}}mustUnderstand`]).to.equal('1');
      expect(child(req.header!, NS.wsa, 'RelatesTo')!.text).to.equal('urn:uuid:6d296e90-e5dc-43d0-b455-7c1f3eb35d83');
    });

    it('omits RelatesTo when the request had no MessageID', () => {
      const xml = responseEnvelope({ action: 'urn:a', bodyXml: '<x/>' });
      expect(xml).to.not.contain('RelatesTo');
    });
  });
});
