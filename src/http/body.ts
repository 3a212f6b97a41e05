import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { SoapFault } from '../soap/fault.js';

/** Decoders of the Content-Encodings a SOAP client may compress its request with (RFC 9110 §8.4.1). */
const DECODERS: Record<string, (() => zlib.Gunzip | zlib.Inflate | zlib.BrotliDecompress) | undefined> = {
  gzip: () => zlib.createGunzip(),
  'x-gzip': () => zlib.createGunzip(),
  deflate: () => zlib.createInflate(),
  br: () => zlib.createBrotliDecompress(),
};

/** A request body the gateway refuses to read: answered as a SOAP fault, on a connection that is then closed. */
export class BodyError extends SoapFault {}

/**
 * The whole body of a request, decompressed, as one Buffer. More than `limit` bytes (declared by
 * Content-Length, or counted as they arrive, after decompression) fails with a 413 fault as soon as
 * it is known, without reading the rest; so does an unknown Content-Encoding (415) or a body the
 * client abandons.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (encoding === 'identity' && declared !== undefined && Number(declared) > limit) return Promise.reject(tooLarge(limit));
  let source: Readable = req;
  if (encoding !== 'identity') {
    const decoder = DECODERS[encoding];
    if (!decoder) return Promise.reject(new BodyError('Sender', `unsupported content encoding '${encoding}': send identity, gzip, deflate or br`, { httpStatus: 415 }));
    source = req.pipe(decoder());
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const fail = (err: Error): void => {
      if (settled) return;
      settled = true;
      if (source !== req) req.unpipe();
      source.removeListener('data', onData);
      req.pause();
      reject(err);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) fail(tooLarge(limit));
      else chunks.push(chunk);
    };
    source.on('data', onData);
    source.once('end', () => {
      if (settled) return;
      settled = true;
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    });
    const aborted = (): void => fail(new BodyError('Sender', 'request body was aborted by the client'));
    req.once('error', aborted);
    req.once('close', () => {
      if (!req.complete) aborted();
    });
    if (source !== req) source.once('error', (err: Error) => fail(new BodyError('Sender', `request body could not be decoded as ${encoding}: ${err.message}`)));
  });
}

const tooLarge = (limit: number): BodyError => new BodyError('Sender', `request body exceeds the limit of ${limit} bytes (MAX_REQUEST_BYTES)`, { httpStatus: 413 });
