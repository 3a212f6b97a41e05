import { parseCx } from '../../ebrim/cx.js';
import { NS, SOAP_ACTION } from '../../ebrim/uuids.js';
import { escapeXml } from '../../xml/tree.js';
import { GATEWAY_OPTIONS, openClient, parseCommandArgs, printJson, toDtm } from '../args.js';
import { EXIT, usageError, type ExitCode } from '../exit.js';
import { formatRegistryError, queryResult, type CodeView, type DocumentSummary } from '../responses.js';

export const QUERY_USAGE = `usage: xdsgw query --patient ID [filters] [options]
ITI-18 FindDocuments for one patient. ID is ID^^^&OID&ISO, or the bare id in the gateway's patient authority.
  --status approved|deprecated|all   (default approved)
  --class CODE[^^SCHEME]      classCode (repeatable: any of them)
  --type CODE[^^SCHEME]       typeCode, e.g. 11502-2 (repeatable)
  --format CODE[^^SCHEME]     formatCode (repeatable)
  --practice-setting CODE[^^SCHEME], --facility-type CODE[^^SCHEME], --confidentiality CODE[^^SCHEME], --event CODE[^^SCHEME]
  --from DATE, --to DATE      creationTime from (inclusive) / to (exclusive): 2024-06-03, 2024-06-03T09:45Z, 20240603
  --service-from DATE, --service-to DATE   serviceStartTime from / serviceStopTime to
  --author PATTERN            authorPerson, % as wildcard (repeatable)
  --refs                      entryUUIDs only (ObjectRef: no result limit)
  --url URL  --assertion FILE  --ca FILE  --cert FILE --key FILE  --timeout S  --json`;

const FIND_DOCUMENTS = 'urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d';
const STATUS: Record<string, string[]> = {
  approved: ['urn:oasis:names:tc:ebxml-regrep:StatusType:Approved'],
  deprecated: ['urn:oasis:names:tc:ebxml-regrep:StatusType:Deprecated'],
  all: ['urn:oasis:names:tc:ebxml-regrep:StatusType:Approved', 'urn:oasis:names:tc:ebxml-regrep:StatusType:Deprecated'],
};

const quote = (v: string): string => `'${v.replace(/'/g, "''")}'`;
const list = (values: string[]): string => `(${values.map(quote).join(',')})`;

/** A code filter as typed (`11502-2`, `11502-2^^2.16.840.1.113883.6.1`, or `code^display^scheme`) in the form ITI-18 takes. */
function codeValue(name: string, v: string): string {
  const [code, , scheme, ...rest] = v.split('^');
  if (!code || rest.length || (v.includes('^') && !scheme)) throw usageError(`--${name} '${v}' must be CODE or CODE^^CODING-SCHEME`);
  return scheme ? `${code}^^${scheme}` : code;
}

