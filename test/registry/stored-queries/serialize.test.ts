import { expect } from 'chai';
import { fillTemplate, LeafClassWriter, objectRefXml, rimObjectTemplate, rimObjectXml } from '../../../src/ebrim/serialize.js';
import { NS, STATUS } from '../../../src/ebrim/uuids.js';
import { answerBuffers } from '../../../src/xml/buffer-pool.js';
import { child, childrenOf, parseXml } from '../../../src/xml/tree.js';
import { makeDocumentEntry, makeFolder, newPatientId } from '../factory.js';

const wrap = (xml: string) => parseXml(`<rim:RegistryObjectList xmlns:rim="${NS.rim}">${xml}</rim:RegistryObjectList>`).children[0]!;

describe('ebRIM serialization of registry objects', () => {
  it('writes a DocumentEntry with every slot, name, classification and external identifier as stored, and the registry status', () => {
    const d = makeDocumentEntry({ patientId: newPatientId(), title: 'Résultats <urgents> & "bilan"' });
    const el = wrap(rimObjectXml(d.rim, { status: STATUS.deprecated, lid: d.lid, versionName: '2' }));
    expect(el.local).to.equal('ExtrinsicObject');
    expect(el.attrs).to.include({ id: d.id, status: STATUS.deprecated, lid: d.lid, mimeType: 'text/xml', objectType: d.rim.objectType });
    expect(childrenOf(el, NS.rim, 'Slot').map((s) => s.attrs.name)).to.deep.equal(d.rim.slots.map((s) => s.name));
    const extension = childrenOf(el, NS.rim, 'Slot').find((s) => s.attrs.name === 'x-local-extension')!;
    expect(extension.children[0]!.children.map((v) => v.text)).to.deep.equal(['kept as sent', '']);
    expect(child(child(el, NS.rim, 'Name')!, NS.rim, 'LocalizedString')!.attrs.value).to.equal('Résultats <urgents> & "bilan"');
    expect(child(el, NS.rim, 'VersionInfo')!.attrs.versionName).to.equal('2');
    expect(childrenOf(el, NS.rim, 'Classification').map((c) => c.attrs.id)).to.deep.equal(d.rim.classifications.map((c) => c.id));
    expect(childrenOf(el, NS.rim, 'ExternalIdentifier').map((e) => e.attrs.value)).to.deep.equal(d.rim.externalIdentifiers.map((e) => e.value));
    const order = el.children.map((c) => c.local);
    expect(order.lastIndexOf('Slot')).to.be.lessThan(order.indexOf('Name'));
    expect(order.indexOf('VersionInfo')).to.be.lessThan(order.indexOf('Classification'));
    expect(order.lastIndexOf('Classification')).to.be.lessThan(order.indexOf('ExternalIdentifier'));
  });

  it('writes a Folder with its classification node and the registry lastUpdateTime in place of the stored one', () => {
    const f = makeFolder(newPatientId());
    f.rim.slots.push({ name: 'lastUpdateTime', values: ['20000101000000'] });
    const el = wrap(rimObjectXml(f.rim, { status: STATUS.approved, lastUpdateTime: '20240301120000' }));
    const slots = childrenOf(el, NS.rim, 'Slot').filter((s) => s.attrs.name === 'lastUpdateTime');
    expect(slots).to.have.length(1);
    expect(slots[0]!.children[0]!.children[0]!.text).to.equal('20240301120000');
    expect(childrenOf(el, NS.rim, 'Classification').some((c) => c.attrs.classificationNode === 'urn:uuid:d9d542f3-6cc4-48b6-8870-ea235fbc94c2')).to.equal(true);
  });

  it('completes the commit-time template into the same XML as a direct rendering, for every combination of registry facts', () => {
    const d = makeDocumentEntry({ patientId: newPatientId() });
    const withHome = { ...makeFolder(newPatientId()).rim, home: 'urn:oid:1.2.3' };
    withHome.slots = [...withHome.slots, { name: 'lastUpdateTime', values: ['20000101000000'] }];
    const factSets = [{}, { status: STATUS.deprecated }, { status: STATUS.approved, lid: d.lid, versionName: '3' }, { home: 'urn:oid:9&9', lastUpdateTime: '20240301120000' }];
    for (const rim of [d.rim, makeFolder(newPatientId()).rim, withHome]) {
      const template = rimObjectTemplate(rim);
      for (const facts of factSets) {
        expect(fillTemplate(template, facts)).to.equal(rimObjectXml(rim, facts));
        expect(new LeafClassWriter().template(template, facts).bytes().toString('utf8')).to.equal(rimObjectXml(rim, facts));
      }
    }
    const el = wrap(fillTemplate(rimObjectTemplate(withHome), {}));
    expect(el.attrs.home).to.equal('urn:oid:1.2.3');
    expect(childrenOf(el, NS.rim, 'Classification').every((c) => c.attrs.home === undefined)).to.equal(true);
  });

  it('puts the home community of the answer on the object and on each of its classifications and external identifiers, and none without one', () => {
    const d = makeDocumentEntry({ patientId: newPatientId() });
    const template = rimObjectTemplate(d.rim);
    const parts = (el: ReturnType<typeof wrap>) => [el, ...childrenOf(el, NS.rim, 'Classification'), ...childrenOf(el, NS.rim, 'ExternalIdentifier')];
    const homed = wrap(new LeafClassWriter().template(template, { status: STATUS.approved, home: 'urn:oid:1.2.250.1.999' }).bytes().toString('utf8'));
    expect(parts(homed).length).to.be.greaterThan(5);
    expect(parts(homed).map((e) => e.attrs.home)).to.deep.equal(parts(homed).map(() => 'urn:oid:1.2.250.1.999'));
    expect(homed.attrs.status).to.equal(STATUS.approved);
    const bare = wrap(new LeafClassWriter().template(template, { status: STATUS.deprecated }).bytes().toString('utf8'));
    expect(parts(bare).every((e) => e.attrs.home === undefined)).to.equal(true);
    expect(bare.attrs.status).to.equal(STATUS.deprecated);
  });

  it('writes U+0001 and U+0002 of a submitted value as U+FFFD so that a value cannot act as a placeholder', () => {
    const d = makeDocumentEntry({ patientId: newPatientId(), title: 'a\u0001Sb\u0002' });
    const xml = rimObjectXml(d.rim, { status: STATUS.approved });
    expect(xml.includes('\u0001') || xml.includes('\u0002')).to.equal(false);
    expect(child(child(wrap(xml), NS.rim, 'Name')!, NS.rim, 'LocalizedString')!.attrs.value).to.equal('a\uFFFDSb\uFFFD');
  });

  it('writes every non-ASCII character as a character reference, so that a stored template is pure ASCII, and reads back the same text', () => {
    const title = 'Compte rendu — été 😀 <b> & Ω';
    const d = makeDocumentEntry({ patientId: newPatientId(), title });
    d.rim.slots.push({ name: 'x-accents', values: ['Médecin qualifié en médecine générale'] });
    const template = rimObjectTemplate(d.rim);
    expect(/[^\0-\x7f]/.test(template)).to.equal(false);
    expect(template).to.include('&#233;t&#233; &#128512;');
    const el = wrap(fillTemplate(template, { status: STATUS.approved }));
    expect(child(child(el, NS.rim, 'Name')!, NS.rim, 'LocalizedString')!.attrs.value).to.equal(title);
    const slot = childrenOf(el, NS.rim, 'Slot').find((s) => s.attrs.name === 'x-accents')!;
    expect(slot.children[0]!.children[0]!.text).to.equal('Médecin qualifié en médecine générale');
  });

  it('completes a template stored before templates were ASCII into the same UTF-8 bytes', () => {
    const d = makeDocumentEntry({ patientId: newPatientId(), title: 'Résultats' });
    const legacy = rimObjectTemplate(d.rim).replaceAll('&#233;', 'é');
    expect(legacy).to.include('Résultats');
    const facts = { status: STATUS.deprecated, lid: d.lid, versionName: '2', home: 'urn:oid:1.2.3' };
    const bytes = new LeafClassWriter().template(legacy, facts).bytes();
    expect(bytes.equals(Buffer.from(fillTemplate(legacy, facts), 'utf8'))).to.equal(true);
    expect(bytes.toString('utf8')).to.include('value="Résultats"');
  });

  it('writes several objects, templates and rendered XML, one after the other into one buffer', () => {
    const a = makeDocumentEntry({ patientId: newPatientId(), title: 'été' });
    const b = makeDocumentEntry({ patientId: newPatientId(), title: 'hiver' });
    const legacy = rimObjectTemplate(b.rim).replaceAll('hiver', 'hivèr');
    const facts = { status: STATUS.approved };
    const bytes = new LeafClassWriter().template(rimObjectTemplate(a.rim), facts).xml(rimObjectXml(b.rim, facts)).template(legacy, facts).bytes();
    expect(bytes.toString('utf8')).to.equal(rimObjectXml(a.rim, facts) + rimObjectXml(b.rim, facts) + fillTemplate(legacy, facts));
  });

  it('writes an answer into a lent buffer that held an earlier answer, leaving none of its bytes', () => {
    const facts = { status: STATUS.approved };
    const entries = Array.from({ length: 5 }, (_, i) => makeDocumentEntry({ patientId: newPatientId(), title: `entry ${i}` }));
    const expected = entries.map((e) => rimObjectXml(e.rim, facts)).join('');
    // An earlier answer filled all of the memory this one will be lent.
    const earlier = answerBuffers.acquire(expected.length);
    Buffer.from(earlier.buffer).fill('Z');
    answerBuffers.release(earlier);
    const out = new LeafClassWriter();
    for (const e of entries) out.template(rimObjectTemplate(e.rim), facts);
    const bytes = out.bytes();
    expect(bytes.buffer, 'the buffer given back is lent again').to.equal(earlier.buffer);
    expect(bytes.toString('utf8')).to.equal(expected);
    answerBuffers.release(bytes);
  });

  it('writes a lone surrogate (no character at all) as U+FFFD', () => {
    const d = makeDocumentEntry({ patientId: newPatientId(), title: 'a\ud800b' });
    const el = wrap(rimObjectXml(d.rim, {}));
    expect(child(child(el, NS.rim, 'Name')!, NS.rim, 'LocalizedString')!.attrs.value).to.equal('a\uFFFDb');
  });

  it('writes an ObjectRef with the home community when given', () => {
    expect(wrap(objectRefXml('urn:uuid:x', 'urn:oid:1.2.3')).attrs).to.deep.equal({ id: 'urn:uuid:x', home: 'urn:oid:1.2.3' });
  });
});
