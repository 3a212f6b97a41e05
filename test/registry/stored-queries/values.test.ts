import { expect } from 'chai';
import { STATUS } from '../../../src/ebrim/uuids.js';
import { storedQueryById, STORED_QUERIES } from '../../../src/registry/stored-queries/definitions.js';
import { bindParams, splitQueryValue } from '../../../src/registry/stored-queries/values.js';

const FIND_DOCUMENTS = storedQueryById.get('urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d')!;
const PATIENT = '1234567890123^^^&1.2.250.1.213.1.4.8&ISO';
const slot = (name: string, ...values: string[]) => ({ name, values });
const base = [slot('$XDSDocumentEntryPatientId', `'${PATIENT}'`), slot('$XDSDocumentEntryStatus', `('${STATUS.approved}')`)];
const codes = (r: ReturnType<typeof bindParams>) => r.errors.map((e) => e.code);

describe('stored query values', () => {
  it('splits quoted, bare and listed values, with doubled quotes inside', () => {
    expect(splitQueryValue("'abc'")).to.deep.equal(['abc']);
    expect(splitQueryValue('200412252300')).to.deep.equal(['200412252300']);
    expect(splitQueryValue("('a', 'b','c')")).to.deep.equal(['a', 'b', 'c']);
    expect(splitQueryValue("('O''Brien')")).to.deep.equal(["O'Brien"]);
    expect(splitQueryValue('(‘Emergency Department’)')).to.deep.equal(['Emergency Department']);
  });

  it('refuses unbalanced quotes and parentheses and trailing text', () => {
    for (const bad of ["('a'", "'a", "('a' 'b')", "'a' or 1=1", "('a',)", '()', "'a')"]) expect(splitQueryValue(bad), bad).to.equal(undefined);
  });

  it('declares the 14 stored queries of ITI TF-2a, each id once', () => {
    expect(STORED_QUERIES).to.have.length(14);
    expect(new Set(STORED_QUERIES.map((q) => q.id)).size).to.equal(14);
  });

  it('binds a FindDocuments request: codes with scheme, times as their first second, the stable type by default', () => {
    const r = bindParams(FIND_DOCUMENTS, [
      ...base,
      slot('$XDSDocumentEntryClassCode', "('10^^1.2.250.1.213.1.1.4.1','11')"),
      slot('$XDSDocumentEntryCreationTimeFrom', '2024'),
    ]);
    expect(r.errors).to.deep.equal([]);
    expect(r.params.get('$XDSDocumentEntryClassCode')).to.deep.equal([['10^^1.2.250.1.213.1.1.4.1', '11']]);
    expect(r.params.get('$XDSDocumentEntryCreationTimeFrom')).to.deep.equal([['20240101000000']]);
    expect(r.params.get('$XDSDocumentEntryType')).to.deep.equal([['urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1']]);
  });

  it('keeps each repeated event code slot as its own group (ANDed)', () => {
    const r = bindParams(FIND_DOCUMENTS, [...base, slot('$XDSDocumentEntryEventCodeList', "('A','B')"), slot('$XDSDocumentEntryEventCodeList', "('C')")]);
    expect(r.params.get('$XDSDocumentEntryEventCodeList')).to.deep.equal([['A', 'B'], ['C']]);
  });

  it('escapes backslashes of author patterns and keeps % and _ as wildcards', () => {
    const r = bindParams(FIND_DOCUMENTS, [...base, slot('$XDSDocumentEntryAuthorPerson', "('%MART_N\\x%')")]);
    expect(r.params.get('$XDSDocumentEntryAuthorPerson')).to.deep.equal([['%MART_N\\\\x%']]);
  });

  it('reports a missing required parameter with XDSStoredQueryMissingParam', () => {
    expect(codes(bindParams(FIND_DOCUMENTS, [base[1]!]))).to.deep.equal(['XDSStoredQueryMissingParam']);
  });

  it('reports several values or repeated slots of a single-valued parameter with XDSStoredQueryParamNumber', () => {
    expect(codes(bindParams(FIND_DOCUMENTS, [slot('$XDSDocumentEntryPatientId', `('${PATIENT}','${PATIENT}')`), base[1]!]))).to.deep.equal(['XDSStoredQueryParamNumber']);
    expect(codes(bindParams(FIND_DOCUMENTS, [...base, base[0]!]))).to.deep.equal(['XDSStoredQueryParamNumber']);
    expect(codes(bindParams(FIND_DOCUMENTS, [...base, slot('$XDSDocumentEntryCreationTimeFrom', '2024', '2025')]))).to.deep.equal(['XDSStoredQueryParamNumber']);
  });

  it('reports malformed values with XDSRegistryError, one per parameter', () => {
    const r = bindParams(FIND_DOCUMENTS, [
      slot('$XDSDocumentEntryPatientId', "'not a patient'"),
      slot('$XDSDocumentEntryStatus', "('Approved')"),
      slot('$XDSDocumentEntryCreationTimeFrom', '2024-01-01'),
      slot('$XDSDocumentEntryType', "('stable')"),
      slot('$MetadataLevel', '3'),
      slot('$XDSDocumentEntryClassCode', "('10'"),
    ]);
    expect(codes(r)).to.deep.equal(Array(6).fill('XDSRegistryError'));
  });

  it('ignores a parameter the query does not define, with a Warning', () => {
    const r = bindParams(FIND_DOCUMENTS, [...base, slot('$XDSFolderCodeList', "('x')")]);
    expect(r.errors.map((e) => [e.code, e.severity])).to.deep.equal([['XDSRegistryError', 'Warning']]);
  });

  it('accepts the status name under another ebRIM prefix, as the IHE sample request writes it', () => {
    const r = bindParams(FIND_DOCUMENTS, [base[0]!, slot('$XDSDocumentEntryStatus', "('urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Approved')")]);
    expect(r.params.get('$XDSDocumentEntryStatus')).to.deep.equal([[STATUS.approved]]);
  });

  it('requires exactly one of entryUUID and uniqueId for GetDocuments', () => {
    const get = storedQueryById.get('urn:uuid:5c4f972b-d56b-40ac-a5fc-c8ca9b40b9d4')!;
    expect(codes(bindParams(get, []))).to.deep.equal(['XDSStoredQueryMissingParam']);
    const both = [slot('$XDSDocumentEntryEntryUUID', "('urn:uuid:00000000-0000-4000-8000-000000000000')"), slot('$XDSDocumentEntryUniqueId', "('1.2.3')")];
    expect(codes(bindParams(get, both))).to.deep.equal(['XDSStoredQueryParamNumber']);
  });
});
