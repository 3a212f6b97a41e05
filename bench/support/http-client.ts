/**
 * The load side of the query benchmark: a keep-alive HTTP/1.1 client that does as little as an HTTP client can,
 * so that on a 2-core machine the CPU goes to the gateway and PostgreSQL, not to the load (undici, measured in the
 * same run, spent more CPU per query than the gateway: docs/registry.md).
 *
 * Each request is a prebuilt byte string (request line, headers and body, see `prepareRequest`), written as it is.
 * A connection carries one request at a time (no pipelining). The answer must carry a Content-Length: its body is
 * copied into a buffer of the connection's and lent to the caller's `read`; an answer in chunks, without a length,
 * with bytes beyond its length, or cut short by the server is an error, as is a head larger than 16 KB or an answer
 * later than `timeoutMs`.
 */
import net from 'node:net';

export interface HttpAnswer {
  status: number;
  body: Buffer;
}

const HEAD_END = Buffer.from('\r\n\r\n');
const MAX_HEAD_BYTES = 16 * 1024;
const READ_BUFFER_BYTES = 64 * 1024;

/** The bytes of one POST to `url`: request line, Host, Content-Type, Content-Length, then the body. */
export function prepareRequest(url: URL, contentType: string, body: Buffer): Buffer {
  const head = `POST ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: ${contentType}\r\nContent-Length: ${body.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}

/** The status and Content-Length of an answer's head (without its blank line); throws on what this client does not read. */
export function parseHead(head: string): { status: number; length: number; close: boolean } {
  const lines = head.split('\r\n');
  const statusLine = /^HTTP\/1\.[01] (\d{3})(?: |$)/.exec(lines[0] ?? '');
  if (!statusLine) throw new Error(`not an HTTP/1.x status line: '${(lines[0] ?? '').slice(0, 80)}'`);
  let length: number | undefined;
  let close = /^HTTP\/1\.0/.test(lines[0]!);
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`malformed header line: '${line.slice(0, 80)}'`);
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'content-length') {
      if (!/^\d+$/.test(value) || (length !== undefined && Number(value) !== length)) throw new Error(`invalid Content-Length '${value}'`);
      length = Number(value);
    } else if (name === 'transfer-encoding') {
      throw new Error(`answer sent with Transfer-Encoding '${value}': this client reads answers with a Content-Length only`);
    } else if (name === 'connection') {
      close = value.toLowerCase() === 'close' ? true : value.toLowerCase() === 'keep-alive' ? false : close;
    }
  }
  if (length === undefined) throw new Error('answer without Content-Length: this client reads answers with a Content-Length only');
  return { status: Number(statusLine[1]), length, close };
}

interface Pending {
  read: (answer: HttpAnswer) => unknown;
  resolve: (result: unknown) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * One keep-alive connection, one request at a time. Nothing is allocated per answer once the connection has
 * seen its largest: the socket reads into the connection's own buffer (`onread`), and bodies are copied into
 * another that grows to the largest answer. Fresh buffers cost more than the copy: in a first version, the page
 * faults of a new buffer per answer were most of the client's busy time (CPU profile, 2 vCPUs).
 */
class Connection {
  private pending: Pending | undefined;
  /** The bytes of a head that has not fully arrived yet, copied out of the read buffer. */
  private partialHead: Buffer | undefined;
  private status = 0;
  private bodyBuffer = Buffer.allocUnsafe(0);
  /** The length of the answer being read; -1 while its head is being read. */
  private length = -1;
  private received = 0;
  private closeAfter = false;
  private closed = false;
  private socket!: net.Socket;

  constructor(private readonly release: (conn: Connection, reusable: boolean) => void) {}

  /** Connects; resolves once connected. */
  connect(host: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const buffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
      const onread = {
        buffer,
        callback: (n: number): boolean => {
          this.onRead(buffer, n);
          return true;
        },
      };
      const socket = net.connect({ host, port, onread });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        socket.setNoDelay(true);
        socket.on('error', (err) => this.fail(err));
        socket.on('close', () => this.fail(new Error(this.length >= 0 ? `connection closed after ${this.received} of ${this.length} body bytes` : 'connection closed before the answer')));
        this.socket = socket;
        resolve();
      });
    });
  }

  send<T>(request: Buffer, read: (answer: HttpAnswer) => T, timeoutMs: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => this.fail(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      this.pending = { read, resolve: resolve as (result: unknown) => void, reject, timer };
      this.socket.write(request);
    });
  }

  destroy(): void {
    this.closed = true;
    this.socket?.destroy();
  }

  /** `n` bytes read into `buf` (the connection's read buffer, overwritten by the next read). */
  private onRead(buf: Buffer, n: number): void {
    try {
      if (!this.pending) throw new Error(`${n} bytes arrived while no request was outstanding`);
      if (this.length >= 0) this.onBody(buf, 0, n);
      else this.onHead(buf, n);
    } catch (err) {
      this.fail(err as Error);
    }
  }

  private onHead(buf: Buffer, n: number): void {
    const head = this.partialHead ? Buffer.concat([this.partialHead, buf.subarray(0, n)]) : buf;
    const headBytes = this.partialHead ? head.length : n;
    const end = head.subarray(0, headBytes).indexOf(HEAD_END);
    if (end === -1) {
      if (headBytes > MAX_HEAD_BYTES) throw new Error(`answer head longer than ${MAX_HEAD_BYTES} bytes`);
      // Kept until the rest arrives: the read buffer is overwritten by the next read.
      this.partialHead = this.partialHead ? head : Buffer.from(buf.subarray(0, n));
      return;
    }
    this.partialHead = undefined;
    const { status, length, close } = parseHead(head.toString('latin1', 0, end));
    this.status = status;
    this.closeAfter = close;
    this.length = length;
    this.received = 0;
    if (this.bodyBuffer.length < length) this.bodyBuffer = Buffer.allocUnsafe(length);
    this.onBody(head, end + HEAD_END.length, headBytes);
  }

  private onBody(buf: Buffer, from: number, to: number): void {
    if (this.received + (to - from) > this.length) throw new Error(`answer longer than its Content-Length of ${this.length} bytes`);
    this.received += buf.copy(this.bodyBuffer, this.received, from, to);
    if (this.received < this.length) return;
    const pending = this.pending!;
    this.pending = undefined;
    clearTimeout(pending.timer);
    let result: unknown;
    let failure: Error | undefined;
    try {
      result = pending.read({ status: this.status, body: this.bodyBuffer.subarray(0, this.length) });
    } catch (err) {
      failure = err as Error;
    }
    this.length = -1;
    if (this.closeAfter) this.destroy();
    this.release(this, !this.closeAfter);
    if (failure) pending.reject(failure);
    else pending.resolve(result);
  }

  private fail(err: Error): void {
    const pending = this.pending;
    this.pending = undefined;
    if (!this.closed) {
      this.destroy();
      this.release(this, false);
    }
    if (pending) {
      clearTimeout(pending.timer);
      pending.reject(err);
    }
  }
}

/**
 * Up to `connections` keep-alive connections to one server, opened on demand; a request finds a free one or
 * waits for one. A connection that fails or is closed is dropped, and the next request opens a new one.
 */
export class HttpPool {
  private readonly free: Connection[] = [];
  private readonly all = new Set<Connection>();
  private readonly waiting: { resolve: (conn: Connection) => void; reject: (err: Error) => void }[] = [];
  private opening = 0;
  private closed = false;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly connections: number,
    private readonly timeoutMs = 30_000,
  ) {}

  /**
   * Sends prebuilt request bytes (`prepareRequest`) and resolves to what `read` makes of the answer, whatever its
   * status. `read` is called as soon as the answer is complete: its body is lent, valid during the call only (the
   * connection reads its next answer into the same buffer).
   */
  async send<T>(request: Buffer, read: (answer: HttpAnswer) => T): Promise<T> {
    const conn = await this.acquire();
    return conn.send(request, read, this.timeoutMs);
  }

  /** Closes every connection: requests in flight or waiting for a connection are rejected, and so are later ones. */
  close(): void {
    this.closed = true;
    for (const conn of this.all) conn.destroy();
    this.all.clear();
    this.free.length = 0;
    for (const w of this.waiting.splice(0)) w.reject(new Error('the pool is closed'));
  }

  private acquire(): Promise<Connection> {
    if (this.closed) return Promise.reject(new Error('the pool is closed'));
    const conn = this.free.pop();
    if (conn) return Promise.resolve(conn);
    if (this.all.size + this.opening < this.connections) return this.open();
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  private async open(): Promise<Connection> {
    this.opening++;
    const conn = new Connection((c, reusable) => this.release(c, reusable));
    try {
      await conn.connect(this.host, this.port);
    } finally {
      this.opening--;
    }
    this.all.add(conn);
    return conn;
  }

  private release(conn: Connection, reusable: boolean): void {
    if (!reusable) {
      this.all.delete(conn);
      const i = this.free.indexOf(conn);
      if (i >= 0) this.free.splice(i, 1);
      // A request waiting for a connection gets a new one in place of the one dropped.
      const next = this.waiting.shift();
      if (next) this.open().then(next.resolve, next.reject);
      return;
    }
    const next = this.waiting.shift();
    if (next) next.resolve(conn);
    else this.free.push(conn);
  }
}
