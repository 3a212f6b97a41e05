import type { Code, DocumentEntry } from '../ebrim/model.js';
import { parseCx } from '../ebrim/cx.js';
import type { DocumentType, MetadataCode } from './document-types.js';
import { iiToCx, iiToUniqueId, tsToUtcDtm, type CdaHeader, type CdaIi } from './header.js';
import { error, type CdaIssue } from './issues.js';

/** HL7 Confidentiality code system: the one confidentiality a CDA header carries (N, R, V). */
const HL7_CONFIDENTIALITY = '2.16.840.1.113883.5.25';

const mismatch = (message: string): CdaIssue => error('consistency', message);

/**
 * Compares a DocumentEntry with the header of its CDA document: every disagreement is an error
 * naming both values; the gateway never fixes metadata silently.
 */
export function checkConsistency(entry: DocumentEntry, header: CdaHeader, type: DocumentType | undefined): CdaIssue[] {
  return [
    ...checkUniqueId(entry, header),
    ...checkPatient(entry, header),
    ...checkTypeCode(entry, header),
    ...checkTableCodes(entry, header, type),
    ...checkConfidentiality(entry, header),
    ...checkTime('creationTime', entry.creationTime, 'ClinicalDocument/effectiveTime', header.effectiveTime),
    ...checkTime('serviceStartTime', entry.serviceStartTime, 'documentationOf/serviceEvent/effectiveTime/low', header.serviceStartTime),
    ...checkTime('serviceStopTime', entry.serviceStopTime, 'documentationOf/serviceEvent/effectiveTime/high', header.serviceStopTime),
    ...checkLanguage(entry, header),
    ...checkAuthors(entry, header),
    ...checkLegalAuthenticator(entry, header),
  ];
}

function checkUniqueId(entry: DocumentEntry, header: CdaHeader): CdaIssue[] {
  if (!header.id) return [mismatch(`ClinicalDocument/id is missing; DocumentEntry.uniqueId is ${entry.uniqueId}`)];
  const expected = iiToUniqueId(header.id);
  return entry.uniqueId === expected ? [] : [mismatch(`DocumentEntry.uniqueId ${entry.uniqueId} does not match ClinicalDocument/id ${expected}`)];
}

function checkPatient(entry: DocumentEntry, header: CdaHeader): CdaIssue[] {
  const cx = parseCx(entry.patientId);
  const found = header.patientIds.some((p) => cx !== undefined && p.root === cx.authority && p.extension === cx.id);
  if (found) return [];
  const ids = header.patientIds.map(iiToCx).join(', ') || '(none)';
  return [mismatch(`DocumentEntry.patientId ${entry.patientId} does not match recordTarget/patientRole/id ${ids}`)];
}

function checkTypeCode(entry: DocumentEntry, header: CdaHeader): CdaIssue[] {
  const t = entry.typeCode;
  const c = header.code;
  if (!t || !c) return c || !t ? [] : [mismatch(`DocumentEntry.typeCode ${codeText(t)} but ClinicalDocument/code is missing`)];
  if (t.code === c.code && t.codingScheme === c.codeSystem) return [];
  return [mismatch(`DocumentEntry.typeCode ${codeText(t)} does not match ClinicalDocument/code ${c.code} (${c.codeSystem})`)];
}

function checkTableCodes(entry: DocumentEntry, header: CdaHeader, type: DocumentType | undefined): CdaIssue[] {
  if (!type) return [];
  const formats = type.body === 'nonXML' ? (type.mediaTypes ?? []).filter((m) => m.mediaType === header.body.mediaType).map((m) => m.formatCode) : type.formatCode;
  return [...checkInTable('classCode', entry.classCode, type.classCode, type.type), ...checkInTable('formatCode', entry.formatCode, formats, type.type)];
}

function checkInTable(field: string, value: Code | undefined, table: MetadataCode[], typeName: string): CdaIssue[] {
  if (table.length === 0 || !value) return [];
  if (table.some((c) => c.code === value.code && c.codingScheme === value.codingScheme)) return [];
  const expected = table.map((c) => `${c.code} (${c.codingScheme})`).join(' or ');
  return [mismatch(`DocumentEntry.${field} ${codeText(value)} does not match the ${typeName} document of the CDA header, which requires ${expected}`)];
}

