import path from 'node:path';
import { loadDocumentTypes, type DocumentType } from '../../src/cda/document-types.js';
import { defaultTemplatesDir } from '../../src/cda/validate-document.js';
import { hasSharedSamples, ownSample, sharedSample } from './helpers.js';

export const TYPES: DocumentType[] = loadDocumentTypes(defaultTemplatesDir());

export function typeNamed(name: string): DocumentType {
  const t = TYPES.find((x) => x.type === name);
  if (!t) throw new Error(`no document type ${name} in ${path.relative(process.cwd(), defaultTemplatesDir())}`);
  return t;
}

export interface TypeCase {
  type: string;
  source: string;
  /** The valid document of this type; undefined when its reference sample is not on this machine. */
  bytes(): Buffer | undefined;
}

const swapTemplate = (bytes: Buffer, from: string, to: string): Buffer => Buffer.from(bytes.toString('utf8').replace(`<templateId root="${from}"`, `<templateId root="${to}"`), 'utf8');

/** One valid document per document type. */
export const TYPE_CASES: TypeCase[] = [
  { type: 'LDL-SES', source: 'samples/cda/ldl-ses.xml', bytes: () => ownSample('ldl-ses.xml') },
  { type: 'CR-BIO', source: 'samples/cda/cr-bio-45k.xml', bytes: () => ownSample('cr-bio-45k.xml') },
  { type: 'DLU', source: 'samples/cda/dlu.xml', bytes: () => ownSample('dlu.xml') },
  {
    type: 'DLU-FLUDT',
    source: '../shared/samples/cda/DLU-EHPAD-FLUDT_2022.01.xml',
    bytes: () => (hasSharedSamples() ? sharedSample('DLU-EHPAD-FLUDT_2022.01.xml') : undefined),
  },
  {
    type: 'DLU-FLUDR',
    source: 'samples/cda/dlu.xml declared as FLUDR (1.2.250.1.213.1.1.1.24)',
    bytes: () => swapTemplate(ownSample('dlu.xml'), '1.2.250.1.213.1.1.1.22', '1.2.250.1.213.1.1.1.24'),
  },
  { type: 'CR-IMG', source: 'samples/cda/cr-img.xml', bytes: () => ownSample('cr-img.xml') },
  { type: 'VSM', source: 'samples/cda/vsm.xml', bytes: () => ownSample('vsm.xml') },
  { type: 'VAC', source: 'samples/cda/vac.xml', bytes: () => ownSample('vac.xml') },
  { type: 'unstructured', source: 'samples/cda/unstructured-pdf.xml', bytes: () => ownSample('unstructured-pdf.xml') },
];