export async function queryCommand(argv: string[]): Promise<ExitCode> {
  const { values, positionals } = parseCommandArgs('query', argv, {
    ...GATEWAY_OPTIONS,
    patient: { type: 'string', short: 'p' },
    status: { type: 'string' },
    class: { type: 'string', multiple: true },
    type: { type: 'string', multiple: true },
    format: { type: 'string', multiple: true },
    'practice-setting': { type: 'string', multiple: true },
    'facility-type': { type: 'string', multiple: true },
    confidentiality: { type: 'string', multiple: true },
    event: { type: 'string', multiple: true },
    from: { type: 'string' },
    to: { type: 'string' },
    'service-from': { type: 'string' },
    'service-to': { type: 'string' },
    author: { type: 'string', multiple: true },
    refs: { type: 'boolean' },
  });
  if (values.help) {
    console.log(QUERY_USAGE);
    return EXIT.ok;
  }
  if (positionals.length) throw usageError(`query: unexpected argument '${positionals[0]}'\n${QUERY_USAGE}`);
  if (!values.patient) throw usageError(`query: --patient is required\n${QUERY_USAGE}`);
  const status = STATUS[values.status ?? 'approved'];
  if (!status) throw usageError(`--status must be approved, deprecated or all, not '${values.status}'`);

  const client = await openClient(values);
  try {
    const patientId = values.patient.includes('^') ? values.patient : `${values.patient}^^^&${(await client.info()).patientAuthority}&ISO`;
    if (!parseCx(patientId)) throw usageError(`--patient '${values.patient}' is not a patient id (ID^^^&OID&ISO)`);
    const params: [string, string][] = [
      ['$XDSDocumentEntryPatientId', quote(patientId)],
      ['$XDSDocumentEntryStatus', list(status)],
    ];
    const codes: [string, string, string[] | undefined][] = [
      ['class', '$XDSDocumentEntryClassCode', values.class],
      ['type', '$XDSDocumentEntryTypeCode', values.type],
      ['format', '$XDSDocumentEntryFormatCode', values.format],
      ['practice-setting', '$XDSDocumentEntryPracticeSettingCode', values['practice-setting']],
      ['facility-type', '$XDSDocumentEntryHealthcareFacilityTypeCode', values['facility-type']],
      ['confidentiality', '$XDSDocumentEntryConfidentialityCode', values.confidentiality],
      ['event', '$XDSDocumentEntryEventCodeList', values.event],
    ];
    for (const [option, name, given] of codes) if (given?.length) params.push([name, list(given.map((v) => codeValue(option, v)))]);
    const times: [string, string, string | undefined][] = [
      ['from', '$XDSDocumentEntryCreationTimeFrom', values.from],
      ['to', '$XDSDocumentEntryCreationTimeTo', values.to],
      ['service-from', '$XDSDocumentEntryServiceStartTimeFrom', values['service-from']],
      ['service-to', '$XDSDocumentEntryServiceStopTimeTo', values['service-to']],
    ];
    for (const [option, name, given] of times) if (given !== undefined) params.push([name, toDtm(option, given)]);
    if (values.author?.length) params.push(['$XDSDocumentEntryAuthorPerson', list(values.author)]);

    const returnType = values.refs ? 'ObjectRef' : 'LeafClass';
    const bodyXml =
      `<query:AdhocQueryRequest xmlns:query="${NS.query}" xmlns:rim="${NS.rim}">` +
      `<query:ResponseOption returnComposedObjects="true" returnType="${returnType}"/>` +
      `<rim:AdhocQuery id="${FIND_DOCUMENTS}">` +
      params.map(([name, v]) => `<rim:Slot name="${escapeXml(name)}"><rim:ValueList><rim:Value>${escapeXml(v)}</rim:Value></rim:ValueList></rim:Slot>`).join('') +
      `</rim:AdhocQuery></query:AdhocQueryRequest>`;
    const answer = await client.soap('/xds/iti18', SOAP_ACTION.iti18, bodyXml);
    const result = queryResult(answer.body);
    const failed = result.status === 'Failure';
    if (values.json) {
      printJson(values.refs ? { status: result.status, errors: result.errors, entryUUIDs: result.references } : { status: result.status, errors: result.errors, documents: result.documents });
    } else {
      for (const e of result.errors) console.error(formatRegistryError(e));
      if (!failed) printDocuments(result.documents, result.references, values.refs === true);
    }
    return failed ? EXIT.refused : EXIT.ok;
  } finally {
    await client.close();
  }
}

const codeText = (c: CodeView | undefined): string => (c ? (c.displayName && c.displayName !== c.code ? `${c.code} ${c.displayName}` : c.code) : '');

/** 20240603094500 as 2024-06-03 09:45:00 (UTC), at the precision given. */
export function readableDtm(dtm: string | undefined): string {
  if (!dtm) return '';
  const separators = ['', '-', '-', ' ', ':', ':'];
  return separators.map((sep, i) => (dtm.length > (i === 0 ? 0 : 2 + 2 * i) ? sep + dtm.slice(i === 0 ? 0 : 2 + 2 * i, i === 0 ? 4 : 4 + 2 * i) : '')).join('');
}

function printDocuments(documents: DocumentSummary[], refs: string[], refsOnly: boolean): void {
  if (refsOnly) {
    for (const r of refs) console.log(r);
    console.log(`${refs.length} document(s)`);
    return;
  }
  const rows = documents.map((d) => [d.uniqueId ?? '', d.status, readableDtm(d.creationTime), codeText(d.typeCode), d.title ?? '']);
  const header = ['uniqueId', 'status', 'created (UTC)', 'type', 'title'];
  const widths = header.map((h, i) => Math.min(48, Math.max(h.length, ...rows.map((r) => r[i]!.length))));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.slice(0, widths[i]).padEnd(widths[i]!))).join('  ');
  if (rows.length) {
    console.log(line(header));
    for (const r of rows) console.log(line(r));
  }
  console.log(`${documents.length} document(s)`);
}
