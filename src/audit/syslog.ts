import { readFileSync } from 'node:fs';
import os from 'node:os';
import tls from 'node:tls';
import type { Logger } from '../log.js';

/** authpriv (10) × 8 + notice (5): the PRI IHE ATNA gives audit messages. */
const PRI = 85;
const MAX_QUEUED = 10_000;
const MAX_BACKOFF_MS = 30_000;

/**
 * One RFC 5424 syslog message carrying an ATNA audit message, framed for TLS transport by octet
 * counting (RFC 5425 §4.3: `MSG-LEN SP SYSLOG-MSG`, the length in bytes).
 */
export function syslogFrame(xml: string, opts: { at: Date; appName: string; hostname?: string; procId?: string }): Buffer {
  const header = `<${PRI}>1 ${opts.at.toISOString()} ${field(opts.hostname ?? os.hostname())} ${field(opts.appName)} ${field(opts.procId ?? String(process.pid))} IHE+RFC-3881 - `;
  const message = Buffer.concat([Buffer.from(header, 'utf8'), Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(xml, 'utf8')]);
  return Buffer.concat([Buffer.from(`${message.length} `, 'ascii'), message]);
}

/** RFC 5424 header fields are printable US-ASCII without spaces, at most 48 characters; '-' when empty. */
function field(v: string): string {
  const clean = v.replace(/[^\x21-\x7e]/g, '').slice(0, 48);
  return clean || '-';
}

export interface SyslogTlsOptions {
  /** tls://host:port */
  url: string;
  /** PEM CA the audit repository's certificate must chain to; unset: the system CAs. */
  caFile?: string;
  logger: Logger;
}

/**
 * Sends frames to the audit repository over one TLS connection, in order, reconnecting with backoff.
 * send() only queues: a slow or absent repository never delays a transaction; past MAX_QUEUED the
 * oldest frames are dropped and counted in the log (the database keeps every record regardless).
 */
export class SyslogTlsForwarder {
  private readonly host: string;
  private readonly port: number;
  private readonly ca?: Buffer;
  private readonly queue: Buffer[] = [];
  private socket?: tls.TLSSocket;
  private connected = false;
  private closed = false;
  private backoffMs = 250;
  private retry?: NodeJS.Timeout;
  private dropped = 0;
  private drainWaiters: (() => void)[] = [];

  constructor(private readonly opts: SyslogTlsOptions) {
    const m = /^tls:\/\/([^:/\s]+):(\d{1,5})$/.exec(opts.url);
    if (!m) throw new Error(`audit syslog URL must be tls://host:port, got '${opts.url}'`);
    this.host = m[1]!;
    this.port = Number(m[2]);
    this.ca = opts.caFile ? readFileSync(opts.caFile) : undefined;
  }

  send(frame: Buffer): void {
    if (this.closed) return;
    this.queue.push(frame);
    if (this.queue.length > MAX_QUEUED) {
      this.queue.shift();
      if (this.dropped++ % 1000 === 0) this.opts.logger.warn({ dropped: this.dropped }, 'audit syslog queue full: oldest audit messages not forwarded');
    }
    if (this.connected) this.flush();
    else this.connect();
  }

  /** Resolves once every queued frame has been handed to the TLS socket (tests, shutdown). */
  drained(): Promise<void> {
    if (!this.queue.length) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.retry);
    this.socket?.end();
    this.socket?.destroy();
    for (const w of this.drainWaiters.splice(0)) w();
  }

  private connect(): void {
    if (this.socket || this.closed || this.retry) return;
    const socket = tls.connect({ host: this.host, port: this.port, ca: this.ca, servername: /^[\d.:]+$/.test(this.host) ? undefined : this.host });
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('secureConnect', () => {
      this.connected = true;
      this.backoffMs = 250;
      this.flush();
    });
    socket.on('error', (err) => this.opts.logger.warn({ err: err.message, url: this.opts.url }, 'audit syslog connection failed'));
    socket.on('close', () => {
      this.socket = undefined;
      this.connected = false;
      if (this.closed) return;
      this.retry = setTimeout(() => {
        this.retry = undefined;
        if (this.queue.length) this.connect();
      }, this.backoffMs);
      this.retry.unref();
      this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
    });
  }

  private flush(): void {
    const socket = this.socket;
    while (this.connected && socket && this.queue.length) {
      const frame = this.queue.shift()!;
      socket.write(frame);
    }
    if (!this.queue.length) for (const w of this.drainWaiters.splice(0)) w();
  }
}
