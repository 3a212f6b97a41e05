/**
 * XML written as pieces, one after the other, each encoded on its own: a large query answer is never
 * joined into one string (flattening that concatenation cost five times its encoding). A piece is text
 * or, for what is already bytes (the LeafClass objects of a query answer), UTF-8. By construction the
 * first piece is text and holds the response status and the error list.
 */
export type XmlPiece = string | Buffer;
export type XmlPieces = [string, ...XmlPiece[]];

/** The XML of a body up to its second piece: all of a string body; where its status and errors are. */
export const headOf = (body: string | XmlPieces): string => (typeof body === 'string' ? body : body[0]);

/** The pieces as one UTF-8 buffer. */
export const piecesBuffer = (pieces: XmlPieces): Buffer => Buffer.concat(pieces.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : p)));

/** A body as bytes, whichever form it has. */
export const bodyBytes = (body: string | XmlPieces): Buffer => (typeof body === 'string' ? Buffer.from(body, 'utf8') : piecesBuffer(body));
