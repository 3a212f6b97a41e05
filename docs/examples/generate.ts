/**
 * Writes the request bodies of docs/integration.md into docs/examples/ (run from the repository root):
 *
 *   npx tsx docs/examples/generate.ts
 *
 * Every id is fixed, so that the curl commands of the guide can name them; the output is the same on
 * every run, and test/docs/integration.test.ts checks that the committed files are exactly this.
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { NS, SOAP_ACTION } from '../../src/ebrim/uuids.js';
import { escapeXml } from '../../src/xml/tree.js';
import {
  buildIti18Request,
  buildIti41Request,
  buildIti42Request,
  buildIti43Request,
  buildSubmitObjects,
  codeSpec,
  DEFAULT_BASE_URL,
  DMP_CODES,
  makeLabResult,
  mtomBody,
  queryList,
  queryString,
  soapEnvelope,
  type SubmissionSpec,
} from '../../test/support/requests.js';

export const EXAMPLES_DIR = fileURLToPath(new URL('./', import.meta.url));

/** The ids the guide uses; all under the fictitious arc 1.2.250.1.999.9 of the test data. */
export const EXAMPLE = {
  patientId: '285079999902341^^^&1.2.250.1.213.1.4.8&ISO',
  repositoryUniqueId: '1.2.250.1.999.1.1.1',
  /** A PACS that keeps its own documents and registers them with ITI-42 (KNOWN_REPOSITORY_IDS). */
  pacsRepositoryUniqueId: '1.2.250.1.999.9.100.9',
  labReport1: { uniqueId: '1.2.250.1.999.9.100.1.1', submissionSet: '1.2.250.1.999.9.100.1.2', entryUuid: 'urn:uuid:7d0c1a00-0000-4000-8000-000000000011', hasMember: 'urn:uuid:7d0c1a00-0000-4000-8000-000000000012' },
  labReport2: { uniqueId: '1.2.250.1.999.9.100.2.1', submissionSet: '1.2.250.1.999.9.100.2.2', entryUuid: 'urn:uuid:7d0c1a00-0000-4000-8000-000000000021', hasMember: 'urn:uuid:7d0c1a00-0000-4000-8000-000000000022' },
  imagingReport: { uniqueId: '1.2.250.1.999.9.100.3.1', submissionSet: '1.2.250.1.999.9.100.3.2', entryUuid: 'urn:uuid:7d0c1a00-0000-4000-8000-000000000031' },
  /** ITI-57: the second version of labReport1's metadata. */
  update: { submissionSet: '1.2.250.1.999.9.100.4.2', entryUuid: 'urn:uuid:7d0c1a00-0000-4000-8000-000000000041' },
  /** Boundary of the MTOM example (a fixed one, so that the curl command can name it). */
  mtomBoundary: 'MIMEBoundary_integration_example_0001',
} as const;

const PATIENT = { family: 'NOEL-EXEMPLE', given: 'Agathe', gender: 'F', birthTime: '19850712' } as const;
const FIND_DOCUMENTS = 'urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d';
const GET_DOCUMENTS = 'urn:uuid:5c4f972b-d56b-40ac-a5fc-c8ca9b40b9d4';
const APPROVED = 'urn:oasis:names:tc:ebxml-regrep:StatusType:Approved';

const messageId = (n: number): string => `urn:uuid:7d0c1a00-0000-4000-8000-0000000010${String(n).padStart(2, '0')}`;
const endpoint = (path: string): { to: string } => ({ to: `${DEFAULT_BASE_URL}${path}` });

/** Two small CR-BIO (11502-2) lab reports of the example patient, validated on 3 and 10 November 2026. */
function labReports(): [Buffer, Buffer] {
  const report = (ids: { uniqueId: string }, at: string, sizeKb: number): Buffer =>
    makeLabResult(EXAMPLE.patientId, { uniqueId: ids.uniqueId, setId: `${ids.uniqueId}.0`, at: new Date(at), sizeKb, patient: PATIENT });
  return [report(EXAMPLE.labReport1, '2026-11-03T10:30:00Z', 10), report(EXAMPLE.labReport2, '2026-11-10T16:05:00Z', 10)];
}

