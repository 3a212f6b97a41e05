import { expect } from 'chai';
import type { PatientCaller, ProfessionalCaller } from '../../src/policy/caller.js';
import { canDelete, canRead, canWrite, filterEntries, type EntryFacts, type RecordState } from '../../src/policy/rules.js';

const PATIENT = '2790512345678^^^&1.2.250.1.213.1.4.8&ISO';
const AUTHOR = '810001111111';
const OTHER = '810002222222';
const NOW = new Date('2026-06-15T10:00:00Z');

const professional = (over: Partial<ProfessionalCaller> = {}): ProfessionalCaller => ({
  kind: 'professional',
  professionalId: OTHER,
  professionalIdType: 'RPPS',
  roles: [{ code: '10' }],
  organisationId: '1999000018',
  organisationIdType: 'FINESS',
  purposeOfUse: 'normal',
  assertionId: '_a',
  issuer: 'idp',
  ...over,
});
const patient: PatientCaller = { kind: 'patient', patientId: PATIENT };

const record = (over: Partial<RecordState> = {}): RecordState => ({
  patientId: PATIENT,
  status: 'open',
  emergencyAccess: 'allowed',
  blockedProfessionals: new Set(),
  maskedDocuments: new Set(),
  ...over,
});

const entry = (over: Partial<EntryFacts> = {}): EntryFacts => ({
  uniqueId: '1.2.3.4',
  patientId: PATIENT,
  confidentialityCodes: [{ code: 'N', scheme: '2.16.840.1.113883.5.25' }],
  authorPersons: [AUTHOR],
  authorInstitutions: ['1999000017'],
  registeredAt: new Date('2026-06-01T10:00:00Z'),
  ...over,
});
const masquePs = { code: 'MASQUE_PS', scheme: '1.2.250.1.213.1.1.4.13' };
const invisiblePatient = { code: 'INVISIBLE_PATIENT', scheme: '1.2.250.1.213.1.1.4.13' };

const ruleOf = (d: ReturnType<typeof canRead>): string => (d.allowed ? 'allowed' : d.rule);

