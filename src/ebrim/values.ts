/** Value formats of ITI TF-3 §4.2.3.1 that metadata slots and identifiers must follow. */

const OID = /^[0-2](\.(0|[1-9]\d*))+$/;
const UUID_URN = /^urn:uuid:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const MIME_TYPE = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;
const LANGUAGE = /^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$/;
const SHA1_HEX = /^[0-9a-fA-F]{40}$/;
const BYTE_SIZE = /^(0|[1-9]\d{0,15})$/;

/** An ISO OID: first arc 0-2, at least two arcs, no leading zeros, at most 64 characters. */
export const isOid = (s: string): boolean => s.length <= 64 && OID.test(s);

/** `urn:uuid:` followed by a UUID: anything else in an id attribute is a symbolic id. */
export const isUuidUrn = (s: string): boolean => s.length === 45 && UUID_URN.test(s);

/** DocumentEntry.uniqueId: an OID, or root OID `^` extension (CDA id), at most 128 characters. */
export function isDocumentUniqueId(s: string): boolean {
  if (s.length > 128) return false;
  const caret = s.indexOf('^');
  if (caret === -1) return isOid(s);
  const extension = s.slice(caret + 1);
  return isOid(s.slice(0, caret)) && extension.length > 0 && !/[\^&~\\|\s]/.test(extension);
}

export const isMimeType = (s: string): boolean => MIME_TYPE.test(s);

/** RFC 3066 / BCP 47 shape: `fr-FR`, `en-us`. */
export const isLanguageCode = (s: string): boolean => LANGUAGE.test(s);

export const isSha1Hex = (s: string): boolean => SHA1_HEX.test(s);

/** The `size` slot: a decimal count of bytes. */
export const isByteSize = (s: string): boolean => BYTE_SIZE.test(s);
