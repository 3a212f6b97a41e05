import { XmlXPath, type XmlElement, type XmlNode } from 'libxml2-wasm';

/** The CDA namespace under the prefix every expression here uses. */
export const CDA_NS = { hl7: 'urn:hl7-org:v3' } as const;

/** A document or an element: what an XPath is evaluated from. */
export interface Queryable {
  eval(xpath: XmlXPath): XmlNode[] | string | boolean | number;
  find(xpath: XmlXPath): XmlNode[];
}

const compiled = new Map<string, XmlXPath>();

/** A compiled XPath over the CDA namespace; each distinct expression is compiled once for the life of the process. */
export function xpath(expression: string): XmlXPath {
  let x = compiled.get(expression);
  if (!x) {
    x = XmlXPath.compile(expression, CDA_NS);
    compiled.set(expression, x);
  }
  return x;
}

export function stringAt(node: Queryable, expression: string): string {
  const v = node.eval(xpath(`string(${expression})`));
  return typeof v === 'string' ? v.trim() : '';
}

export function countAt(node: Queryable, expression: string): number {
  const v = node.eval(xpath(`count(${expression})`));
  return typeof v === 'number' ? v : 0;
}

export function elementsAt(node: Queryable, expression: string): XmlElement[] {
  return node.find(xpath(expression)) as XmlElement[];
}

export function attrOf(el: XmlElement, name: string): string | undefined {
  return el.attr(name)?.content.trim() || undefined;
}

/** `/ClinicalDocument/component/structuredBody/component[2]/section`: where a problem is, for the reader of an error. */
export function pathOf(node: XmlElement): string {
  const steps: string[] = [];
  for (let cur: XmlElement | null = node; cur; cur = cur.parent) {
    const name = cur.name;
    const position = cur.parent ? countAt(cur, `preceding-sibling::*[local-name()='${name}']`) + 1 : 1;
    const siblings = cur.parent ? countAt(cur.parent, `*[local-name()='${name}']`) : 1;
    steps.push(siblings > 1 ? `${name}[${position}]` : name);
  }
  return '/' + steps.reverse().join('/');
}
