import { seededRandom } from '../../src/random.js';

export interface Message {
  contentType: string;
  body: Buffer;
}

type Mutator = (m: Message, r: () => number) => Message;

const pick = <T>(r: () => number, list: readonly T[]): T => list[Math.floor(r() * list.length)]!;
const at = (r: () => number, n: number): number => Math.floor(r() * Math.max(n, 1));

const NASTY = ['<', '>', '&', '&amp', ']]>', '<!--', '"', "'", '\u0000', '\uffff', '\ud800', '<![CDATA[', '<?pi?>', '&#0;', '&#x110000;', 'é', '\r\n--', '%', 'cid:', '=?'];

/** Start offsets of elements (`<` followed by a name), so that structural mutators cut at tag boundaries. */
function tagOffsets(s: string): number[] {
  const out: number[] = [];
  for (let i = s.indexOf('<'); i !== -1; i = s.indexOf('<', i + 1)) if (/[A-Za-z/]/.test(s[i + 1] ?? '')) out.push(i);
  return out;
}

/** Mutations that mix byte-level noise with XML- and MIME-aware changes, so that many cases get past the first parser. */
const MUTATORS: Record<string, Mutator> = {
  flipByte: (m, r) => {
    const body = Buffer.from(m.body);
    const i = at(r, body.length);
    body[i] = body[i]! ^ (1 << at(r, 8));
    return { ...m, body };
  },
  deleteRange: (m, r) => {
    const i = at(r, m.body.length);
    return { ...m, body: Buffer.concat([m.body.subarray(0, i), m.body.subarray(i + 1 + at(r, 64))]) };
  },
  insertNasty: (m, r) => {
    const i = at(r, m.body.length);
    return { ...m, body: Buffer.concat([m.body.subarray(0, i), Buffer.from(pick(r, NASTY)), m.body.subarray(i)]) };
  },
  truncate: (m, r) => ({ ...m, body: m.body.subarray(0, at(r, m.body.length)) }),
  duplicateElement: (m, r) => {
    const s = m.body.toString('latin1');
    const tags = tagOffsets(s);
    const a = pick(r, tags);
    const b = pick(r, tags);
    const [from, to] = a < b ? [a, b] : [b, a];
    return { ...m, body: Buffer.from(s.slice(0, to) + s.slice(from, to) + s.slice(to), 'latin1') };
  },
  removeElementSpan: (m, r) => {
    const s = m.body.toString('latin1');
    const tags = tagOffsets(s);
    const i = at(r, tags.length - 1);
    return { ...m, body: Buffer.from(s.slice(0, tags[i]) + s.slice(tags[i + 1] ?? s.length), 'latin1') };
  },
  renameTag: (m, r) => {
    const s = m.body.toString('latin1');
    const i = pick(r, tagOffsets(s));
    const name = /^<\/?([\w:.-]+)/.exec(s.slice(i))?.[1];
    if (!name) return m;
    const replacement = pick(r, ['x', 'rim:Slot', 'rim:ExtrinsicObject', 'xdsb:Document', 'soap:Body', name.toUpperCase(), `${name}${name}`]);
    return { ...m, body: Buffer.from(s.slice(0, i) + s.slice(i).replace(name, replacement), 'latin1') };
  },
  changeAttribute: (m, r) => {
    const s = m.body.toString('latin1');
    const attrs = [...s.matchAll(/ ([\w:]+)="([^"]*)"/g)];
    if (!attrs.length) return m;
    const a = pick(r, attrs);
    const value = pick(r, ['', 'urn:uuid:00000000-0000-0000-0000-000000000000', 'x'.repeat(5000), '1.2.3', a[2]!.split('').reverse().join(''), '&lt;', 'Document01']);
    return { ...m, body: Buffer.from(s.slice(0, a.index) + ` ${a[1]}="${value}"` + s.slice(a.index! + a[0].length), 'latin1') };
  },
  changeText: (m, r) => {
    const s = m.body.toString('latin1');
    const texts = [...s.matchAll(/>([^<\s][^<]*)</g)];
    if (!texts.length) return m;
    const t = pick(r, texts);
    const value = pick(r, ['', ' ', '19700101', '99999999999999', 'urn:uuid:x', t[1]!.repeat(3), '^^^&1.2.3&ISO', 'AAAA====', '\u0000']);
    return { ...m, body: Buffer.from(s.slice(0, t.index! + 1) + value + s.slice(t.index! + 1 + t[1]!.length), 'latin1') };
  },
  contentType: (m, r) => {
    const ct = pick(r, [
      m.contentType.replace(/boundary="[^"]+"/, 'boundary="x"'),
      m.contentType.replace(/start="[^"]+"/, ''),
      m.contentType.replace('application/soap+xml', 'text/xml'),
      m.contentType.replace('multipart/related', 'multipart/mixed'),
      'application/soap+xml; charset=UTF-16',
      '',
      `${m.contentType}; ${m.contentType}`,
    ]);
    return { ...m, contentType: ct };
  },
};

const NAMES = Object.keys(MUTATORS);

/** One to three mutations of a valid message, chosen by the seed; returns what was done, for the failure message. */
export function mutate(m: Message, seed: number): { message: Message; steps: string[] } {
  const r = seededRandom(seed);
  const steps: string[] = [];
  let out = m;
  const n = 1 + at(r, 3);
  for (let i = 0; i < n; i++) {
    const name = pick(r, NAMES);
    steps.push(name);
    out = MUTATORS[name]!(out, r);
  }
  return { message: out, steps };
}
