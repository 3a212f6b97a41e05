import { readFileSync } from 'node:fs';
import http, { STATUS_CODES, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { SOAP_CONTENT_TYPE, SoapFault, faultEnvelope } from '../soap/fault.js';

/** The client certificate of a mutual-TLS connection, as the access policy reads it. */
export interface ClientIdentity {
  /** Distinguished name, most significant first as in the certificate, e.g. `C=FR, O=CHU, CN=dpi.chu.fr`. */
  subject: string;
  issuer: string;
  serialNumber: string;
  fingerprint256: string;
  validTo: string;
}

type TlsSettings = Pick<Config, 'tlsCertFile' | 'tlsKeyFile' | 'tlsCaFile' | 'tlsClientAuth'>;
type ServerSettings = TlsSettings & Pick<Config, 'host'> & Partial<Pick<Config, 'requestTimeoutMs'>>;

/** Locals key under which each request of a mutual-TLS connection carries its ClientIdentity. */
export const CLIENT_IDENTITY = 'clientIdentity';

const LOOPBACK = /^(127\.|::1$|localhost$)/;

/**
 * HTTPS (TLS 1.2 or later) when a certificate is configured, checking client certificates against
 * TLS_CA_FILE as TLS_CLIENT_AUTH says; plain HTTP otherwise. Each request of an authenticated
 * connection gets the client's identity in `res.locals.clientIdentity` before the app sees it.
 */
export function createServer(app: RequestListener, config: ServerSettings, logger: Logger): http.Server | https.Server {
  const server = config.tlsCertFile && config.tlsKeyFile ? httpsServer(app, config, { cert: config.tlsCertFile, key: config.tlsKeyFile }) : plainServer(app, config, logger);
  server.on('clientError', answerClientError);
  return server;
}

function plainServer(app: RequestListener, config: ServerSettings, logger: Logger): http.Server {
  if (!LOOPBACK.test(config.host)) {
    logger.warn({ host: config.host }, 'plain HTTP on a non-loopback address: set TLS_CERT_FILE, TLS_KEY_FILE and TLS_CA_FILE for HTTPS with client certificates');
  }
  return http.createServer(timeouts(config), app);
}

/** Node checks request deadlines every 30 s by default: a short REQUEST_TIMEOUT_MS needs a closer look to cut slow clients off in time. */
function timeouts(config: ServerSettings): http.ServerOptions {
  const requestTimeout = config.requestTimeoutMs ?? 60_000;
  return {
    requestTimeout,
    headersTimeout: Math.min(requestTimeout, 30_000),
    connectionsCheckingInterval: Math.max(100, Math.min(30_000, Math.floor(requestTimeout / 4))),
  };
}

/**
 * Requests that never reach the app (headers too large, malformed HTTP, too slow) still get a SOAP
 * fault naming the problem, so that a client's log says what to fix.
 */
function answerClientError(err: NodeJS.ErrnoException, socket: Duplex & { _httpMessage?: { headersSent?: boolean } | null }): void {
  // Once the answer to the request in progress has started (an early 413), a raw one would corrupt it: Node checks the same.
  if (err.code === 'ECONNRESET' || !socket.writable || socket._httpMessage?.headersSent) {
    socket.destroy();
    return;
  }
  const [status, reason] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'request headers exceed the size limit of the gateway']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'request not received completely within REQUEST_TIMEOUT_MS; the client is too slow']
        : [400, `malformed HTTP request (${err.code ?? 'parse error'})`];
  const body = faultEnvelope(new SoapFault('Sender', reason, { httpStatus: status }));
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: ${SOAP_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

function httpsServer(app: RequestListener, config: ServerSettings, files: { cert: string; key: string }): https.Server {
  const requestCert = config.tlsClientAuth !== 'none';
  const options: https.ServerOptions = {
    ...timeouts(config),
    cert: readFileSync(files.cert),
    key: readFileSync(files.key),
    ca: config.tlsCaFile ? readFileSync(config.tlsCaFile) : undefined,
    minVersion: 'TLSv1.2',
    requestCert,
    rejectUnauthorized: config.tlsClientAuth === 'required',
  };
  const identities = new WeakMap<TLSSocket, ClientIdentity | null>();
  return https.createServer(options, (req: IncomingMessage, res: ServerResponse & { locals?: Record<string, unknown> }) => {
    const socket = req.socket as TLSSocket;
    let identity = identities.get(socket);
    if (identity === undefined) {
      identity = requestCert ? clientIdentity(socket) : null;
      identities.set(socket, identity);
    }
    // Express keeps an existing res.locals, so the identity reaches every route and policy check.
    res.locals = { [CLIENT_IDENTITY]: identity ?? undefined };
    app(req, res);
  });
}

/** The verified client certificate of a TLS connection; null when none was sent or it did not chain to the CA. */
export function clientIdentity(socket: TLSSocket): ClientIdentity | null {
  if (!socket.authorized) return null;
  const cert = socket.getPeerX509Certificate();
  if (!cert) return null;
  return {
    subject: dn(cert.subject),
    issuer: dn(cert.issuer),
    serialNumber: cert.serialNumber,
    fingerprint256: cert.fingerprint256,
    validTo: cert.validTo,
  };
}

/** Node gives a DN one attribute per line; policies and logs want it on one line. */
const dn = (lines: string): string => lines.split('\n').filter(Boolean).join(', ');

export const schemeOf = (config: TlsSettings): 'http' | 'https' => (config.tlsCertFile ? 'https' : 'http');
