import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseProvideAndRegister } from '../../src/ebrim/parse.js';
import { ASSOCIATION_TYPE, DOCUMENT_ENTRY_SCHEME, NS, OBJECT_TYPE } from '../../src/ebrim/uuids.js';
import { validateSubmission } from '../../src/ebrim/validate.js';
import { child, parseXml } from '../../src/xml/tree.js';
import type { XdsError } from '../../src/errors.js';
import {
  PATIENT_AUTHORITY,
  PATIENT_ID,
  REPOSITORY_ID,
  base64Document,
  codesOf,
  documentBytes,
  documentFacts,
  entryId,
  entryUniqueId,
  runIti41,
  runIti42,
  sha1Of,
  submissionXml,
} from './fixtures.js';

const slotXml = (name: string, ...values: string[]): string =>
  `<rim:Slot name="${name}"><rim:ValueList>${values.map((v) => `<rim:Value>${v}</rim:Value>`).join('')}</rim:ValueList></rim:Slot>`;

/** Adds slots at the start of the first DocumentEntry. */
const withEntrySlots = (xml: string, slots: string): string => xml.replace('<rim:Slot name="creationTime">', `${slots}<rim:Slot name="creationTime">`);

/** Replaces the single value of a slot of the first DocumentEntry. */
const withSlotValue = (xml: string, name: string, value: string): string =>
  xml.replace(new RegExp(`(<rim:Slot name="${name}"><rim:ValueList><rim:Value>)[^<]*(</rim:Value>)`), `$1${value}$2`);

/** Removes the whole classification of this scheme from the first DocumentEntry. */
const withoutClassification = (xml: string, scheme: string): string =>
  xml.replace(new RegExp(`<rim:Classification id="[^"]*" classificationScheme="${scheme}".*?</rim:Classification>`), '');

const extraObjects = (xml: string, objects: string): string => xml.replace('</rim:RegistryObjectList>', `${objects}</rim:RegistryObjectList>`);

function only(errors: XdsError[]): XdsError {
  expect(errors, JSON.stringify(errors, null, 1)).to.have.length(1);
  return errors[0]!;
}

const OTHER_DOC = 'urn:uuid:3d2a5c1e-8f4b-4c6d-9e7f-0a1b2c3d4e5f';