describe('access policy rules', () => {
  describe('the record', () => {
    it('lets a professional read a document of an open record', () => {
      expect(ruleOf(canRead(professional(), record(), entry(), NOW))).to.equal('allowed');
    });

    it('refuses when the patient has no record, naming NO_RECORD', () => {
      const d = canRead(professional(), undefined, entry(), NOW);
      expect(ruleOf(d)).to.equal('NO_RECORD');
      expect(d.allowed ? '' : d.error.message).to.match(/rule NO_RECORD/);
    });

    it('refuses everyone, the patient included, on a closed record', () => {
      expect(ruleOf(canRead(professional(), record({ status: 'closed' }), entry(), NOW))).to.equal('RECORD_CLOSED');
      expect(ruleOf(canRead(patient, record({ status: 'closed' }), entry(), NOW))).to.equal('RECORD_CLOSED');
      expect(ruleOf(canWrite(professional(), PATIENT, record({ status: 'closed' })))).to.equal('RECORD_CLOSED');
    });

    it('refuses a blocked professional and lets another one in', () => {
      const r = record({ blockedProfessionals: new Set([OTHER]) });
      expect(ruleOf(canRead(professional(), r, entry(), NOW))).to.equal('PROFESSIONAL_BLOCKED');
      expect(ruleOf(canWrite(professional(), PATIENT, r))).to.equal('PROFESSIONAL_BLOCKED');
      expect(ruleOf(canRead(professional({ professionalId: AUTHOR }), r, entry(), NOW))).to.equal('allowed');
    });

    it('refuses a patient on another patient record', () => {
      expect(ruleOf(canRead({ kind: 'patient', patientId: 'x^^^&1.2.250.1.213.1.4.8&ISO' }, record(), entry(), NOW))).to.equal('NOT_THE_PATIENTS_RECORD');
    });

    it('refuses a professional whose token names another patient', () => {
      expect(ruleOf(canWrite(professional({ patientId: 'x^^^&1.2.250.1.213.1.4.8&ISO' }), PATIENT, record()))).to.equal('TOKEN_NAMES_ANOTHER_PATIENT');
    });
  });

  describe('break-glass', () => {
    it('allows emergency access, flagged, when the patient has not refused it', () => {
      expect(canRead(professional({ purposeOfUse: 'emergency' }), record(), entry(), NOW)).to.deep.equal({ allowed: true, breakGlass: true });
      expect(canRead(professional({ purposeOfUse: 'regulation' }), record(), entry(), NOW)).to.deep.equal({ allowed: true, breakGlass: true });
      expect(canRead(professional(), record(), entry(), NOW)).to.deep.equal({ allowed: true, breakGlass: false });
    });

    it('refuses emergency access the patient refused, naming EMERGENCY_ACCESS_REFUSED', () => {
      expect(ruleOf(canRead(professional({ purposeOfUse: 'emergency' }), record({ emergencyAccess: 'refused' }), entry(), NOW))).to.equal('EMERGENCY_ACCESS_REFUSED');
      expect(ruleOf(canRead(professional(), record({ emergencyAccess: 'refused' }), entry(), NOW))).to.equal('allowed');
    });
  });

  describe('masked documents', () => {
    it('hides a MASQUE_PS document from professionals other than its author', () => {
      const masked = entry({ confidentialityCodes: [masquePs] });
      expect(ruleOf(canRead(professional(), record(), masked, NOW))).to.equal('DOCUMENT_MASKED');
      expect(ruleOf(canRead(professional({ professionalId: AUTHOR }), record(), masked, NOW))).to.equal('allowed');
      expect(ruleOf(canRead(patient, record(), masked, NOW))).to.equal('allowed');
    });

    it('hides a document the patient masked from professionals other than its author', () => {
      const r = record({ maskedDocuments: new Set(['1.2.3.4']) });
      expect(ruleOf(canRead(professional(), r, entry(), NOW))).to.equal('DOCUMENT_MASKED');
      expect(ruleOf(canRead(professional({ professionalId: AUTHOR }), r, entry(), NOW))).to.equal('allowed');
    });
  });

  describe('documents hidden from the patient', () => {
    const hidden = entry({ confidentialityCodes: [invisiblePatient], registeredAt: new Date('2026-06-01T10:00:00Z') });

    it('hides an INVISIBLE_PATIENT document from the patient for one month, not from professionals', () => {
      expect(ruleOf(canRead(patient, record(), hidden, new Date('2026-06-30T10:00:00Z')))).to.equal('DOCUMENT_HIDDEN_FROM_PATIENT');
      expect(ruleOf(canRead(professional(), record(), hidden, NOW))).to.equal('allowed');
    });

    it('shows it to the patient once one month has passed', () => {
      expect(ruleOf(canRead(patient, record(), hidden, new Date('2026-07-01T10:00:00Z')))).to.equal('allowed');
    });

    it('shows it to the patient as soon as the author makes it visible', () => {
      expect(ruleOf(canRead(patient, record(), { ...hidden, visibleToPatient: true }, NOW))).to.equal('allowed');
    });
  });

  describe('deletion', () => {
    it("lets the author's organisation delete and refuses another organisation", () => {
      expect(ruleOf(canDelete(professional({ organisationId: '1999000017' }), record(), entry()))).to.equal('allowed');
      expect(ruleOf(canDelete(professional(), record(), entry()))).to.equal('NOT_THE_AUTHOR');
    });

    it('lets the patient delete what they added, nothing else', () => {
      expect(ruleOf(canDelete(patient, record(), entry({ addedByPatient: true })))).to.equal('allowed');
      expect(ruleOf(canDelete(patient, record(), entry()))).to.equal('NOT_THE_AUTHOR');
    });
  });

  describe('filterEntries', () => {
    const entries = [entry({ uniqueId: 'a' }), entry({ uniqueId: 'b', confidentialityCodes: [masquePs] }), entry({ uniqueId: 'c', confidentialityCodes: [invisiblePatient] })];

    it('drops the documents a professional may not see and keeps the rest', () => {
      const out = filterEntries(professional(), PATIENT, record(), entries, NOW);
      expect(out.visible.map((e) => e.uniqueId)).to.deep.equal(['a', 'c']);
      expect(out.refusal).to.equal(undefined);
    });

    it('gives the author their masked document and the patient everything but what is hidden from them', () => {
      expect(filterEntries(professional({ professionalId: AUTHOR }), PATIENT, record(), entries, NOW).visible.map((e) => e.uniqueId)).to.deep.equal(['a', 'b', 'c']);
      expect(filterEntries(patient, PATIENT, record(), entries, NOW).visible.map((e) => e.uniqueId)).to.deep.equal(['a', 'b']);
    });

    it('answers a blocked professional with the same refusal whether or not documents exist', () => {
      const r = record({ blockedProfessionals: new Set([OTHER]) });
      const withDocs = filterEntries(professional(), PATIENT, r, entries, NOW);
      const without = filterEntries(professional(), PATIENT, r, [], NOW);
      expect(withDocs.visible).to.deep.equal([]);
      expect(withDocs.refusal?.error.message).to.equal(without.refusal?.error.message);
      expect(withDocs.refusal?.rule).to.equal('PROFESSIONAL_BLOCKED');
    });

    it('flags break-glass access', () => {
      expect(filterEntries(professional({ purposeOfUse: 'emergency' }), PATIENT, record(), entries, NOW).breakGlass).to.equal(true);
    });
  });
});
