import { expect } from 'chai';
import { auditMessageXml, EVENT_ID, type AuditEvent } from '../../src/audit/message.js';
import { auditSubjects } from '../../src/audit/subjects.js';
import type { ProfessionalCaller } from '../../src/policy/caller.js';
import { parseEnvelope } from '../../src/soap/envelope.js';
import { childrenOf, child, parseXml, type XmlElement } from '../../src/xml/tree.js';
import { buildIti18Request, buildIti41Request, buildIti43Request, newPatientId, queryList, queryString } from '../support/requests.js';

const doctor: ProfessionalCaller = {
  kind: 'professional',
  professionalId: '810001234567',
  professionalIdType: 'RPPS',
  name: 'MARTIN Jeanne',
  roles: [{ code: '10', codeSystem: '1.2.250.1.213.1.1.4.5', displayName: 'Médecin' }],
  organisationId: '1999000017',
  organisationIdType: 'FINESS',
  purposeOfUse: 'emergency',
  assertionId: '_a',
  issuer: 'idp',
};

const event = (over: Partial<AuditEvent> = {}): AuditEvent => ({
  at: new Date('2026-05-04T10:11:12.000Z'),
  eventId: EVENT_ID.export,
  action: 'R',
  eventType: { code: 'ITI-43', system: 'IHE Transactions', display: 'Retrieve Document Set' },
  outcome: 0,
  caller: doctor,
  sourceAddress: '10.0.0.7',
  destination: '/xds/iti43',
  patientIds: ['2790512345678^^^&1.2.250.1.213.1.4.8&ISO'],
  documentIds: ['1.2.3.4', '1.2.3.5'],
  ...over,
});

const code = (el: XmlElement | undefined): Record<string, string> => el?.attrs ?? {};

describe('ATNA audit message (DICOM PS3.15 A.5)', () => {
  it('identifies the event with its DICOM event id, IHE transaction, action, time and outcome', () => {
    const msg = parseXml(auditMessageXml(event(), { sourceId: 'gw-1' }));
    expect(msg.local).to.equal('AuditMessage');
    const ev = child(msg, '', 'EventIdentification')!;
    expect(ev.attrs).to.include({ EventActionCode: 'R', EventDateTime: '2026-05-04T10:11:12.000Z', EventOutcomeIndicator: '0' });
    expect(code(child(ev, '', 'EventID'))).to.include({ 'csd-code': '110106', codeSystemName: 'DCM' });
    expect(code(child(ev, '', 'EventTypeCode'))).to.include({ 'csd-code': 'ITI-43', codeSystemName: 'IHE Transactions' });
    expect(code(child(ev, '', 'PurposeOfUse'))['csd-code']).to.equal('emergency');
  });

  it('names the professional as requestor with their roles, the endpoint as destination, and the audit source', () => {
    const msg = parseXml(auditMessageXml(event(), { sourceId: 'gw-1' }));
    const [requestor, destination] = childrenOf(msg, '', 'ActiveParticipant');
    expect(requestor!.attrs).to.include({ UserID: '810001234567', AlternativeUserID: '1999000017', UserName: 'MARTIN Jeanne', UserIsRequestor: 'true', NetworkAccessPointID: '10.0.0.7' });
    expect(childrenOf(requestor!, '', 'RoleIDCode').map((r) => r.attrs['csd-code'])).to.deep.equal(['110153', '10']);
    expect(destination!.attrs).to.include({ UserID: '/xds/iti43', UserIsRequestor: 'false' });
    expect(child(msg, '', 'AuditSourceIdentification')!.attrs.AuditSourceID).to.equal('gw-1');
  });

  it('lists the patient and each document as participant objects', () => {
    const objects = childrenOf(parseXml(auditMessageXml(event(), { sourceId: 'gw-1' })), '', 'ParticipantObjectIdentification');
    expect(objects.map((o) => [o.attrs.ParticipantObjectID, o.attrs.ParticipantObjectTypeCode, o.attrs.ParticipantObjectTypeCodeRole])).to.deep.equal([
      ['2790512345678^^^&1.2.250.1.213.1.4.8&ISO', '1', '1'],
      ['1.2.3.4', '2', '3'],
      ['1.2.3.5', '2', '3'],
    ]);
  });

  it('carries the stored query in base64 for ITI-18', () => {
    const xml = auditMessageXml(event({ query: { id: 'urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d', text: 'a=b' }, documentIds: [] }), { sourceId: 'gw-1' });
    const query = childrenOf(parseXml(xml), '', 'ParticipantObjectIdentification').find((o) => o.attrs.ParticipantObjectTypeCodeRole === '24')!;
    expect(Buffer.from(child(query, '', 'ParticipantObjectQuery')!.text, 'base64').toString()).to.equal('a=b');
  });
});

describe('audit subjects of SOAP requests', () => {
  it('reads the patient and document uniqueIds of an ITI-41 submission', () => {
    const patientId = newPatientId();
    const req = buildIti41Request({ patientId, documents: [{ bytes: Buffer.from('x'), mimeType: 'text/plain' }] }, 'inline');
    const subjects = auditSubjects(parseEnvelope(req.body.toString()).body);
    expect(subjects.patientIds).to.deep.equal([patientId]);
    expect(subjects.documentIds).to.deep.equal(req.uniqueIds.documents);
  });

  it('reads the documents of an ITI-43 request and the patient and query of an ITI-18 request', () => {
    const retrieve = buildIti43Request([{ repositoryUniqueId: '1.2.3', documentUniqueId: '1.2.3.9' }]);
    expect(auditSubjects(parseEnvelope(retrieve.body.toString()).body).documentIds).to.deep.equal(['1.2.3.9']);
    const patientId = newPatientId();
    const query = buildIti18Request({
      queryId: 'urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d',
      params: { $XDSDocumentEntryPatientId: queryString(patientId), $XDSDocumentEntryStatus: queryList('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved') },
    });
    const subjects = auditSubjects(parseEnvelope(query.body.toString()).body);
    expect(subjects.patientIds).to.deep.equal([patientId]);
    expect(subjects.query?.id).to.equal('urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d');
    expect(subjects.query?.text).to.include('$XDSDocumentEntryPatientId=');
  });
});