describe('ebrim/validate', () => {
  it('accepts the fixture submission with one, several entries and a folder without any error', () => {
    expect(runIti41(submissionXml()).errors).to.deep.equal([]);
    expect(runIti41(submissionXml({ entries: 3, folder: true })).errors).to.deep.equal([]);
    expect(runIti42(submissionXml({ register: true, entries: 2, folder: true }), [REPOSITORY_ID]).errors).to.deep.equal([]);
  });

  it('accepts the IHE ITI-41 sample except its sourceId, which is not an OID', () => {
    const envelope = parseXml(readFileSync(path.resolve(process.cwd(), '../shared/samples/xds/ProvideAndRegisterDocumentSet-bRequest_SOAP.xml'), 'utf8'));
    const body = child(envelope, NS.soap12, 'Body')!.children[0]!;
    const parsed = parseProvideAndRegister(body, base64Document);
    expect(parsed.errors).to.deep.equal([]);
    const errors = validateSubmission(parsed.metadata!, {
      documents: documentFacts(parsed.documents),
      repositoryUniqueId: REPOSITORY_ID,
      patientAuthority: '1.3.6.1.4.1.21367.2005.3.7',
    });
    expect(errors.map((e) => e.toJSON())).to.deep.equal([
      {
        code: 'XDSRegistryMetadataError',
        message: "SubmissionSet 'SubmissionSet01': sourceId '3670984664' is not an OID of at most 64 characters",
        location: 'SubmissionSet01',
        severity: 'Error',
      },
    ]);
  });

  describe('XDSRegistryMetadataError', () => {
    for (const [field, scheme] of Object.entries({
      classCode: DOCUMENT_ENTRY_SCHEME.classCode,
      typeCode: DOCUMENT_ENTRY_SCHEME.typeCode,
      formatCode: DOCUMENT_ENTRY_SCHEME.formatCode,
      confidentialityCode: DOCUMENT_ENTRY_SCHEME.confidentialityCode,
      healthcareFacilityTypeCode: DOCUMENT_ENTRY_SCHEME.healthcareFacilityTypeCode,
      practiceSettingCode: DOCUMENT_ENTRY_SCHEME.practiceSettingCode,
    })) {
      it(`rejects a DocumentEntry without ${field}`, () => {
        const e = only(runIti41(withoutClassification(submissionXml(), scheme)).errors);
        expect(e).to.include({ code: 'XDSRegistryMetadataError', location: 'Document01' });
        expect(e.message).to.equal(`DocumentEntry 'Document01': ${field} is missing (classification ${scheme})`);
      });
    }

    for (const slot of ['creationTime', 'languageCode']) {
      it(`rejects a DocumentEntry without the ${slot} slot`, () => {
        const xml = submissionXml().replace(new RegExp(`<rim:Slot name="${slot}">.*?</rim:Slot>`), '');
        expect(only(runIti41(xml).errors).message).to.equal(`DocumentEntry 'Document01': required slot ${slot} is missing`);
      });
    }

    it('rejects a DocumentEntry without mimeType', () => {
      expect(only(runIti41(submissionXml().replace('mimeType="text/xml" ', '')).errors).message).to.equal("DocumentEntry 'Document01': mimeType is missing");
    });

    it('rejects a DocumentEntry without uniqueId or patientId', () => {
      const xml = submissionXml().replace(/<rim:ExternalIdentifier id="ei-Document01-\d".*?<\/rim:ExternalIdentifier>/g, '');
      const { errors } = runIti41(xml);
      expect(errors.map((e) => e.message)).to.deep.equal([
        `DocumentEntry 'Document01': uniqueId is missing (external identifier ${DOCUMENT_ENTRY_SCHEME.uniqueId})`,
        `DocumentEntry 'Document01': patientId is missing (external identifier ${DOCUMENT_ENTRY_SCHEME.patientId})`,
      ]);
    });

    it('rejects a code classification without nodeRepresentation or with two codingScheme slots', () => {
      const xml = submissionXml()
        .replace('nodeRepresentation="10"', 'nodeRepresentation=""')
        .replace(/(classificationScheme="urn:uuid:f0306f51-975f-434e-a61c-c59651d33983"[^>]*>)/, `$1${slotXml('codingScheme', 'x')}`);
      const messages = runIti41(xml).errors.map((e) => e.message);
      expect(messages).to.deep.equal([
        "DocumentEntry 'Document01': classCode classification has no nodeRepresentation (the code)",
        "DocumentEntry 'Document01': typeCode classification '11490-0' must have exactly one codingScheme slot, found 2",
      ]);
    });

    it('rejects a SubmissionSet without contentTypeCode, submissionTime, uniqueId or sourceId', () => {
      const xml = submissionXml()
        .replace(/<rim:Classification id="cl-ss-2".*?<\/rim:Classification>/, '')
        .replace(/<rim:Slot name="submissionTime">.*?<\/rim:Slot>/, '')
        .replace(/<rim:ExternalIdentifier id="ei-ss-[12]".*?<\/rim:ExternalIdentifier>/g, '');
      const { errors } = runIti41(xml);
      expect(errors.every((e) => e.code === 'XDSRegistryMetadataError' && e.location === 'SubmissionSet01')).to.equal(true);
      expect(errors.map((e) => e.message.replace(/ \(.*\)$/, ''))).to.deep.equal([
        "SubmissionSet 'SubmissionSet01': required slot submissionTime is missing",
        "SubmissionSet 'SubmissionSet01': contentTypeCode is missing",
        "SubmissionSet 'SubmissionSet01': uniqueId is missing",
        "SubmissionSet 'SubmissionSet01': sourceId is missing",
      ]);
    });

    it('rejects a SubmissionSet uniqueId longer than 64 characters', () => {
      const long = `1.2.250.1.999.${'1'.repeat(60)}`;
      const e = only(runIti41(submissionXml().replace('value="1.2.250.1.999.1.3.1"', `value="${long}"`)).errors);
      expect(e.message).to.equal(`SubmissionSet 'SubmissionSet01': uniqueId '${long}' is not an OID of at most 64 characters`);
    });

    it('accepts a DocumentEntry uniqueId of the form OID^extension and rejects one longer than 128 characters', () => {
      expect(runIti41(submissionXml().replace(`value="${entryUniqueId(1)}"`, `value="${entryUniqueId(1)}^DOC-2024-0001"`)).errors).to.deep.equal([]);
      const long = `${entryUniqueId(1)}^${'X'.repeat(120)}`;
      expect(only(runIti41(submissionXml().replace(`value="${entryUniqueId(1)}"`, `value="${long}"`)).errors).message).to.contain('is not an OID or OID^extension of at most 128 characters');
    });

    for (const [slot, value] of [
      ['creationTime', '2024-01-15'],
      ['creationTime', '20240230'],
      ['creationTime', '202401151260'],
      ['serviceStartTime', '20241301'],
      ['serviceStopTime', '2024011524'],
    ] as const) {
      it(`rejects ${slot} '${value}', not a valid DTM`, () => {
        const e = only(runIti41(withSlotValue(submissionXml(), slot, value)).errors);
        expect(e.message).to.equal(`DocumentEntry 'Document01': slot ${slot} value '${value}' is not a UTC date-time YYYY[MM[DD[hh[mm[ss]]]]]`);
      });
    }

    it('rejects a submissionTime that is not a DTM', () => {
      expect(only(runIti41(withSlotValue(submissionXml(), 'submissionTime', '20240115T120000Z')).errors).location).to.equal('SubmissionSet01');
    });

    it('rejects a serviceStartTime after the serviceStopTime, and accepts one inside the stop period', () => {
      expect(only(runIti41(withSlotValue(submissionXml(), 'serviceStartTime', '20240115')).errors).message).to.equal(
        "DocumentEntry 'Document01': serviceStartTime 20240115 is after serviceStopTime 20240114",
      );
      expect(runIti41(withSlotValue(submissionXml(), 'serviceStartTime', '2024011423')).errors).to.deep.equal([]);
    });

    it('rejects a single-valued slot sent with two values', () => {
      const xml = submissionXml().replace('<rim:Value>fr-FR</rim:Value>', '<rim:Value>fr-FR</rim:Value><rim:Value>en-US</rim:Value>');
      expect(only(runIti41(xml).errors).message).to.equal("DocumentEntry 'Document01': slot languageCode takes one value, found 2");
    });

    it('rejects a slot sent twice on one object', () => {
      expect(only(runIti41(withEntrySlots(submissionXml(), slotXml('languageCode', 'fr-FR'))).errors).message).to.equal(
        "DocumentEntry 'Document01': slot languageCode appears more than once",
      );
    });

    it('rejects a sourcePatientId that is not a CX', () => {
      const e = only(runIti41(withSlotValue(submissionXml(), 'sourcePatientId', '248039263001064^^^1.2.250.1.213.1.4.10')).errors);
      expect(e.message).to.contain('slot sourcePatientId value');
    });

    it('rejects a patientId whose CX form is not ID^^^&OID&ISO', () => {
      const bad = '248039263001064^^^&amp;1.2.250.1.213.1.4.10&amp;L';
      const xml = submissionXml().replace(/(id="ei-ss-3"[^>]*value=")[^"]*/, `$1${bad}`);
      const e = only(runIti41(xml).errors);
      expect(e).to.include({ code: 'XDSRegistryMetadataError', location: 'SubmissionSet01' });
      expect(e.message).to.contain('is not a patient id of the form ID^^^&OID&ISO');
    });

    it('rejects an author classification that names neither person, institution nor telecommunication', () => {
      const xml = submissionXml().replace(/<rim:Slot name="authorPerson">.*?<rim:Slot name="authorRole">/, '<rim:Slot name="authorRole">').replace(/<rim:Slot name="authorTelecommunication">.*?<\/rim:Slot>/, '');
      expect(only(runIti41(xml).errors).message).to.equal(
        "DocumentEntry 'Document01': author classification has none of authorPerson, authorInstitution, authorTelecommunication",
      );
    });

    it('rejects an author with two authorPerson values', () => {
      const xml = submissionXml().replace('<rim:Slot name="authorPerson"><rim:ValueList>', '<rim:Slot name="authorPerson"><rim:ValueList><rim:Value>Dr Who</rim:Value>');
      expect(only(runIti41(xml).errors).message).to.equal("DocumentEntry 'Document01': author classification slot authorPerson takes one value, found 2");
    });

    it('rejects a DocumentEntry the SubmissionSet does not HasMember', () => {
      const xml = submissionXml({ entries: 2 }).replace(/<rim:Association id="as02".*?<\/rim:Association>/, '');
      const e = only(runIti41(xml).errors);
      expect(e).to.include({ code: 'XDSRegistryMetadataError', location: 'Document02' });
      expect(e.message).to.equal("DocumentEntry 'Document02' is not a member of the SubmissionSet (no HasMember association from it)");
    });

    it('rejects a HasMember from the SubmissionSet to a DocumentEntry without SubmissionSetStatus, or with another value', () => {
      const without = submissionXml().replace(/(<rim:Association id="as01"[^>]*>).*?(<\/rim:Association>)/, '$1$2');
      expect(only(runIti41(without).errors).message).to.equal(
        "Association 'as01': HasMember from the SubmissionSet to a DocumentEntry needs a SubmissionSetStatus slot (Original or Reference)",
      );
      expect(only(runIti41(submissionXml().replace('<rim:Value>Original</rim:Value>', '<rim:Value>Copy</rim:Value>')).errors).message).to.equal(
        "Association 'as01': slot SubmissionSetStatus value 'Copy' is not 'Original' or 'Reference'",
      );
    });

    it('rejects an unknown associationType', () => {
      const xml = extraObjects(submissionXml(), `<rim:Association id="as-x" associationType="urn:x:Likes" sourceObject="${entryId(1)}" targetObject="${OTHER_DOC}"/>`);
      expect(only(runIti41(xml).errors).message).to.equal("Association 'as-x': associationType 'urn:x:Likes' is not an XDS association type");
    });

    it('rejects an association end that is neither in the submission nor a urn:uuid', () => {
      const xml = submissionXml().replace(`targetObject="${entryId(1)}"`, 'targetObject="Document99"');
      const { errors } = runIti41(xml);
      expect(errors.map((e) => e.message)).to.deep.equal([
        "Association 'as01': targetObject 'Document99' is neither an object of this submission nor the urn:uuid of a registry object",
        "DocumentEntry 'Document01' is not a member of the SubmissionSet (no HasMember association from it)",
      ]);
    });

    it('accepts an RPLC from a new DocumentEntry to a registered one, and rejects one whose source is not a DocumentEntry of the submission', () => {
      const rplc = (source: string): string => `<rim:Association id="as-r" associationType="${ASSOCIATION_TYPE.replace}" sourceObject="${source}" targetObject="${OTHER_DOC}"/>`;
      expect(runIti41(extraObjects(submissionXml(), rplc(entryId(1)))).errors).to.deep.equal([]);
      expect(only(runIti41(extraObjects(submissionXml(), rplc('SubmissionSet01'))).errors).message).to.equal(
        `Association 'as-r': the source of a ${ASSOCIATION_TYPE.replace} association must be a DocumentEntry of this submission`,
      );
    });

    it('rejects an APND whose target is an object of the same submission', () => {
      const xml = extraObjects(submissionXml({ entries: 2 }), `<rim:Association id="as-a" associationType="${ASSOCIATION_TYPE.append}" sourceObject="${entryId(2)}" targetObject="${entryId(1)}"/>`);
      expect(only(runIti41(xml).errors).message).to.contain('must be a DocumentEntry already in the registry');
    });

    it('accepts a signs association from a signature DocumentEntry to the SubmissionSet', () => {
      const xml = extraObjects(submissionXml({ entries: 2 }), `<rim:Association id="as-s" associationType="${ASSOCIATION_TYPE.signs}" sourceObject="${entryId(2)}" targetObject="SubmissionSet01"/>`);
      expect(runIti41(xml).errors).to.deep.equal([]);
    });

    it('rejects two objects with the same entryUUID', () => {
      const uuid = 'urn:uuid:0b8c6d52-3e4f-4a5b-9c6d-7e8f9a0b1c2d';
      const xml = submissionXml({ entries: 2 }).replaceAll(`"${entryId(1)}"`, `"${uuid}"`).replaceAll(`"${entryId(2)}"`, `"${uuid}"`);
      const { errors } = runIti41(xml);
      expect(errors.map((e) => e.message)).to.include(`id '${uuid}' is used by more than one object of the submission`);
    });

    it('rejects an On-Demand DocumentEntry in ITI-41', () => {
      const e = only(runIti41(submissionXml().replace(OBJECT_TYPE.stableDocumentEntry, OBJECT_TYPE.onDemandDocumentEntry)).errors);
      expect(e).to.include({ code: 'XDSRegistryMetadataError', location: 'Document01' });
      expect(e.message).to.contain('On-Demand DocumentEntries are not accepted by Provide and Register (ITI-41)');
    });

    it('rejects an ITI-42 entry without hash, size and repositoryUniqueId', () => {
      const xml = submissionXml({ register: true }).replace(/<rim:Slot name="(hash|size|repositoryUniqueId)">.*?<\/rim:Slot>/g, '');
      expect(runIti42(xml).errors.map((e) => e.message)).to.deep.equal([
        "DocumentEntry 'Document01': required slot hash is missing",
        "DocumentEntry 'Document01': required slot size is missing",
        "DocumentEntry 'Document01': required slot repositoryUniqueId is missing",
      ]);
    });

    it('rejects an ITI-42 hash that is not 40 hexadecimal digits', () => {
      expect(only(runIti42(withSlotValue(submissionXml({ register: true }), 'hash', 'abc')).errors).message).to.equal(
        "DocumentEntry 'Document01': slot hash value 'abc' is not a SHA-1 in 40 hexadecimal digits",
      );
    });
  });

  describe('patient identity', () => {
    it('rejects a SubmissionSet patient of another assigning authority with XDSUnknownPatientId', () => {
      const foreign = '123^^^&amp;1.2.3.4&amp;ISO';
      const xml = submissionXml().replaceAll(PATIENT_ID.replaceAll('&', '&amp;'), foreign);
      const e = only(runIti41(xml).errors);
      expect(e).to.include({ code: 'XDSUnknownPatientId', location: 'SubmissionSet01' });
      expect(e.message).to.contain(`assigning authority 1.2.3.4, which is not of this affinity domain (${PATIENT_AUTHORITY})`);
    });

    it('rejects a DocumentEntry of another patient than the SubmissionSet with XDSPatientIdDoesNotMatch', () => {
      const other = `999999999999999^^^&amp;${PATIENT_AUTHORITY}&amp;ISO^NH`;
      const xml = submissionXml({ entries: 2 }).replace(/(id="ei-Document02-1"[^>]*value=")[^"]*/, `$1${other}`);
      const e = only(runIti41(xml).errors);
      expect(e).to.include({ code: 'XDSPatientIdDoesNotMatch', location: 'Document02' });
      expect(e.message).to.contain("DocumentEntry 'Document02': patientId 999999999999999^^^&1.2.250.1.213.1.4.10&ISO^NH differs from the SubmissionSet's");
    });

    it('rejects a Folder of another patient than the SubmissionSet with XDSPatientIdDoesNotMatch', () => {
      const other = `999999999999999^^^&amp;${PATIENT_AUTHORITY}&amp;ISO^NH`;
      const xml = submissionXml({ folder: true }).replace(/(id="ei-f-2"[^>]*value=")[^"]*/, `$1${other}`);
      expect(only(runIti41(xml).errors)).to.include({ code: 'XDSPatientIdDoesNotMatch', location: 'Folder01' });
    });
  });

  describe('unique ids', () => {
    it('rejects two DocumentEntries with one uniqueId in ITI-41 with XDSRepositoryDuplicateUniqueIdInMessage', () => {
      const xml = submissionXml({ entries: 2 }).replace(`value="${entryUniqueId(2)}"`, `value="${entryUniqueId(1)}"`);
      const e = only(runIti41(xml).errors);
      expect(e).to.include({ code: 'XDSRepositoryDuplicateUniqueIdInMessage', location: 'Document02' });
      expect(e.message).to.equal(`DocumentEntry 'Document02': uniqueId ${entryUniqueId(1)} is also used by 'Document01' in this message`);
    });

    it('rejects a Folder reusing the SubmissionSet uniqueId in ITI-42 with XDSRegistryDuplicateUniqueIdInMessage', () => {
      const xml = submissionXml({ register: true, folder: true }).replace('value="1.2.250.1.999.1.5.1"', 'value="1.2.250.1.999.1.3.1"');
      expect(only(runIti42(xml).errors)).to.include({ code: 'XDSRegistryDuplicateUniqueIdInMessage', location: 'Folder01' });
    });
  });

  describe('documents of ITI-41', () => {
    it('rejects a DocumentEntry without xdsb:Document with XDSMissingDocument', () => {
      const xml = submissionXml().replace(/<xdsb:Document .*?<\/xdsb:Document>/, '');
      const e = only(runIti41(xml).errors);
      expect(e).to.include({ code: 'XDSMissingDocument', location: 'Document01', message: "DocumentEntry 'Document01' has no xdsb:Document" });
    });

    it('rejects an xdsb:Document without DocumentEntry with XDSMissingDocumentMetadata', () => {
      const xml = submissionXml().replace('</xdsb:ProvideAndRegisterDocumentSetRequest>', '<xdsb:Document id="Stray">AAAA</xdsb:Document></xdsb:ProvideAndRegisterDocumentSetRequest>');
      expect(only(runIti41(xml).errors)).to.include({ code: 'XDSMissingDocumentMetadata', location: 'Stray', message: "xdsb:Document 'Stray' has no DocumentEntry" });
    });

    it('rejects a DocumentEntry whose hash slot disagrees with the bytes with XDSRepositoryMetadataError, and accepts the right one in upper case', () => {
      const wrong = sha1Of(Buffer.from('other'));
      const e = only(runIti41(withEntrySlots(submissionXml(), slotXml('hash', wrong))).errors);
      expect(e).to.include({ code: 'XDSRepositoryMetadataError', location: 'Document01' });
      expect(e.message).to.contain(`hash slot ${wrong} does not match the SHA-1 of the document bytes`);
      expect(runIti41(withEntrySlots(submissionXml(), slotXml('hash', sha1Of(documentBytes(1)).toUpperCase()))).errors).to.deep.equal([]);
    });

    it('rejects a DocumentEntry whose size slot disagrees with the bytes with XDSRepositoryMetadataError', () => {
      const e = only(runIti41(withEntrySlots(submissionXml(), slotXml('size', String(documentBytes(1).length + 1)))).errors);
      expect(e).to.include({ code: 'XDSRepositoryMetadataError', location: 'Document01' });
      expect(e.message).to.contain('does not match the document length');
      expect(runIti41(withEntrySlots(submissionXml(), slotXml('size', String(documentBytes(1).length)))).errors).to.deep.equal([]);
    });

    it('rejects a DocumentEntry naming another repository with XDSRepositoryMetadataError', () => {
      const e = only(runIti41(withEntrySlots(submissionXml(), slotXml('repositoryUniqueId', '1.2.3.4.5'))).errors);
      expect(e).to.include({ code: 'XDSRepositoryMetadataError', location: 'Document01' });
      expect(e.message).to.equal(`DocumentEntry 'Document01': repositoryUniqueId slot 1.2.3.4.5 is not this repository (${REPOSITORY_ID})`);
    });
  });

  describe('ITI-42 repositories', () => {
    it('rejects a repositoryUniqueId the registry does not know with XDSUnknownRepositoryId', () => {
      const e = only(runIti42(submissionXml({ register: true }), ['1.2.3.4.5']).errors);
      expect(e).to.include({ code: 'XDSUnknownRepositoryId', location: 'Document01' });
    });
  });

  it('collects every failure of a submission in one answer', () => {
    const xml = withSlotValue(submissionXml({ entries: 2 }), 'creationTime', '2024')
      .replace(/<rim:Slot name="languageCode">.*?<\/rim:Slot>/, '')
      .replace(`value="${entryUniqueId(2)}"`, `value="${entryUniqueId(1)}"`)
      .replace(/<xdsb:Document id="Document02">.*?<\/xdsb:Document>/, '')
      .replace('mimeType="text/xml"', 'mimeType="not a mime type"');
    const { errors } = runIti41(withoutClassification(xml, DOCUMENT_ENTRY_SCHEME.typeCode));
    expect(codesOf(errors)).to.deep.equal([
      'XDSRegistryMetadataError',
      'XDSRegistryMetadataError',
      'XDSRegistryMetadataError',
      'XDSRepositoryDuplicateUniqueIdInMessage',
      'XDSMissingDocument',
    ]);
    expect(errors.map((e) => e.message.split(': ')[1])).to.deep.equal([
      'required slot languageCode is missing',
      `typeCode is missing (classification ${DOCUMENT_ENTRY_SCHEME.typeCode})`,
      "mimeType 'not a mime type' is not a MIME type",
      `uniqueId ${entryUniqueId(1)} is also used by 'Document01' in this message`,
      undefined,
    ]);
  });
});