/** A text imaging report kept by the PACS: ITI-42 registers its metadata only. */
const IMAGING_REPORT = Buffer.from(
  'Compte rendu d\'imagerie médicale (fictif)\nRadiographie thoracique de face du 12/11/2026 : pas d\'anomalie décelable.\n',
  'utf8',
);

function iti41Inline(doc: Buffer): Buffer {
  const spec: SubmissionSpec = {
    patientId: EXAMPLE.patientId,
    submissionSetUniqueId: EXAMPLE.labReport1.submissionSet,
    submissionTime: '20261103103500',
    documents: [{ id: EXAMPLE.labReport1.entryUuid, bytes: doc, uniqueId: EXAMPLE.labReport1.uniqueId }],
  };
  const { body } = buildIti41Request(spec, 'inline', { messageId: messageId(1), ...endpoint('/xds/iti41') });
  return withAssociationId(body, EXAMPLE.labReport1.hasMember);
}

/** The same kind of submission as MTOM: the envelope refers to the raw CDA part by its Content-ID. */
function iti41Mtom(doc: Buffer): { contentType: string; body: Buffer } {
  const spec: SubmissionSpec = {
    patientId: EXAMPLE.patientId,
    submissionSetUniqueId: EXAMPLE.labReport2.submissionSet,
    submissionTime: '20261110161000',
    documents: [{ id: EXAMPLE.labReport2.entryUuid, bytes: doc, uniqueId: EXAMPLE.labReport2.uniqueId }],
  };
  const inline = withAssociationId(buildIti41Request(spec, 'inline', { messageId: messageId(2), ...endpoint('/xds/iti41') }).body, EXAMPLE.labReport2.hasMember);
  const cid = '1.lab-report-2@integration.example';
  const envelope = inline
    .toString('utf8')
    .replace(doc.toString('base64'), `<xop:Include xmlns:xop="${NS.xop}" href="cid:${encodeURIComponent(cid)}"/>`);
  const built = mtomBody(envelope, [{ cid, mimeType: 'text/xml', bytes: doc }], SOAP_ACTION.iti41, '7d0c1a00-0000-4000-8000-000000000100');
  const random = /boundary="([^"]+)"/.exec(built.contentType)![1]!;
  return {
    contentType: built.contentType.replace(random, EXAMPLE.mtomBoundary),
    body: Buffer.from(built.body.toString('latin1').split(random).join(EXAMPLE.mtomBoundary), 'latin1'),
  };
}

/** The builders give the HasMember of the SubmissionSet a symbolic id; the guide needs its entryUUID (ITI-62). */
function withAssociationId(body: Buffer, uuid: string): Buffer {
  const xml = body.toString('utf8');
  if (!xml.includes('<rim:Association id="as01"')) throw new Error('the submission has no association as01');
  return Buffer.from(xml.replace('<rim:Association id="as01"', `<rim:Association id="${uuid}"`), 'utf8');
}

function iti42(): Buffer {
  const spec: SubmissionSpec = {
    patientId: EXAMPLE.patientId,
    submissionSetUniqueId: EXAMPLE.imagingReport.submissionSet,
    submissionTime: '20261112113000',
    contentTypeCode: DMP_CODES.ambulatoire,
    documents: [
      {
        id: EXAMPLE.imagingReport.entryUuid,
        bytes: IMAGING_REPORT,
        mimeType: 'text/plain',
        uniqueId: EXAMPLE.imagingReport.uniqueId,
        title: "Compte rendu d'imagerie médicale (fictif)",
        typeCode: codeSpec('18748-4', DMP_CODES.loinc, "CR d'imagerie médicale"),
        creationTime: '20261112112000',
        serviceStartTime: '20261112100000',
        serviceStopTime: '20261112101500',
      },
    ],
  };
  return buildIti42Request(spec, EXAMPLE.pacsRepositoryUniqueId, { messageId: messageId(3), ...endpoint('/xds/iti42') }).body;
}

