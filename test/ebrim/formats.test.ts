import { expect } from 'chai';
import { formatCx, parseCx } from '../../src/ebrim/cx.js';
import { compareDtm, dtmLowerBound, dtmStartsBeforeEnd, dtmUpperBound, isDtm } from '../../src/ebrim/dtm.js';
import { isDocumentUniqueId, isOid, isUuidUrn } from '../../src/ebrim/values.js';

describe('ebrim value formats', () => {
  describe('parseCx', () => {
    it('reads ID^^^&OID&ISO and the CI-SIS form with identifier type NH', () => {
      expect(parseCx('SELF-5^^^&1.3.6.1.4.1.21367.2005.3.7&ISO')).to.deep.equal({ id: 'SELF-5', authority: '1.3.6.1.4.1.21367.2005.3.7' });
      expect(parseCx('248039263001064^^^&1.2.250.1.213.1.4.8&ISO^NH')).to.deep.equal({ id: '248039263001064', authority: '1.2.250.1.213.1.4.8', idType: 'NH' });
    });

    for (const bad of [
      '',
      '123',
      '^^^&1.2.3&ISO',
      '123^^^1.2.3',
      '123^^^&1.2.3&L',
      '123^^^NS&1.2.3&ISO',
      '123^x^^&1.2.3&ISO',
      '123^^^&1.2.3',
      '123^^^&abc&ISO',
      '123^^^&1.2.3&ISO^',
      '123^^^&1.2.3&ISO^NH^x',
      '12 3^^^&1.2.3&ISO',
    ]) {
      it(`refuses '${bad}'`, () => expect(parseCx(bad)).to.equal(undefined));
    }

    it('formats what it parses back to the same text', () => {
      for (const s of ['A1^^^&1.2.3&ISO', 'A1^^^&1.2.3&ISO^NH']) expect(formatCx(parseCx(s)!)).to.equal(s);
    });
  });

  describe('DTM', () => {
    it('accepts every precision from year to second', () => {
      for (const s of ['2024', '202402', '20240229', '2024022923', '202402292359', '20240229235959']) expect(isDtm(s), s).to.equal(true);
    });

    it('refuses other shapes and out-of-range parts', () => {
      for (const s of ['24', '20241', '2023-01-01', '20230229', '20241301', '20240100', '2024010124', '202401012360', '20240101235960', '20240101120000Z', '20240101120000+0100']) {
        expect(isDtm(s), s).to.equal(false);
      }
    });

    it('expands a period to its first and last second', () => {
      expect(dtmLowerBound('2024')).to.equal('20240101000000');
      expect(dtmUpperBound('2024')).to.equal('20241231235959');
      expect(dtmUpperBound('202402')).to.equal('20240229235959');
      expect(dtmUpperBound('2024021510')).to.equal('20240215105959');
      expect(dtmUpperBound('20240215103000')).to.equal('20240215103000');
    });

    it('compares by first second and checks start against the end of the stop period', () => {
      expect(compareDtm('2024', '20240101')).to.equal(0);
      expect(compareDtm('20240102', '2024')).to.equal(1);
      expect(dtmStartsBeforeEnd('2024011423', '20240114')).to.equal(true);
      expect(dtmStartsBeforeEnd('20240115', '20240114')).to.equal(false);
    });
  });

  describe('identifiers', () => {
    it('checks OIDs strictly', () => {
      for (const s of ['1.2', '1.2.250.1.213.1.4.10', '2.16.840.1.113883.6.1', '1.0.3']) expect(isOid(s), s).to.equal(true);
      for (const s of ['1', '3670984664', '3.1', '1.02', '1..2', '1.2.', `1.${'2'.repeat(63)}`]) expect(isOid(s), s).to.equal(false);
    });

    it('checks DocumentEntry uniqueIds as OID or OID^extension', () => {
      expect(isDocumentUniqueId('1.2.3^abc-1')).to.equal(true);
      expect(isDocumentUniqueId('1.2.3^')).to.equal(false);
      expect(isDocumentUniqueId('1.2.3^a^b')).to.equal(false);
    });

    it('tells urn:uuid ids from symbolic ones', () => {
      expect(isUuidUrn('urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1')).to.equal(true);
      expect(isUuidUrn('Document01')).to.equal(false);
      expect(isUuidUrn('urn:uuid:Document01')).to.equal(false);
    });
  });
});
