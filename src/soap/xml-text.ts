import { isUtf8 } from 'node:buffer';
import { SoapFault } from './fault.js';

const UTF8_NAMES = new Set(['utf-8', 'utf8', 'us-ascii']);
const XML_DECLARED_ENCODING = /^<\?xml\s[^?]*?\bencoding\s*=\s*["']([^"']*)["']/;

/**
 * The text of an XML message body: UTF-8 only (as every IHE actor sends), BOM stripped. `where`
 * names the bytes in the fault reason ("request body", "root MIME part").
 */
export function decodeXmlText(bytes: Buffer, charset: string | undefined, where: string): string {
  if (charset !== undefined && !UTF8_NAMES.has(charset.toLowerCase())) {
    throw new SoapFault('Sender', `${where} has charset '${charset}'; only UTF-8 is accepted`);
  }
  let start = 0;
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) start = 3;
  else if ((bytes[0] === 0xfe && bytes[1] === 0xff) || (bytes[0] === 0xff && bytes[1] === 0xfe)) {
    throw new SoapFault('Sender', `${where} is UTF-16 (byte order mark found); only UTF-8 is accepted`);
  }
  const text = bytes.subarray(start);
  if (!isUtf8(text)) {
    throw new SoapFault('Sender', `${where} is not valid UTF-8 (invalid byte sequence at byte ${start + firstInvalidUtf8(text)})`);
  }
  const xml = text.toString('utf8');
  const declared = XML_DECLARED_ENCODING.exec(xml.slice(0, 200))?.[1];
  if (declared !== undefined && !UTF8_NAMES.has(declared.toLowerCase())) {
    throw new SoapFault('Sender', `${where} declares encoding '${declared}' in its XML declaration; only UTF-8 is accepted`);
  }
  return xml;
}

/** Offset of the first byte that starts an ill-formed UTF-8 sequence (Unicode Table 3-7); only used to explain a refusal. */
function firstInvalidUtf8(b: Buffer): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) need = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      if (c === 0xe0) lo = 0xa0;
      if (c === 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      if (c === 0xf0) lo = 0x90;
      if (c === 0xf4) hi = 0x8f;
    } else return i;
    if (i + need >= b.length) return i;
    const second = b[i + 1]!;
    if (second < lo || second > hi) return i;
    for (let k = 2; k <= need; k++) {
      const next = b[i + k]!;
      if (next < 0x80 || next > 0xbf) return i;
    }
    i += need + 1;
  }
  return b.length;
}