/** ITI-57: a second version of the first lab report's metadata (a corrected title), same bytes, lid and PreviousVersion 1. */
function iti57(doc: Buffer): Buffer {
  const { entryUuid } = EXAMPLE.update;
  let { xml } = buildSubmitObjects({
    patientId: EXAMPLE.patientId,
    submissionSetUniqueId: EXAMPLE.update.submissionSet,
    submissionTime: '20261113090000',
    documents: [
      {
        id: entryUuid,
        bytes: doc,
        uniqueId: EXAMPLE.labReport1.uniqueId,
        hash: createHash('sha1').update(doc).digest('hex'),
        size: doc.length,
        repositoryUniqueId: EXAMPLE.repositoryUniqueId,
        title: "Compte rendu d'examens de biologie médicale (titre corrigé)",
      },
    ],
  });
  xml = xml.replace(`<rim:ExtrinsicObject id="${entryUuid}"`, `<rim:ExtrinsicObject id="${entryUuid}" lid="${EXAMPLE.labReport1.entryUuid}"`);
  xml = xml.replace(
    new RegExp(`(<rim:Association [^>]*targetObject="${entryUuid}"[^>]*>)`),
    '$1\n      <rim:Slot name="PreviousVersion">\n        <rim:ValueList>\n          <rim:Value>1</rim:Value>\n        </rim:ValueList>\n      </rim:Slot>',
  );
  return Buffer.from(soapEnvelope(SOAP_ACTION.iti57, xml, { messageId: messageId(4), ...endpoint('/xds/iti57') }), 'utf8');
}

/** ITI-62: the second lab report and the HasMember that submitted it (ebRS: no association may be left dangling). */
function iti62(): Buffer {
  const refs = [EXAMPLE.labReport2.entryUuid, EXAMPLE.labReport2.hasMember].map((id) => `      <rim:ObjectRef id="${escapeXml(id)}"/>\n`).join('');
  const body =
    `<lcm:RemoveObjectsRequest xmlns:lcm="${NS.lcm}" xmlns:rim="${NS.rim}">\n` +
    `    <rim:ObjectRefList>\n${refs}    </rim:ObjectRefList>\n` +
    `  </lcm:RemoveObjectsRequest>`;
  return Buffer.from(soapEnvelope(SOAP_ACTION.iti62, body, { messageId: messageId(5), ...endpoint('/xds/iti62') }), 'utf8');
}

export interface ExampleFiles {
  /** File name under docs/examples → bytes. */
  files: Record<string, Buffer>;
  /** Content-Type of the MTOM example, as the curl command sends it. */
  mtomContentType: string;
}

export function exampleFiles(): ExampleFiles {
  const [report1, report2] = labReports();
  const mtom = iti41Mtom(report2);
  const iti18 = (query: Parameters<typeof buildIti18Request>[0], n: number): Buffer => buildIti18Request(query, { messageId: messageId(n), ...endpoint('/xds/iti18') }).body;
  return {
    mtomContentType: mtom.contentType,
    files: {
      'lab-report-1.xml': report1,
      'lab-report-2.xml': report2,
      'iti41-inline.xml': iti41Inline(report1),
      'iti41-mtom.mime': mtom.body,
      'iti43.xml': buildIti43Request(
        [EXAMPLE.labReport1, EXAMPLE.labReport2].map((r) => ({ repositoryUniqueId: EXAMPLE.repositoryUniqueId, documentUniqueId: r.uniqueId })),
        { messageId: messageId(6), ...endpoint('/xds/iti43') },
      ).body,
      'iti18-find-documents.xml': iti18(
        { queryId: FIND_DOCUMENTS, params: { $XDSDocumentEntryPatientId: queryString(EXAMPLE.patientId), $XDSDocumentEntryStatus: queryList(APPROVED) } },
        7,
      ),
      'iti18-get-documents.xml': iti18({ queryId: GET_DOCUMENTS, returnType: 'ObjectRef', params: { $XDSDocumentEntryUniqueId: queryList(EXAMPLE.labReport1.uniqueId) } }, 8),
      'iti42.xml': iti42(),
      'iti57.xml': iti57(report1),
      'iti62.xml': iti62(),
    },
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { files, mtomContentType } = exampleFiles();
  for (const [name, bytes] of Object.entries(files)) writeFileSync(EXAMPLES_DIR + name, bytes);
  console.log(`wrote ${Object.keys(files).length} files to ${EXAMPLES_DIR}\nMTOM Content-Type: ${mtomContentType}`);
}
