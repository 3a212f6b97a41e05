/**
 * XML written as pieces, one after the other, each encoded on its own: a large query answer is never
 * joined into one string (flattening that concatenation cost five times its encoding). By construction
 * the first piece holds the response status and the error list.
 */
export type XmlPieces = string[];

/** The XML of a body up to its second piece: all of a string body; where its status and errors are. */
export const headOf = (body: string | XmlPieces): string => (typeof body === 'string' ? body : (body[0] ?? ''));

/** The pieces as one UTF-8 buffer. */
export const piecesBuffer = (pieces: XmlPieces): Buffer => Buffer.concat(pieces.map((p) => Buffer.from(p, 'utf8')));

/** A body as bytes, whichever form it has. */
export const bodyBytes = (body: string | XmlPieces): Buffer => (typeof body === 'string' ? Buffer.from(body, 'utf8') : piecesBuffer(body));
