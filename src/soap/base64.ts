const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const WHITESPACE = /[\t\n\r ]/;

/**
 * Decodes base64 text (RFC 4648 §4, whitespace between characters allowed), or returns undefined
 * when it is not base64: Buffer.from alone skips bad characters and would accept garbage silently.
 */
export function decodeBase64Strict(text: string): Buffer | undefined {
  const compact = WHITESPACE.test(text) ? text.replace(/[\t\n\r ]+/g, '') : text;
  if (compact.length % 4 !== 0 || !BASE64.test(compact)) return undefined;
  return Buffer.from(compact, 'base64');
}
