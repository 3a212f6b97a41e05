import { expect } from 'chai';
import type { XmlDocument } from 'libxml2-wasm';
import { detectType, type DocumentType } from '../../src/cda/document-types.js';
import { readHeader } from '../../src/cda/header.js';
import type { CdaIssue } from '../../src/cda/issues.js';
import { checkDocumentType } from '../../src/cda/templates.js';
import { HL7, mutated, parseCda, removeAll, setAttrAll } from './helpers.js';
import { TYPE_CASES, TYPES, typeNamed } from './types.js';

const BODY = '/hl7:ClinicalDocument/hl7:component/hl7:structuredBody';

function check(doc: XmlDocument, type: DocumentType): CdaIssue[] {
  return checkDocumentType(doc, readHeader(doc), type);
}

const errorsOf = (issues: CdaIssue[]) => issues.filter((i) => i.severity === 'Error').map((i) => i.message);
const warningsOf = (issues: CdaIssue[]) => issues.filter((i) => i.severity === 'Warning').map((i) => i.message);

/** Runs a check on a fresh copy of the valid document after a change. */
function afterChange(bytes: Buffer, type: DocumentType, change: (doc: XmlDocument) => number): { changed: number; issues: CdaIssue[] } {
  const after = mutated(bytes, change);
  const doc = parseCda(after.bytes);
  try {
    return { changed: after.changed, issues: check(doc, type) };
  } finally {
    doc.dispose();
  }
}

describe('CDA document types (cda-templates/)', () => {
  it('describes LDL-SES, CR-BIO, DLU with FLUDT and FLUDR, CR-IMG, VSM, VAC and unstructured documents', () => {
    expect(TYPES.map((t) => t.type).sort()).to.deep.equal(['CR-BIO', 'CR-IMG', 'DLU', 'DLU-FLUDR', 'DLU-FLUDT', 'LDL-SES', 'VAC', 'VSM', 'unstructured']);
  });

  for (const c of TYPE_CASES) {
    const type = typeNamed(c.type);
    describe(`${c.type} (${c.source})`, () => {
      let bytes: Buffer;
      before(function () {
        const b = c.bytes();
        if (!b) {
          console.log(`      (skipped: ${c.source} is not on this machine)`);
          this.skip();
        }
        bytes = b;
      });

      it('is recognised and passes every rule of its type', () => {
        const doc = parseCda(bytes);
        try {
          const header = readHeader(doc);
          expect(detectType(TYPES, header.templateIds, header.body.kind)?.type).to.equal(c.type);
          expect(errorsOf(checkDocumentType(doc, header, type))).to.deep.equal([]);
        } finally {
          doc.dispose();
        }
      });

      for (const id of type.templateIds) {
        it(`is refused without ClinicalDocument/templateId ${id}`, () => {
          const { changed, issues } = afterChange(bytes, type, (doc) => removeAll(doc, `/hl7:ClinicalDocument/hl7:templateId[@root='${id}']`));
          expect(changed).to.be.greaterThan(0);
          expect(errorsOf(issues)).to.include(`${c.type}: ClinicalDocument/templateId ${id} is required`);
        });
      }

      if (type.code.length) {
        it(`is refused when ClinicalDocument/code is not ${type.code[0]!.code}`, () => {
          const { issues } = afterChange(bytes, type, (doc) => setAttrAll(doc, '/hl7:ClinicalDocument/hl7:code', 'code', '11488-4'));
          expect(errorsOf(issues).some((m) => m.startsWith(`${c.type}: ClinicalDocument/code is 11488-4`))).to.equal(true, errorsOf(issues).join('\n'));
        });
      }

      for (const p of type.header) {
        it(`is refused without header element ${p}`, () => {
          const xpath = `/hl7:ClinicalDocument/${p.split('/').map((s) => `hl7:${s}`).join('/')}`;
          const { changed, issues } = afterChange(bytes, type, (doc) => removeAll(doc, xpath));
          expect(changed).to.be.greaterThan(0);
          expect(errorsOf(issues)).to.include(`${c.type}: header element ClinicalDocument/${p} is required`);
        });
      }

      for (const s of type.sections) {
        const sections = `${BODY}//hl7:section[hl7:templateId/@root='${s.templateId}']`;
        it(`${s.required ? 'is refused' : 'gets a warning'} without the section "${s.name}" (${s.templateId})`, () => {
          const { issues } = afterChange(bytes, type, (doc) => removeAll(doc, sections));
          const expected = s.required ? errorsOf(issues) : warningsOf(issues);
          expect(expected.some((m) => m.includes(`section "${s.name}" (templateId ${s.templateId}`))).to.equal(true, issues.map((i) => i.message).join('\n'));
          if (!s.required) expect(errorsOf(issues)).to.deep.equal([]);
        });

        if (s.code) {
          it(`is refused when the section "${s.name}" has another code than ${s.code}`, function () {
            const { changed, issues } = afterChange(bytes, type, (doc) => setAttrAll(doc, `${sections}/hl7:code`, 'code', '00000-0'));
            if (changed === 0) this.skip();
            expect(errorsOf(issues).some((m) => m.includes(`section "${s.name}"`) && m.includes('has code 00000-0, expected'))).to.equal(true);
          });
        }

        for (const entry of s.entries ?? []) {
          it(`is refused when the section "${s.name}" has no entry ${entry}`, function () {
            const { changed, issues } = afterChange(bytes, type, (doc) => removeAll(doc, `${sections}//hl7:entry[descendant-or-self::*/hl7:templateId/@root='${entry}']`));
            if (changed === 0) this.skip();
            expect(errorsOf(issues).some((m) => m.includes(`section "${s.name}"`) && m.includes(`has no entry with templateId ${entry}`))).to.equal(true);
          });
        }
      }

      if (type.body === 'structured') {
        it('is refused with a nonXMLBody in place of its structuredBody', () => {
          const doc = parseCda(bytes);
          try {
            removeAll(doc, BODY);
            const component = doc.get('/hl7:ClinicalDocument/hl7:component', HL7) as unknown as { addElement(name: string): { addElement(name: string): { setAttr(n: string, v: string): void; addText(t: string): void } } };
            const text = component.addElement('nonXMLBody').addElement('text');
            text.setAttr('mediaType', 'text/plain');
            text.addText('compte rendu');
            expect(errorsOf(check(doc, type))).to.include(`${c.type}: the document must have a structuredBody (CDA level 3)`);
          } finally {
            doc.dispose();
          }
        });
      }
    });
  }

  describe('a document whose type is not described', () => {
    it('is not matched to any type', () => {
      expect(detectType(TYPES, ['2.16.840.1.113883.2.8.2.1', '1.2.250.1.213.1.1.1.1'], 'structured')).to.equal(undefined);
    });

    it('is a level 1 document whatever its templateIds when its body is a nonXMLBody', () => {
      expect(detectType(TYPES, ['1.2.250.1.213.1.1.1.29'], 'nonXML')?.type).to.equal('unstructured');
    });
  });
});
