import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ParseOption, XmlDocument, XmlElement } from 'libxml2-wasm';
import { defaultCdaSchemaDir } from '../../src/cda/schema.js';
import type { CdaValidatorOptions } from '../../src/cda/validate-document.js';
import type { DocumentEntry } from '../../src/ebrim/model.js';
import { parseRegistryObjectList, toSubmissionMetadata } from '../../src/ebrim/parse.js';
import { NS } from '../../src/ebrim/uuids.js';
import { child, parseXml } from '../../src/xml/tree.js';
import { buildSubmitObjects, type DocSpec } from '../support/requests.js';

/** The CI-SIS reference samples, read in place (never copied into the project). */
export const SHARED_SAMPLES_DIR = path.resolve(process.cwd(), '../shared/samples/cda');
export const SHARED_SCHEMA_DIR = path.resolve(process.cwd(), '../shared/schemas/cda');
export const OWN_SAMPLES_DIR = path.resolve(process.cwd(), 'samples/cda');

export const hasSharedSamples = (): boolean => existsSync(SHARED_SAMPLES_DIR);

/** Our own schema set once it has a root schema, else the official one (for tests only). */
export function schemaOptions(): Pick<CdaValidatorOptions, 'schemaDir' | 'schemaRoot'> {
  const own = defaultCdaSchemaDir();
  if (['cda.xsd', 'CDA_extended.xsd', 'CDA.xsd'].some((f) => existsSync(path.join(own, f)))) return {};
  return { schemaDir: SHARED_SCHEMA_DIR, schemaRoot: 'CDA_extended.xsd' };
}

export const ownSample = (name: string): Buffer => readFileSync(path.join(OWN_SAMPLES_DIR, name));
export const sharedSample = (name: string): Buffer => readFileSync(path.join(SHARED_SAMPLES_DIR, name));

export function parseCda(bytes: Buffer | string): XmlDocument {
  const buf = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
  return XmlDocument.fromBuffer(buf, { option: ParseOption.XML_PARSE_NONET | ParseOption.XML_PARSE_NO_XXE });
}

export const HL7 = { hl7: 'urn:hl7-org:v3' };

/** Removes every node the XPath (hl7: prefix) selects; returns how many. */
export function removeAll(doc: XmlDocument, xpath: string): number {
  const nodes = doc.find(xpath, HL7);
  for (const n of nodes) n.remove();
  return nodes.length;
}

/** Sets an attribute on every element the XPath selects; returns how many. */
export function setAttrAll(doc: XmlDocument, xpath: string, name: string, value: string): number {
  const nodes = doc.find(xpath, HL7);
  for (const n of nodes) {
    if (!(n instanceof XmlElement)) continue;
    // setAttr puts the attribute in the element's default namespace: serialize and parse again (mutated()) before reading it.
    n.attr(name)?.remove();
    n.setAttr(name, value);
  }
  return nodes.length;
}

/** The DocumentEntry the test request builder makes for these bytes (metadata taken from the CDA header). */
export function entryFor(doc: DocSpec, patientId: string): DocumentEntry {
  const { xml } = buildSubmitObjects({ patientId, documents: [doc] });
  const request = parseXml(xml);
  const list = child(request, NS.rim, 'RegistryObjectList');
  if (!list) throw new Error('no RegistryObjectList in the built request');
  const { objects } = parseRegistryObjectList(list);
  const { metadata } = toSubmissionMetadata(objects);
  const entry = metadata?.documentEntries[0];
  if (!entry) throw new Error('no DocumentEntry in the built request');
  return entry;
}

/** A fresh document made of the bytes after a change, serialized and parsed again. */
export function mutated(bytes: Buffer, change: (doc: XmlDocument) => number): { changed: number; bytes: Buffer } {
  const doc = parseCda(bytes);
  try {
    const changed = change(doc);
    return { changed, bytes: Buffer.from(doc.toString(), 'utf8') };
  } finally {
    doc.dispose();
  }
}
