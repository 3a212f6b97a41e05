/**
 * XML written as pieces, one after the other: strings, and UTF-8 bytes taken from the registry as they
 * are. A large query answer is never decoded nor joined into one string: its objects' bytes go from the
 * database rows to the socket with one copy. By construction the first piece holds the response status
 * and the error list.
 */
export type XmlPieces = (string | Buffer)[];

/** The XML of a body up to its first bytes piece: all of a string body, where its status and errors are. */
export const headOf = (body: string | XmlPieces): string => (typeof body === 'string' ? body : typeof body[0] === 'string' ? body[0] : '');

/** The pieces as one UTF-8 buffer (one copy of the bytes pieces). */
export function piecesBuffer(pieces: XmlPieces): Buffer {
  const buffers = pieces.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : p));
  return Buffer.concat(buffers);
}

/** A body as bytes, whichever form it has. */
export const bodyBytes = (body: string | XmlPieces): Buffer => (typeof body === 'string' ? Buffer.from(body, 'utf8') : piecesBuffer(body));
