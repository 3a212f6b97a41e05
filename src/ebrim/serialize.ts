import type { RimClassification, RimExternalIdentifier, RimLocalizedString, RimObject, RimSlot } from './model.js';
import { answerBuffers } from '../xml/buffer-pool.js';
import { OBJECT_TYPE } from './uuids.js';

/** What the registry knows better than the stored submission: it overrides the stored ebRIM form. */
export interface RegistryFacts {
  /** The registry's current status of the object. */
  status?: string;
  /** logicalId and version (metadata level 2). */
  lid?: string;
  versionName?: string;
  /** Folders: the registry-maintained lastUpdateTime slot. */
  lastUpdateTime?: string;
  /** homeCommunityId put on the object (when the query named one). */
  home?: string;
}

// Besides the markup characters, every non-ASCII character is written as a character reference: the
// templates are then pure ASCII, which the database driver decodes and the answer encodes as plain byte
// copies (UTF-8 text costs a validating decode and encode per answer, 155 KB for a FindDocuments).
const SPECIAL = /[<>&"'\t\n\r\u0080-\uffff]/;
const TEXT_SPECIAL = /[<>&\u0080-\uffff]/;

// U+0001 and U+0002 delimit the placeholders of a template: a value carrying them (XML 1.0 cannot anyway) gets U+FFFD.
const unmarked = (s: string): string => (s.includes('\u0001') || s.includes('\u0002') ? s.replaceAll('\u0001', '\uFFFD').replaceAll('\u0002', '\uFFFD') : s);

const ESCAPES: Record<string, string> = { '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;', '\t': '&#9;', '\n': '&#10;', '\r': '&#13;' };

/** A character reference for a non-ASCII character; a lone surrogate (no character at all) becomes U+FFFD. */
function reference(c: string): string {
  const cp = c.codePointAt(0)!;
  return `&#${cp >= 0xd800 && cp <= 0xdfff ? 0xfffd : cp};`;
}

const escapeChar = (c: string): string => ESCAPES[c] ?? reference(c);

/** An attribute value: escaped, with tab and line breaks as character references so that they survive attribute normalisation. */
function attr(v: string): string {
  const s = unmarked(v);
  if (!SPECIAL.test(s)) return s;
  return s.replace(/[<>&"'\t\n\r]|[^\0-\x7f]/gu, escapeChar);
}

function text(v: string): string {
  const s = unmarked(v);
  return TEXT_SPECIAL.test(s) ? s.replace(/[<>&]|[^\0-\x7f]/gu, escapeChar) : s;
}

const opt = (name: string, v: string | undefined): string => (v === undefined ? '' : ` ${name}="${attr(v)}"`);

function slotXml(s: RimSlot): string {
  let out = `<rim:Slot name="${attr(s.name)}"${opt('slotType', s.slotType)}><rim:ValueList>`;
  for (const v of s.values) out += `<rim:Value>${text(v)}</rim:Value>`;
  return out + '</rim:ValueList></rim:Slot>';
}

function localizedXml(element: 'Name' | 'Description', strings: RimLocalizedString[]): string {
  if (!strings.length) return '';
  let out = `<rim:${element}>`;
  for (const l of strings) out += `<rim:LocalizedString${opt('xml:lang', l.lang)}${opt('charset', l.charset)} value="${attr(l.value)}"/>`;
  return out + `</rim:${element}>`;
}

/**
 * A template holds the object's XML with a placeholder `\u0001<letter><fallback>\u0002` wherever a
 * registry fact goes: the fallback is what is written when that fact is not given.
 */
const MARK = { home: 'H', childHome: 'C', lid: 'L', status: 'S', version: 'V', lastUpdateTime: 'T' } as const;
const mark = (letter: string, fallback = ''): string => `\u0001${letter}${fallback}\u0002`;
const CHILD_HOME = MARK.childHome.charCodeAt(0);

function classificationXml(c: RimClassification): string {
  return (
    `<rim:Classification id="${attr(c.id)}"${mark(MARK.childHome)} objectType="${OBJECT_TYPE.classification}"${opt('classificationScheme', c.classificationScheme)}` +
    ` classifiedObject="${attr(c.classifiedObject)}"${opt('classificationNode', c.classificationNode)}${opt('nodeRepresentation', c.nodeRepresentation)}>` +
    c.slots.map(slotXml).join('') +
    localizedXml('Name', c.name) +
    localizedXml('Description', c.description) +
    '</rim:Classification>'
  );
}

function externalIdentifierXml(e: RimExternalIdentifier): string {
  return (
    `<rim:ExternalIdentifier id="${attr(e.id)}"${mark(MARK.childHome)} objectType="${OBJECT_TYPE.externalIdentifier}"` +
    ` registryObject="${attr(e.registryObject)}" identificationScheme="${attr(e.identificationScheme)}" value="${attr(e.value)}">` +
    localizedXml('Name', e.name) +
    '</rim:ExternalIdentifier>'
  );
}

/** The slots as stored; the first lastUpdateTime slot (or, without one, the end of the slots) is the folder's placeholder. */
function slotsTemplate(slots: RimSlot[]): string {
  const i = slots.findIndex((s) => s.name === 'lastUpdateTime');
  const xml = slots.map((s, j) => (j === i ? mark(MARK.lastUpdateTime, slotXml(s)) : slotXml(s)));
  return xml.join('') + (i === -1 ? mark(MARK.lastUpdateTime) : '');
}

/**
 * One ebRIM 3.0 object as a LeafClass XML template, rendered once (at commit, for the registry's
 * cache) and completed per answer by fillTemplate with the registry's facts.
 */
export function rimObjectTemplate(o: RimObject): string {
  let open = `<rim:${o.kind} id="${attr(o.id)}"${mark(MARK.home, opt('home', o.home))}${mark(MARK.lid)}${opt('objectType', o.objectType)}${mark(MARK.status, opt('status', o.status))}`;
  if (o.kind === 'ExtrinsicObject') open += `${opt('mimeType', o.mimeType)}${opt('isOpaque', o.isOpaque)}`;
  if (o.kind === 'Association') open += `${opt('associationType', o.associationType)}${opt('sourceObject', o.sourceObject)}${opt('targetObject', o.targetObject)}`;
  return (
    open +
    '>' +
    slotsTemplate(o.slots) +
    localizedXml('Name', o.name) +
    localizedXml('Description', o.description) +
    mark(MARK.version) +
    o.classifications.map(classificationXml).join('') +
    o.externalIdentifiers.map(externalIdentifierXml).join('') +
    `</rim:${o.kind}>`
  );
}

/**
 * Appends to `pieces` the template's pieces once completed with the registry's facts, in order: the
 * stretches of the template between placeholders and what each placeholder becomes, empty ones left out
 * (most placeholders of an answer without a homeCommunityId are). Returns their length in all. A scan by
 * indexOf: this runs for every object of every LeafClass answer.
 */
function completeTemplate(template: string, facts: RegistryFacts, pieces: string[]): number {
  const home = facts.home === undefined ? undefined : opt('home', facts.home);
  let at = 0;
  let length = 0;
  for (let i = template.indexOf('\u0001'); i !== -1; i = template.indexOf('\u0001', at)) {
    const end = template.indexOf('\u0002', i);
    if (i > at) pieces.push(template.slice(at, i));
    // A child's home (most placeholders: one per classification and external identifier) has no fallback.
    const f = template.charCodeAt(i + 1) === CHILD_HOME ? (home ?? '') : fragment(template[i + 1]!, template.slice(i + 2, end), facts, home);
    if (f.length) pieces.push(f);
    length += i - at + f.length;
    at = end + 1;
  }
  pieces.push(at === 0 ? template : template.slice(at));
  return length + template.length - at;
}

/** The template completed with the registry's facts: the LeafClass XML of the object. */
export function fillTemplate(template: string, facts: RegistryFacts = {}): string {
  const pieces: string[] = [];
  completeTemplate(template, facts, pieces);
  return pieces.join('');
}

/**
 * LeafClass objects written one after the other as UTF-8 bytes, into one buffer allocated once the
 * whole answer is known: no completed string is built (for a 155 KB answer that string and its
 * encoding were the gateway's largest allocations). A template is ASCII (non-ASCII characters are
 * written as references) and so is every fact written into it (attr escapes them too), so its pieces
 * are copied byte for byte and the answer's size is their length; a template stored before templates
 * were ASCII (its UTF-8 is longer than its length) and XML rendered from `rim` are encoded the general
 * way.
 */
export class LeafClassWriter {
  private readonly pieces: string[] = [];
  /** Indexes of the pieces that may hold non-ASCII text (encoded as UTF-8); the others are copied byte for byte. */
  private readonly encoded = new Set<number>();
  private size = 0;

  /** The template completed with the registry's facts (fillTemplate). */
  template(template: string, facts: RegistryFacts = {}): this {
    if (Buffer.byteLength(template, 'utf8') !== template.length) return this.xml(fillTemplate(template, facts));
    this.size += completeTemplate(template, facts, this.pieces);
    return this;
  }

  /** XML of any characters. */
  xml(xml: string): this {
    this.encoded.add(this.pieces.length);
    this.pieces.push(xml);
    this.size += Buffer.byteLength(xml, 'utf8');
    return this;
  }

  /**
   * The answer's bytes, in a buffer lent by answerBuffers: whoever sends it gives it back once it has been
   * sent (src/http/soap-route.ts); a buffer not given back is left to the GC.
   */
  bytes(): Buffer {
    const out = answerBuffers.acquire(this.size);
    let at = 0;
    const pieces = this.pieces;
    if (!this.encoded.size) for (const p of pieces) at += out.write(p, at, 'latin1');
    else for (let i = 0; i < pieces.length; i++) at += out.write(pieces[i]!, at, this.encoded.has(i) ? 'utf8' : 'latin1');
    // A lent buffer holds an earlier answer's bytes: none of them may be left in this one.
    if (at !== out.length) throw new Error(`LeafClass answer of ${at} bytes written into ${out.length}`);
    return out;
  }
}

/** The status attribute of each status met so far: a registry has a handful (Approved, Deprecated, Submitted), each written into every object of an answer. */
const STATUS_ATTRIBUTES = new Map<string, string>();

function statusAttribute(status: string): string {
  let a = STATUS_ATTRIBUTES.get(status);
  if (a === undefined) {
    a = opt('status', status);
    if (STATUS_ATTRIBUTES.size < 16) STATUS_ATTRIBUTES.set(status, a);
  }
  return a;
}

function fragment(letter: string, fallback: string, facts: RegistryFacts, home: string | undefined): string {
  switch (letter) {
    case MARK.home:
      return home ?? fallback;
    case MARK.lid:
      return opt('lid', facts.lid);
    case MARK.status:
      return facts.status === undefined ? fallback : statusAttribute(facts.status);
    case MARK.version:
      return facts.versionName === undefined ? '' : `<rim:VersionInfo versionName="${attr(facts.versionName)}"/>`;
    case MARK.lastUpdateTime:
      return facts.lastUpdateTime === undefined ? fallback : slotXml({ name: 'lastUpdateTime', values: [facts.lastUpdateTime] });
    default:
      return fallback;
  }
}

/**
 * One ebRIM 3.0 object (ExtrinsicObject, RegistryPackage with its classifications, Association)
 * as LeafClass XML, in the element order of rim.xsd. The `rim` prefix must be bound by the caller.
 */
export function rimObjectXml(o: RimObject, facts: RegistryFacts = {}): string {
  return fillTemplate(rimObjectTemplate(o), facts);
}

/** rim:ObjectRef of an object (returnType ObjectRef). */
export function objectRefXml(id: string, home?: string): string {
  return `<rim:ObjectRef id="${attr(id)}"${opt('home', home)}/>`;
}
