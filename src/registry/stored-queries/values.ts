import { parseCx } from '../../ebrim/cx.js';
import { dtmLowerBound, isDtm } from '../../ebrim/dtm.js';
import type { QuerySlot } from '../../ebrim/query-request.js';
import { OBJECT_TYPE, STATUS } from '../../ebrim/uuids.js';
import { isUuidUrn } from '../../ebrim/values.js';
import { XdsError } from '../../errors.js';
import type { ParamDef, ParamType, StoredQueryDef } from './definitions.js';

/**
 * The parameters of one query, checked and normalised: per parameter, one OR-list per slot
 * (several slots only where repeats are ANDed). Codes become `code` or `code^^scheme`, times the
 * first second of their period, statuses and entry types their full URN, author names LIKE patterns.
 */
export type BoundParams = Map<string, string[][]>;

const OPEN_QUOTES = new Set(["'", '\u2018']);
const CLOSE_QUOTE: Record<string, string> = { "'": "'", '\u2018': '\u2019' };
const MAX_VALUE_LENGTH = 1024;

/**
 * Splits one rim:Value in stored query syntax: `'a'`, `a`, or `('a', 'b')`; `''` is a quote inside a
 * quoted value. Typographic quotes ‘…’ are taken as quotes (the IHE sample request uses them).
 */
export function splitQueryValue(raw: string): string[] | undefined {
  const s = raw.trim();
  if (!s.startsWith('(')) {
    const one = readItem(s, 0);
    return one && one.end === s.length ? [one.value] : undefined;
  }
  if (!s.endsWith(')')) return undefined;
  const values: string[] = [];
  let i = 1;
  const end = s.length - 1;
  for (;;) {
    while (i < end && s[i] === ' ') i++;
    const item = readItem(s.slice(0, end), i);
    if (!item) return undefined;
    values.push(item.value);
    i = item.end;
    while (i < end && s[i] === ' ') i++;
    if (i === end) return values;
    if (s[i] !== ',') return undefined;
    i++;
  }
}

function readItem(s: string, from: number): { value: string; end: number } | undefined {
  const open = s[from];
  if (open !== undefined && OPEN_QUOTES.has(open)) {
    const close = CLOSE_QUOTE[open]!;
    let value = '';
    let i = from + 1;
    while (i < s.length) {
      const c = s[i]!;
      if (c === close) {
        if (s[i + 1] === close && close === "'") {
          value += "'";
          i += 2;
          continue;
        }
        return { value, end: i + 1 };
      }
      value += c;
      i++;
    }
    return undefined;
  }
  let i = from;
  while (i < s.length && !",()'\u2018\u2019".includes(s[i]!)) i++;
  const value = s.slice(from, i).trim();
  return value ? { value, end: i } : undefined;
}

const STATUS_BY_NAME: Record<string, string> = { Approved: STATUS.approved, Deprecated: STATUS.deprecated, Submitted: STATUS.submitted };
const ENTRY_TYPES = new Set<string>([OBJECT_TYPE.stableDocumentEntry, OBJECT_TYPE.onDemandDocumentEntry]);
const HOME = /^urn:oid:[0-2](\.(0|[1-9]\d*))+$/;

/** A value of this type as the executor compares it, or undefined when malformed. */
function normalise(type: ParamType, v: string): string | undefined {
  switch (type) {
    case 'patientId':
      return parseCx(v) ? v : undefined;
    case 'code': {
      // CE form code^display^scheme; the display plays no part in matching.
      const [code, , scheme, ...rest] = v.split('^');
      if (!code || rest.length) return undefined;
      return scheme ? `${code}^^${scheme}` : code;
    }
    case 'dtm':
      return isDtm(v) ? dtmLowerBound(v) : undefined;
    case 'status': {
      // Matched on the status name: the IHE sample request itself writes ResponseStatusType:Approved.
      const m = /^urn:oasis:names:tc:ebxml-regrep:[A-Za-z]+:([A-Za-z]+)$/.exec(v);
      return m ? STATUS_BY_NAME[m[1]!] : undefined;
    }
    case 'entryType':
      return ENTRY_TYPES.has(v) ? v : undefined;
    case 'uuid':
      return isUuidUrn(v) ? v : undefined;
    case 'authorPattern':
      // % and _ are the wildcards of ITI TF-2a §3.18.4.1.2.3.6; the backslash is LIKE's escape, so a literal one is doubled.
      return v.replace(/\\/g, '\\\\');
    case 'metadataLevel':
      return v === '1' || v === '2' ? v : undefined;
    case 'homeCommunityId':
      return HOME.test(v) ? v : undefined;
    case 'uniqueId':
    case 'text':
    case 'associationType':
      return v;
  }
}

