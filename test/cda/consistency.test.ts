import { expect } from 'chai';
import { checkConsistency } from '../../src/cda/consistency.js';
import { detectType } from '../../src/cda/document-types.js';
import { iiToCx, readHeader, tsToUtcDtm, type CdaHeader } from '../../src/cda/header.js';
import type { DocSpec } from '../support/requests.js';
import { DMP_CODES, codeSpec } from '../support/requests.js';
import { entryFor, ownSample, parseCda } from './helpers.js';
import { TYPE_CASES, TYPES } from './types.js';

function headerOf(bytes: Buffer): CdaHeader {
  const doc = parseCda(bytes);
  try {
    return readHeader(doc);
  } finally {
    doc.dispose();
  }
}

/** The metadata/header problems of a DocumentEntry built from these bytes with some fields overridden. */
function problems(bytes: Buffer, overrides: Partial<DocSpec> = {}, patientId?: string): string[] {
  const header = headerOf(bytes);
  const entry = entryFor({ bytes, ...overrides }, patientId ?? iiToCx(header.patientIds[0]!));
  const type = detectType(TYPES, header.templateIds, header.body.kind);
  return checkConsistency(entry, header, type).map((i) => i.message);
}

describe('DocumentEntry metadata against the CDA header', () => {
  for (const c of TYPE_CASES) {
    it(`accepts the metadata built from the header of ${c.source}`, function () {
      const bytes = c.bytes();
      if (!bytes) this.skip();
      expect(problems(bytes)).to.deep.equal([]);
    });
  }

  describe('each field that disagrees is an error naming both values', () => {
    const ldl = () => ownSample('ldl-ses.xml');

    it('patientId vs recordTarget/patientRole/id', () => {
      expect(problems(ldl(), {}, '297069999900512^^^&1.2.250.1.213.1.4.8&ISO')).to.deep.equal([
        'DocumentEntry.patientId 297069999900512^^^&1.2.250.1.213.1.4.8&ISO does not match recordTarget/patientRole/id 148039999900218^^^&1.2.250.1.213.1.4.8&ISO, IPP-000218^^^&1.2.250.1.999.9.1.9&ISO',
      ]);
    });

    it('uniqueId vs ClinicalDocument/id', () => {
      expect(problems(ldl(), { uniqueId: '1.2.250.1.999.9.77' })).to.deep.equal(['DocumentEntry.uniqueId 1.2.250.1.999.9.77 does not match ClinicalDocument/id 1.2.250.1.999.9.1.2.1']);
    });

    it('typeCode vs ClinicalDocument/code', () => {
      const formatCode = DMP_CODES.ciSisFormat('urn:asip:ci-sis:ldl-ses:2017', 'Lettre de liaison à la sortie');
      expect(problems(ldl(), { typeCode: codeSpec('11488-4', DMP_CODES.loinc, 'CR de consultation'), formatCode })).to.deep.equal([
        'DocumentEntry.typeCode 11488-4 (2.16.840.1.113883.6.1) does not match ClinicalDocument/code 11490-0 (2.16.840.1.113883.6.1)',
      ]);
    });

    it('classCode vs the document type table', () => {
      expect(problems(ldl(), { classCode: DMP_CODES.classCode('11', 'Synthèse') })).to.deep.equal([
        'DocumentEntry.classCode 11 (1.2.250.1.213.1.1.4.1) does not match the LDL-SES document of the CDA header, which requires 10 (1.2.250.1.213.1.1.4.1)',
      ]);
    });

    it('formatCode vs the document type table', () => {
      expect(problems(ldl(), { formatCode: DMP_CODES.ciSisFormat('urn:asip:ci-sis:dlu:2015', 'DLU') })).to.deep.equal([
        'DocumentEntry.formatCode urn:asip:ci-sis:dlu:2015 (1.2.250.1.213.1.1.4.2.282) does not match the LDL-SES document of the CDA header, which requires urn:asip:ci-sis:ldl-ses:2017 (1.2.250.1.213.1.1.4.2.282)',
      ]);
    });

    it('formatCode of a level 1 document vs the media type of its body', () => {
      const e = problems(ownSample('unstructured-pdf.xml'), { formatCode: DMP_CODES.iheFormat('urn:ihe:iti:xds-sd:text:2008', 'texte') });
      expect(e).to.have.length(1);
      expect(e[0]).to.match(/DocumentEntry.formatCode urn:ihe:iti:xds-sd:text:2008 .* requires urn:ihe:iti:xds-sd:pdf:2008/);
    });

    it('confidentialityCode vs ClinicalDocument/confidentialityCode', () => {
      const restricted = codeSpec('R', '2.16.840.1.113883.5.25', 'Restreint');
      expect(problems(ldl(), { confidentiality: [restricted] })).to.deep.equal([
        'DocumentEntry.confidentialityCode R (2.16.840.1.113883.5.25) does not include ClinicalDocument/confidentialityCode N (2.16.840.1.113883.5.25)',
        'DocumentEntry.confidentialityCode R (2.16.840.1.113883.5.25) does not match ClinicalDocument/confidentialityCode N (2.16.840.1.113883.5.25)',
      ]);
    });

    it('accepts the DMP masking codes beside the header confidentiality', () => {
      expect(problems(ldl(), { confidentiality: [DMP_CODES.normal, DMP_CODES.masquePs, DMP_CODES.invisiblePatient] })).to.deep.equal([]);
    });

    it('creationTime vs ClinicalDocument/effectiveTime (converted to UTC)', () => {
      expect(problems(ldl(), { creationTime: '20240311160000' })).to.deep.equal([
        'DocumentEntry.creationTime 20240311160000 does not match ClinicalDocument/effectiveTime 20240311160000+0100 (20240311150000 UTC)',
      ]);
    });

    it('accepts a creationTime coarser than the header time when it agrees', () => {
      expect(problems(ldl(), { creationTime: '2024031115' })).to.deep.equal([]);
    });

    it('serviceStartTime and serviceStopTime vs documentationOf/serviceEvent/effectiveTime', () => {
      const e = problems(ldl(), { serviceStartTime: '20240301', serviceStopTime: '20240312' });
      expect(e).to.have.length(2);
      expect(e[0]).to.match(/^DocumentEntry.serviceStartTime 20240301 does not match documentationOf\/serviceEvent\/effectiveTime\/low /);
      expect(e[1]).to.match(/^DocumentEntry.serviceStopTime 20240312 does not match documentationOf\/serviceEvent\/effectiveTime\/high /);
    });

    it('languageCode vs ClinicalDocument/languageCode', () => {
      expect(problems(ldl(), { languageCode: 'en-GB' })).to.deep.equal(['DocumentEntry.languageCode en-GB does not match ClinicalDocument/languageCode fr-FR']);
    });

    it('authors vs ClinicalDocument/author, both ways', () => {
      const e = problems(ldl(), { authors: [{ person: '899700000011^VERNIER-ESSAI^Hélène^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS' }] });
      expect(e).to.deep.equal([
        'DocumentEntry.author authorPerson 899700000011^VERNIER-ESSAI^Hélène^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS is not an author of the CDA header (author/assignedAuthor/id 899700000035 (1.2.250.1.71.4.2.1))',
        'CDA author 899700000035 (1.2.250.1.71.4.2.1) is missing from DocumentEntry.author (authorPerson 899700000011^VERNIER-ESSAI^Hélène^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS)',
      ]);
    });

    it('legalAuthenticator vs ClinicalDocument/legalAuthenticator', () => {
      expect(problems(ldl(), { legalAuthenticator: '899700000011^VERNIER-ESSAI^Hélène^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS' })).to.deep.equal([
        'DocumentEntry.legalAuthenticator 899700000011^VERNIER-ESSAI^Hélène^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS does not match ClinicalDocument/legalAuthenticator/assignedEntity/id 899700000035 (1.2.250.1.71.4.2.1)',
      ]);
    });
  });
});

describe('CDA time stamps as XDS UTC times', () => {
  it('converts a time with a zone to UTC, keeping its precision', () => {
    expect(tsToUtcDtm('20240311160000+0100')).to.equal('20240311150000');
    expect(tsToUtcDtm('202403110030+0200')).to.equal('202403102230');
    expect(tsToUtcDtm('20241231233000-0100')).to.equal('20250101003000');
  });

  it('gives hour-precision times in half-hour zones their minutes', () => {
    expect(tsToUtcDtm('2024031116+0530')).to.equal('202403111030');
  });

  it('keeps dates and zone-less times as they are', () => {
    expect(tsToUtcDtm('20240311')).to.equal('20240311');
    expect(tsToUtcDtm('20240311160000')).to.equal('20240311160000');
    expect(tsToUtcDtm('20240311160000.123+0000')).to.equal('20240311160000');
  });

  it('refuses what is not a time stamp', () => {
    expect(tsToUtcDtm('2024-03-11')).to.equal(undefined);
    expect(tsToUtcDtm('2024031')).to.equal(undefined);
  });
});
