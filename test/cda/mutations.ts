import { DOMParser, XMLSerializer, type Document, type Element } from '@xmldom/xmldom';
import { seededRandom } from '../../src/random.js';

/** The ways a document is broken, each one a class of schema error the CDA schemas must catch. */
export const MUTATION_KINDS = [
  'remove',
  'reorder',
  'duplicate',
  'unknownElement',
  'wrongNamespace',
  'badAttributeValue',
  'wrongDatatype',
  'wrongXsiType',
] as const;
export type MutationKind = (typeof MUTATION_KINDS)[number];

export interface Mutation {
  kind: MutationKind;
  /** Local name of the element the mutation touched (the one a schema error should name). */
  element: string;
  description: string;
  xml: string;
}

const HL7 = 'urn:hl7-org:v3';
const XSI = 'http://www.w3.org/2001/XMLSchema-instance';
const SDTC = 'urn:hl7-org:sdtc';
const PHARM = 'urn:ihe:pharm:medication';
const DICOM = 'urn:dicom-org:ps3-20';
const LAB = 'urn:oid:1.3.6.1.4.1.19376.1.3.2';
const CODED_ATTRIBUTES = [
  'classCode',
  'moodCode',
  'typeCode',
  'nullFlavor',
  'use',
  'determinerCode',
  'contextControlCode',
  'inversionInd',
  'negationInd',
  'representation',
  'operator',
  'inclusive',
  'contextConductionInd',
];
const XSI_TYPES = ['CD', 'CE', 'PQ', 'TS', 'ST', 'IVL_TS', 'IVL_PQ', 'BL', 'INT', 'REAL', 'ED', 'II', 'RTO_PQ_PQ', 'NOT_A_TYPE'];
const BAD_VALUES = ['not-a-value', '12,5', '2024-13-45', 'x'];