const TYPE_HINT: Record<ParamType, string> = {
  patientId: 'a patient id ID^^^&OID&ISO',
  code: "a code 'code^^codingScheme'",
  dtm: 'a UTC time YYYY[MM[DD[hh[mm[ss]]]]]',
  status: 'a status URN (urn:oasis:names:tc:ebxml-regrep:StatusType:Approved or :Deprecated)',
  entryType: 'a DocumentEntry objectType (stable or on-demand UUID)',
  uuid: 'an entryUUID urn:uuid:...',
  uniqueId: 'a uniqueId',
  text: 'a string',
  authorPattern: 'a name pattern',
  associationType: 'an association type URN',
  metadataLevel: '1 or 2',
  homeCommunityId: 'a home community id urn:oid:...',
};

/**
 * Checks the slots of a request against the query's parameter table and returns the bound values, or
 * every error found: missing required (or one-of) parameters, several values where one is allowed,
 * malformed values. Slots the query does not define are ignored with a Warning.
 */
export function bindParams(def: StoredQueryDef, slots: QuerySlot[]): { params: BoundParams; errors: XdsError[] } {
  const errors: XdsError[] = [];
  const params: BoundParams = new Map();
  const byName = new Map<string, QuerySlot[]>();
  for (const s of slots) byName.set(s.name, [...(byName.get(s.name) ?? []), s]);

  for (const name of byName.keys()) {
    if (!def.params.some((p) => p.name === name)) {
      errors.push(new XdsError('XDSRegistryError', `parameter ${name} is not a parameter of ${def.name}; ignored`, undefined, 'Warning'));
    }
  }
  for (const p of def.params) {
    const given = byName.get(p.name);
    if (!given) {
      if (p.required) errors.push(new XdsError('XDSStoredQueryMissingParam', `${def.name} requires parameter ${p.name}`));
      else if (p.defaultValues) params.set(p.name, [p.defaultValues]);
      continue;
    }
    const groups = bindParam(def, p, given, errors);
    if (groups) params.set(p.name, groups);
  }
  for (const [a, b] of def.oneOf ?? []) {
    if (params.has(a) && params.has(b)) errors.push(new XdsError('XDSStoredQueryParamNumber', `${def.name} takes ${a} or ${b}, not both`));
    else if (!params.has(a) && !params.has(b) && !byName.has(a) && !byName.has(b)) {
      errors.push(new XdsError('XDSStoredQueryMissingParam', `${def.name} requires parameter ${a} or ${b}`));
    }
  }
  return { params, errors };
}

function bindParam(def: StoredQueryDef, p: ParamDef, slots: QuerySlot[], errors: XdsError[]): string[][] | undefined {
  if (slots.length > 1 && !p.andRepeats) {
    errors.push(new XdsError('XDSStoredQueryParamNumber', `${def.name}: parameter ${p.name} is given in ${slots.length} slots; only one is allowed`));
    return undefined;
  }
  const groups: string[][] = [];
  for (const slot of slots) {
    const values: string[] = [];
    for (const raw of slot.values) {
      const split = raw.length <= MAX_VALUE_LENGTH * 64 ? splitQueryValue(raw) : undefined;
      if (!split || split.some((v) => v.length > MAX_VALUE_LENGTH)) {
        errors.push(new XdsError('XDSRegistryError', `${def.name}: parameter ${p.name} has a malformed value; expected 'value' or ('value1','value2')`));
        return undefined;
      }
      values.push(...split);
    }
    if (!values.length) {
      errors.push(new XdsError('XDSRegistryError', `${def.name}: parameter ${p.name} has no value`));
      return undefined;
    }
    if (values.length > 1 && !p.multiple) {
      errors.push(new XdsError('XDSStoredQueryParamNumber', `${def.name}: parameter ${p.name} takes one value, got ${values.length}`));
      return undefined;
    }
    const normalised: string[] = [];
    for (const v of values) {
      const n = normalise(p.type, v);
      if (n === undefined) {
        errors.push(new XdsError('XDSRegistryError', `${def.name}: parameter ${p.name} must be ${TYPE_HINT[p.type]}`));
        return undefined;
      }
      normalised.push(n);
    }
    groups.push(normalised);
  }
  return groups;
}