function checkConfidentiality(entry: DocumentEntry, header: CdaHeader): CdaIssue[] {
  const issues: CdaIssue[] = [];
  for (const c of header.confidentialityCodes) {
    if (!entry.confidentialityCodes.some((m) => m.code === c.code && m.codingScheme === c.codeSystem)) {
      const given = entry.confidentialityCodes.map(codeText).join(', ') || '(none)';
      issues.push(mismatch(`DocumentEntry.confidentialityCode ${given} does not include ClinicalDocument/confidentialityCode ${c.code} (${c.codeSystem})`));
    }
  }
  // The DMP masking codes live in the metadata only; another HL7 level than the header's is a contradiction.
  for (const m of entry.confidentialityCodes) {
    if (m.codingScheme === HL7_CONFIDENTIALITY && !header.confidentialityCodes.some((c) => c.code === m.code && c.codeSystem === m.codingScheme)) {
      const inHeader = header.confidentialityCodes.map((c) => `${c.code} (${c.codeSystem})`).join(', ') || '(none)';
      issues.push(mismatch(`DocumentEntry.confidentialityCode ${codeText(m)} does not match ClinicalDocument/confidentialityCode ${inHeader}`));
    }
  }
  return issues;
}

/** Equal at the precision both give (XDS allows a coarser time than the header's); a time the metadata leaves out is not a contradiction. */
function checkTime(field: string, metadata: string | undefined, where: string, ts: string | undefined): CdaIssue[] {
  if (ts === undefined) return [];
  const utc = tsToUtcDtm(ts);
  if (!utc) return [error('consistency', `${where} ${ts} is not an HL7 time stamp`)];
  if (metadata === undefined) return [];
  const n = Math.min(metadata.length, utc.length);
  if (metadata.slice(0, n) === utc.slice(0, n)) return [];
  return [mismatch(`DocumentEntry.${field} ${metadata} does not match ${where} ${ts} (${utc} UTC)`)];
}

function checkLanguage(entry: DocumentEntry, header: CdaHeader): CdaIssue[] {
  if (!header.languageCode || !entry.languageCode) return [];
  if (header.languageCode.toLowerCase() === entry.languageCode.toLowerCase()) return [];
  return [mismatch(`DocumentEntry.languageCode ${entry.languageCode} does not match ClinicalDocument/languageCode ${header.languageCode}`)];
}

/** XCN id and assigning authority (components 1 and 9): `id^FAMILY^Given^^^^^^&OID&ISO...`. */
function xcnId(xcn: string): { id: string; authority?: string } {
  const parts = xcn.split('^');
  const authority = parts[8]?.split('&')[1];
  return authority ? { id: parts[0] ?? '', authority } : { id: parts[0] ?? '' };
}

const samePerson = (xcn: string, ii: CdaIi): boolean => {
  const p = xcnId(xcn);
  return p.id === ii.extension && (p.authority === undefined || p.authority === ii.root);
};

const iiText = (ii: CdaIi): string => `${ii.extension ?? ''} (${ii.root})`;

function checkAuthors(entry: DocumentEntry, header: CdaHeader): CdaIssue[] {
  const issues: CdaIssue[] = [];
  const persons = entry.authors.flatMap((a) => a.person ?? []);
  const inHeader = header.authors.map(iiText).join(', ') || '(none)';
  for (const person of persons) {
    if (!header.authors.some((ii) => samePerson(person, ii))) {
      issues.push(mismatch(`DocumentEntry.author authorPerson ${person} is not an author of the CDA header (author/assignedAuthor/id ${inHeader})`));
    }
  }
  for (const ii of header.authors) {
    if (!persons.some((p) => samePerson(p, ii))) {
      issues.push(mismatch(`CDA author ${iiText(ii)} is missing from DocumentEntry.author (authorPerson ${persons.join(', ') || '(none)'})`));
    }
  }
  return issues;
}

function checkLegalAuthenticator(entry: DocumentEntry, header: CdaHeader): CdaIssue[] {
  const la = header.legalAuthenticator;
  const m = entry.legalAuthenticator;
  if (!m) return [];
  if (!la) return [mismatch(`DocumentEntry.legalAuthenticator ${m} but the CDA header has no legalAuthenticator`)];
  return samePerson(m, la) ? [] : [mismatch(`DocumentEntry.legalAuthenticator ${m} does not match ClinicalDocument/legalAuthenticator/assignedEntity/id ${iiText(la)}`)];
}

const codeText = (c: Code): string => `${c.code} (${c.codingScheme})`;