export function seedOf(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** Every element in document order, each marked when it sits in a section's narrative block. */
function elementsOf(doc: Document): { all: Element[]; structural: Element[] } {
  const all: Element[] = [];
  const structural: Element[] = [];
  const walk = (el: Element, narrative: boolean): void => {
    all.push(el);
    if (!narrative) structural.push(el);
    const inText = narrative || (el.localName === 'text' && (el.parentNode as Element | null)?.localName === 'section');
    for (let c = el.firstChild; c; c = c.nextSibling) if (c.nodeType === 1) walk(c as Element, inText);
  };
  if (doc.documentElement) walk(doc.documentElement, false);
  return { all, structural };
}

/** Two picks in three come from the CDA structure, one from the narrative block, so both get broken. */
function target(rand: () => number, els: { all: Element[]; structural: Element[] }): Element[] {
  return rand() < 0.67 ? els.structural : els.all;
}

function singleOfItsName(el: Element): boolean {
  const parent = el.parentNode;
  if (!parent) return false;
  let n = 0;
  for (let c = parent.firstChild; c; c = c.nextSibling) if (c.nodeType === 1 && (c as Element).localName === el.localName) n++;
  return n === 1;
}

function nextElement(el: Element): Element | null {
  for (let c = el.nextSibling; c; c = c.nextSibling) if (c.nodeType === 1) return c as Element;
  return null;
}

function pick<T>(rand: () => number, items: T[]): T | undefined {
  return items.length === 0 ? undefined : items[Math.floor(rand() * items.length)];
}

type Apply = (doc: Document, found: { all: Element[]; structural: Element[] }, rand: () => number) => { element: string; description: string } | null;

const APPLY: Record<MutationKind, Apply> = {
  remove: (_doc, found, rand) => {
    const el = pick(rand, target(rand, found).slice(1));
    if (!el?.parentNode) return null;
    el.parentNode.removeChild(el);
    return { element: el.localName ?? '', description: `removed <${el.tagName}>` };
  },
  reorder: (_doc, found, rand) => {
    const el = pick(
      rand,
      target(rand, found).slice(1).filter((e) => {
        const n = nextElement(e);
        return n !== null && n.localName !== e.localName;
      }),
    );
    const after = el && nextElement(el);
    if (!el || !after?.parentNode) return null;
    after.parentNode.insertBefore(after, el);
    return { element: after.localName ?? '', description: `moved <${after.tagName}> before <${el.tagName}>` };
  },
  duplicate: (_doc, found, rand) => {
    // an element alone of its name is most likely one whose cardinality is at most 1
    const pool = target(rand, found).slice(1);
    const el = pick(rand, rand() < 0.75 ? pool.filter(singleOfItsName) : pool);
    if (!el?.parentNode) return null;
    el.parentNode.insertBefore(el.cloneNode(true), el.nextSibling);
    return { element: el.localName ?? '', description: `duplicated <${el.tagName}>` };
  },
  unknownElement: (doc, found, rand) => {
    const parent = pick(rand, target(rand, found));
    if (!parent) return null;
    const kids = Array.from({ length: parent.childNodes.length }, (_, i) => parent.childNodes.item(i)).filter((n) => n?.nodeType === 1);
    const before = pick(rand, [...kids, null]) ?? null;
    parent.insertBefore(doc.createElementNS(HL7, 'unexpectedElement'), before);
    return { element: 'unexpectedElement', description: `inserted <unexpectedElement> into <${parent.tagName}>` };
  },
  wrongNamespace: (doc, found, rand) => {
    const el = pick(rand, target(rand, found).slice(1));
    if (!el?.parentNode || !el.localName) return null;
    const moved = doc.createElementNS('urn:example:not-cda', `other:${el.localName}`);
    for (let i = 0; i < el.attributes.length; i++) {
      const a = el.attributes.item(i);
      if (a && a.name !== 'xmlns' && !a.name.startsWith('xmlns:')) moved.setAttributeNS(a.namespaceURI, a.name, a.value);
    }
    while (el.firstChild) moved.appendChild(el.firstChild);
    el.parentNode.replaceChild(moved, el);
    return { element: el.localName, description: `moved <${el.tagName}> to another namespace` };
  },
  badAttributeValue: (_doc, found, rand) => {
    const el = pick(
      rand,
      found.all.filter((e) => CODED_ATTRIBUTES.some((a) => e.hasAttribute(a))),
    );
    const attr = el && pick(rand, CODED_ATTRIBUTES.filter((a) => el.hasAttribute(a)));
    if (!el || !attr) return null;
    el.setAttribute(attr, 'NOT_A_CODE');
    return { element: el.localName ?? '', description: `set ${el.tagName}/@${attr} to NOT_A_CODE` };
  },
  wrongDatatype: (_doc, found, rand) => {
    const el = pick(
      rand,
      found.all.filter((e) => e.hasAttribute('value') || e.hasAttribute('root')),
    );
    if (!el) return null;
    const attr = el.hasAttribute('value') ? 'value' : 'root';
    const bad = attr === 'root' ? 'not an oid' : (pick(rand, BAD_VALUES) ?? 'x');
    el.setAttribute(attr, bad);
    return { element: el.localName ?? '', description: `set ${el.tagName}/@${attr} to '${bad}'` };
  },
  wrongXsiType: (_doc, found, rand) => {
    const el = pick(
      rand,
      found.all.filter((e) => e.hasAttributeNS(XSI, 'type')),
    );
    if (!el) return null;
    const current = el.getAttributeNS(XSI, 'type');
    const next = pick(
      rand,
      XSI_TYPES.filter((t) => t !== current),
    );
    if (!next) return null;
    const qname = el.getAttributeNodeNS(XSI, 'type')?.name ?? 'xsi:type';
    el.setAttributeNS(XSI, qname, next);
    return { element: el.localName ?? '', description: `changed ${el.tagName}/@xsi:type from ${current} to ${next}` };
  },
};

/**
 * `count` broken variants of one document, cycling through the kinds; the same (xml, seed) always gives the
 * same list. A kind that finds nothing to break in this document is skipped for that slot.
 */
export function mutate(xml: string, seed: number, count: number): Mutation[] {
  const rand = seededRandom(seed);
  const out: Mutation[] = [];
  const parser = new DOMParser();
  const serializer = new XMLSerializer();
  for (let i = 0; out.length < count && i < count * 3; i++) {
    const kind = MUTATION_KINDS[i % MUTATION_KINDS.length] as MutationKind;
    const doc = parser.parseFromString(xml, 'text/xml');
    const done = APPLY[kind](doc, elementsOf(doc), rand);
    if (!done) continue;
    out.push({ kind, ...done, xml: serializer.serializeToString(doc) });
  }
  return out;
}

function firstChildNamed(el: Element, local: string): Element | null {
  for (let c = el.firstChild; c; c = c.nextSibling) if (c.nodeType === 1 && (c as Element).localName === local) return c as Element;
  return null;
}

function descendants(doc: Document, local: string): Element[] {
  return Array.from({ length: doc.getElementsByTagNameNS(HL7, local).length }, (_, i) => doc.getElementsByTagNameNS(HL7, local).item(i)).filter(
    (e): e is Element => e !== null,
  );
}

function make(doc: Document, ns: string, qname: string, attrs: Record<string, string> = {}, ...children: Element[]): Element {
  const el = doc.createElementNS(ns, qname);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  for (const c of children) el.appendChild(c);
  return el;
}

/**
 * The same document with the sdtc:, pharm:, lab: and dicom: extension elements put where CDA_extended allows
 * them, so that the extension schemas are exercised (the reference samples use almost none of them).
 * Returns null when the document has none of the places they go.
 */
export function withExtensions(xml: string): string | null {
  const doc = new DOMParser().parseFromString(xml, 'text/xml');
  let added = 0;
  for (const patient of descendants(doc, 'patient')) {
    const birth = firstChildNamed(patient, 'birthTime');
    if (!birth) continue;
    patient.insertBefore(make(doc, SDTC, 'sdtc:deceasedInd', { value: 'false' }), birth.nextSibling);
    added++;
  }
  for (const la of descendants(doc, 'legalAuthenticator')) {
    const sig = firstChildNamed(la, 'signatureCode');
    if (!sig) continue;
    la.insertBefore(make(doc, SDTC, 'sdtc:signatureText', { mediaType: 'text/plain' }), sig.nextSibling);
    added++;
  }
  for (const order of descendants(doc, 'order')) {
    order.appendChild(make(doc, DICOM, 'dicom:accessionNumber', { root: '1.2.250.1.999.9', extension: 'ACC-1' }));
    added++;
  }
  for (const event of descendants(doc, 'serviceEvent')) {
    const code = firstChildNamed(event, 'code') ?? firstChildNamed(event, 'id');
    if (!code || firstChildNamed(event, 'statusCode')) continue;
    event.insertBefore(make(doc, LAB, 'lab:statusCode', { code: 'completed' }), code.nextSibling);
    added++;
  }
  for (const material of descendants(doc, 'manufacturedMaterial')) {
    const before = firstChildNamed(material, 'lotNumberText');
    const substance = make(
      doc,
      PHARM,
      'pharm:ingredient',
      { classCode: 'MMAT', determinerCode: 'KIND' },
      make(doc, PHARM, 'pharm:code', { code: 'J07BB', codeSystem: '2.16.840.1.113883.6.73' }),
      make(doc, PHARM, 'pharm:name'),
    );
    material.insertBefore(make(doc, PHARM, 'pharm:formCode', { code: 'INJ', codeSystem: '2.16.840.1.113883.5.85' }), before);
    material.appendChild(make(doc, PHARM, 'pharm:ingredient', { classCode: 'ACTI' }, substance));
    added++;
  }
  const root = doc.documentElement;
  if (root) {
    root.appendChild(make(doc, SDTC, 'sdtc:statusCode', { code: 'completed' }));
    added++;
  }
  return added > 1 ? new XMLSerializer().serializeToString(doc) : null;
}
