import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseProvideAndRegister, parseRegisterDocumentSet, parseRegistryObjectList, toSubmissionMetadata } from '../../src/ebrim/parse.js';
import { ASSOCIATION_TYPE, CLASSIFICATION_NODE, NS } from '../../src/ebrim/uuids.js';
import { isUuidUrn } from '../../src/ebrim/values.js';
import { child, parseXml, type XmlElement } from '../../src/xml/tree.js';
import { base64Document, documentBytes, entryId, runIti41, submissionXml } from './fixtures.js';

const samples = path.resolve(process.cwd(), '../shared/samples/xds');

function soapBody(file: string): XmlElement {
  const envelope = parseXml(readFileSync(path.join(samples, file), 'utf8'));
  return child(envelope, NS.soap12, 'Body')!.children[0]!;
}

const listOf = (xml: string): XmlElement => parseXml(`<rim:RegistryObjectList xmlns:rim="${NS.rim}">${xml}</rim:RegistryObjectList>`);

describe('ebrim/parse', () => {
  describe('parseProvideAndRegister', () => {
    it('reads the IHE ITI-41 sample: one DocumentEntry, the SubmissionSet, one HasMember, one document', () => {
      const parsed = parseProvideAndRegister(soapBody('ProvideAndRegisterDocumentSet-bRequest_SOAP.xml'), base64Document);
      expect(parsed.errors).to.deep.equal([]);
      const m = parsed.metadata!;
      expect(m.documentEntries).to.have.length(1);
      const entry = m.documentEntries[0]!;
      expect(entry.submittedId).to.equal('Document01');
      expect(entry.uniqueId).to.equal('1.3.6.1.4.1.21367.2005.3.9999.32');
      expect(entry.patientId).to.equal('SELF-5^^^&1.3.6.1.4.1.21367.2005.3.7&ISO');
      expect(entry.classCode).to.deep.equal({ code: 'History and Physical', codingScheme: 'Connect-a-thon classCodes', displayName: 'History and Physical' });
      expect(entry.typeCode?.code).to.equal('34108-1');
      expect(entry.confidentialityCodes.map((c) => c.code)).to.deep.equal(['1.3.6.1.4.1.21367.2006.7.101']);
      expect(entry.authors).to.deep.equal([
        { person: 'Gerald Smitty', institutions: ['Cleveland Clinic', 'Parma Community'], roles: ['Attending'], specialties: ['Orthopedic'], telecommunications: [] },
      ]);
      expect(entry.sourcePatientInfo).to.have.length(5);
      expect(entry.title).to.equal('Physical');
      expect(m.submissionSet.sourceId).to.equal('3670984664');
      expect(m.submissionSet.comments).to.equal('Annual physical');
      expect(m.submissionSet.contentTypeCode?.code).to.equal('History and Physical');
      expect(m.associations).to.have.length(1);
      expect(m.associations[0]!.submissionSetStatus).to.equal('Original');
      expect(parsed.documents.map((d) => d.submittedId)).to.deep.equal(['Document01']);
      expect(parsed.documents[0]!.bytes.toString('latin1')).to.equal('R0lGODlhcgGSALMAAAQCAEMmCZtuMFQxDS8b');
    });

    it('attaches the top-level SubmissionSet node classification to the RegistryPackage it classifies', () => {
      const m = parseProvideAndRegister(soapBody('ProvideAndRegisterDocumentSet-bRequest_SOAP.xml'), base64Document).metadata!;
      const node = m.submissionSet.rim.classifications.find((c) => c.classificationNode === CLASSIFICATION_NODE.submissionSet);
      expect(node?.classifiedObject).to.equal(m.submissionSet.id);
    });

    it('normalises the legacy association type HasMember to its full URN', () => {
      const m = parseProvideAndRegister(soapBody('ProvideAndRegisterDocumentSet-bRequest_SOAP.xml'), base64Document).metadata!;
      expect(m.associations[0]!.type).to.equal(ASSOCIATION_TYPE.hasMember);
      expect(m.associations[0]!.rim.associationType).to.equal(ASSOCIATION_TYPE.hasMember);
    });

    it('keeps every slot of a DocumentEntry, names, values and order unchanged, and an unusual mimeType as sent', () => {
      const xml = submissionXml()
        .replace('mimeType="text/xml"', 'mimeType="text/goofy"')
        .replace('<rim:Slot name="creationTime">', '<rim:Slot name="urn:dmp:extra" slotType="rim:StringValueType"><rim:ValueList><rim:Value>b</rim:Value><rim:Value>a</rim:Value><rim:Value></rim:Value></rim:ValueList></rim:Slot><rim:Slot name="creationTime">');
      const { metadata, errors } = runIti41(xml);
      expect(errors).to.deep.equal([]);
      const rim = metadata!.documentEntries[0]!.rim;
      expect(metadata!.documentEntries[0]!.mimeType).to.equal('text/goofy');
      expect(rim.mimeType).to.equal('text/goofy');
      expect(rim.slots.map((s) => s.name)).to.deep.equal([
        'urn:dmp:extra',
        'creationTime',
        'languageCode',
        'serviceStartTime',
        'serviceStopTime',
        'sourcePatientId',
        'sourcePatientInfo',
        'legalAuthenticator',
      ]);
      expect(rim.slots[0]).to.deep.equal({ name: 'urn:dmp:extra', slotType: 'rim:StringValueType', values: ['b', 'a', ''] });
      expect(rim.slots[6]!.values).to.deep.equal(['PID-5|DUPONT^MARIE^^^^^L', 'PID-7|19800101', 'PID-8|F']);
      expect(rim.name).to.deep.equal([{ value: 'Lettre de liaison 1', lang: 'fr-FR', charset: 'UTF-8' }]);
      expect(rim.description).to.deep.equal([{ value: "Sortie d'hospitalisation" }]);
      expect(rim.versionName).to.equal('1');
      expect(rim.classifications).to.have.length(7);
      expect(rim.classifications[1]!.slots).to.deep.equal([{ name: 'codingScheme', values: ['1.2.250.1.213.1.1.4.1'] }]);
      expect(rim.externalIdentifiers.map((e) => e.value)).to.deep.equal(['248039263001064^^^&1.2.250.1.213.1.4.10&ISO^NH', '1.2.250.1.999.1.1.1']);
    });

    it('replaces symbolic ids by fresh urn:uuid ids consistently across objects, classifications, identifiers and associations', () => {
      const { metadata } = runIti41(submissionXml({ entries: 2, folder: true }));
      const m = metadata!;
      const [e1, e2] = m.documentEntries;
      const all = [m.submissionSet, ...m.documentEntries, ...m.folders, ...m.associations];
      for (const o of all) expect(isUuidUrn(o.id), o.submittedId).to.equal(true);
      expect(new Set(all.map((o) => o.id)).size).to.equal(all.length);
      expect(e1!.lid).to.equal(e1!.id);
      for (const e of m.documentEntries) {
        for (const c of e.rim.classifications) {
          expect(isUuidUrn(c.id)).to.equal(true);
          expect(c.classifiedObject).to.equal(e.id);
        }
        for (const x of e.rim.externalIdentifiers) {
          expect(isUuidUrn(x.id)).to.equal(true);
          expect(x.registryObject).to.equal(e.id);
        }
      }
      const bySubmitted = new Map(m.associations.map((a) => [a.submittedId, a]));
      expect(bySubmitted.get('as01')).to.include({ sourceObject: m.submissionSet.id, targetObject: e1!.id });
      expect(bySubmitted.get('as02')).to.include({ sourceObject: m.submissionSet.id, targetObject: e2!.id });
      expect(bySubmitted.get('as-f-1')).to.include({ sourceObject: m.folders[0]!.id, targetObject: e1!.id });
      expect(bySubmitted.get('as-ss-as-f-1')!.targetObject).to.equal(bySubmitted.get('as-f-1')!.id);
      expect(m.folders[0]!.rim.classifications.find((c) => c.classificationNode === CLASSIFICATION_NODE.folder)?.classifiedObject).to.equal(m.folders[0]!.id);
    });

    it('keeps urn:uuid ids as sent and maps a symbolic lid like the id it names', () => {
      const uuid = 'urn:uuid:0b8c6d52-3e4f-4a5b-9c6d-7e8f9a0b1c2d';
      const xml = submissionXml().replaceAll(`"${entryId(1)}"`, `"${uuid}"`).replace(`id="${uuid}" mimeType`, `id="${uuid}" lid="${uuid}" mimeType`);
      const { metadata, errors } = runIti41(xml);
      expect(errors).to.deep.equal([]);
      expect(metadata!.documentEntries[0]).to.include({ id: uuid, submittedId: uuid, lid: uuid });
      expect(metadata!.associations[0]!.targetObject).to.equal(uuid);
    });

    it('leaves an association end that names no object of the submission as written', () => {
      const { metadata } = runIti41(submissionXml().replace(`targetObject="${entryId(1)}"`, 'targetObject="Nowhere"'));
      expect(metadata!.associations[0]!.targetObject).to.equal('Nowhere');
    });

    it('returns the bytes of each xdsb:Document through the resolver', () => {
      const parsed = parseProvideAndRegister(parseXml(submissionXml({ entries: 2 })), base64Document);
      expect(parsed.documents.map((d) => d.submittedId)).to.deep.equal(['Document01', 'Document02']);
      expect(parsed.documents[1]!.bytes.equals(documentBytes(2))).to.equal(true);
    });

    it('lets an exception of the document resolver propagate', () => {
      expect(() =>
        parseProvideAndRegister(parseXml(submissionXml()), () => {
          throw new Error('no MIME part cid:doc1');
        }),
      ).to.throw('no MIME part cid:doc1');
    });

    it('reports a repeated xdsb:Document id with XDSRegistryMetadataError', () => {
      const xml = submissionXml().replace('</xdsb:ProvideAndRegisterDocumentSetRequest>', `<xdsb:Document id="${entryId(1)}">AAAA</xdsb:Document></xdsb:ProvideAndRegisterDocumentSetRequest>`);
      const parsed = parseProvideAndRegister(parseXml(xml), base64Document);
      expect(parsed.errors.map((e) => e.code)).to.deep.equal(['XDSRegistryMetadataError']);
      expect(parsed.errors[0]!.message).to.contain("xdsb:Document id 'Document01'");
    });

    it('reports a body that is not a ProvideAndRegisterDocumentSetRequest, naming the element', () => {
      const parsed = parseProvideAndRegister(parseXml(`<x:Other xmlns:x="urn:x"/>`), base64Document);
      expect(parsed.metadata).to.equal(undefined);
      expect(parsed.errors[0]!.code).to.equal('XDSRegistryMetadataError');
      expect(parsed.errors[0]!.message).to.contain('{urn:x}Other');
    });

    it('reports a request without lcm:SubmitObjectsRequest', () => {
      const parsed = parseProvideAndRegister(parseXml(`<xdsb:ProvideAndRegisterDocumentSetRequest xmlns:xdsb="${NS.xdsb}"/>`), base64Document);
      expect(parsed.errors.map((e) => e.message)).to.deep.equal(['xdsb:ProvideAndRegisterDocumentSetRequest has no lcm:SubmitObjectsRequest']);
    });
  });

  describe('parseRegisterDocumentSet', () => {
    it('reads the IHE ITI-42 sample into the same metadata as ITI-41', () => {
      const parsed = parseRegisterDocumentSet(soapBody('RegisterDocumentSet-bRequest_SOAP.xml'));
      expect(parsed.errors).to.deep.equal([]);
      expect(parsed.metadata!.documentEntries[0]!.uniqueId).to.equal('1.3.6.1.4.1.21367.2005.3.9999.32');
      expect(parsed.metadata!.submissionSet.submissionTime).to.equal('20041225235050');
    });

    it('reports a body that is not an lcm:SubmitObjectsRequest', () => {
      const parsed = parseRegisterDocumentSet(parseXml(`<xdsb:ProvideAndRegisterDocumentSetRequest xmlns:xdsb="${NS.xdsb}"/>`));
      expect(parsed.errors[0]!.message).to.equal('expected lcm:SubmitObjectsRequest, found {urn:ihe:iti:xds-b:2007}ProvideAndRegisterDocumentSetRequest');
    });
  });

  describe('parseRegistryObjectList', () => {
    it('keeps the ids of rim:ObjectRef elements', () => {
      const ref = 'urn:uuid:0b8c6d52-3e4f-4a5b-9c6d-7e8f9a0b1c2d';
      const parsed = parseRegistryObjectList(listOf(`<rim:ObjectRef id="${ref}"/>`));
      expect(parsed).to.deep.equal({ objects: [], objectRefs: [ref], errors: [] });
    });

    it('reports malformed structure as XDSRegistryMetadataError naming the element, without throwing', () => {
      const parsed = parseRegistryObjectList(
        listOf(
          '<rim:ExtrinsicObject mimeType="text/xml"/>' +
            '<rim:Association id="a1" sourceObject="x"/>' +
            '<rim:Classification id="c9" classifiedObject="Ghost" classificationNode="n"/>' +
            '<rim:Bogus id="b1"/>' +
            '<rim:RegistryPackage id="p1"><rim:Slot><rim:ValueList/></rim:Slot><other xmlns="urn:x"/></rim:RegistryPackage>' +
            '<rim:ObjectRef id="Symbolic"/>',
        ),
      );
      expect(parsed.errors.every((e) => e.code === 'XDSRegistryMetadataError')).to.equal(true);
      expect(parsed.errors.map((e) => e.message)).to.deep.equal([
        'rim:ExtrinsicObject has no id attribute',
        "rim:Association 'a1' has no associationType attribute",
        "rim:Association 'a1' has no targetObject attribute",
        'unexpected element rim:Bogus in rim:RegistryObjectList',
        "rim:Slot without a name attribute in 'p1'",
        "unexpected element {urn:x}other in rim:RegistryPackage 'p1'",
        "rim:ObjectRef id 'Symbolic' is not a urn:uuid of a registry object",
        "rim:Classification 'c9' classifies 'Ghost', which is not an object of this submission",
      ]);
    });
  });

  describe('toSubmissionMetadata', () => {
    it('refuses a submission without a SubmissionSet', () => {
      const { objects } = parseRegistryObjectList(listOf('<rim:RegistryPackage id="p1"/>'));
      const result = toSubmissionMetadata(objects);
      expect(result.metadata).to.equal(undefined);
      expect(result.errors.map((e) => e.message)).to.deep.equal([
        "rim:RegistryPackage 'p1' is classified neither as SubmissionSet nor as Folder",
        'the submission has no SubmissionSet (a rim:RegistryPackage classified with urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd)',
      ]);
    });

    it('reports a second SubmissionSet with XDSRegistryMetadataError', () => {
      const second = `<rim:RegistryPackage id="SubmissionSet02"/><rim:Classification id="n2" classifiedObject="SubmissionSet02" classificationNode="${CLASSIFICATION_NODE.submissionSet}"/>`;
      const { errors } = runIti41(submissionXml().replace('</rim:RegistryObjectList>', `${second}</rim:RegistryObjectList>`));
      expect(errors[0]).to.include({ code: 'XDSRegistryMetadataError', location: 'SubmissionSet02' });
      expect(errors[0]!.message).to.contain('more than one SubmissionSet');
    });

    it('reports an ExtrinsicObject whose objectType is not a DocumentEntry type', () => {
      const { errors } = runIti41(submissionXml().replace('objectType="urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1"', 'objectType="urn:x:other"'));
      expect(errors[0]).to.include({ code: 'XDSRegistryMetadataError', location: 'Document01' });
      expect(errors[0]!.message).to.contain("objectType 'urn:x:other'");
    });
  });
});
