/**
 * The load side of the query benchmark: a keep-alive HTTP/1.1 client that does as little as an HTTP client can,
 * so that on a 2-core machine the CPU goes to the gateway and PostgreSQL, not to the load (undici, measured in the
 * same run, spent more CPU per query than the gateway: docs/registry.md).
 *
 * Each request is a prebuilt byte string (request line, headers and body, see `prepareRequest`), written as it is.
 * A connection carries one request at a time (no pipelining). The answer must carry a Content-Length: the body is
 * copied into one buffer of that size; an answer in chunks, without a length, with bytes beyond its length, or cut
 * short by the server is an error, as is a head larger than 16 KB or an answer later than `timeoutMs`.
 */
import net from 'node:net';

export interface HttpAnswer {
  status: number;
  body: Buffer;
}

const HEAD_END = Buffer.from('\r\n\r\n');
const MAX_HEAD_BYTES = 16 * 1024;

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
  resolve: (answer: HttpAnswer) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/** One keep-alive connection, one request at a time. */
class Connection {
  private pending: Pending | undefined;
  private headChunks: Buffer[] = [];
  private headBytes = 0;
  private status = 0;
  private body: Buffer | undefined;
  private received = 0;
  private closeAfter = false;
  private closed = false;

  constructor(
    private readonly socket: net.Socket,
    private readonly release: (conn: Connection, reusable: boolean) => void,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(new Error(this.body ? `connection closed after ${this.received} of ${this.body.length} body bytes` : 'connection closed before the answer')));
  }

  send(request: Buffer, timeoutMs: number): Promise<HttpAnswer> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.fail(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      this.pending = { resolve, reject, timer };
      this.socket.write(request);
    });
  }

  destroy(): void {
    this.closed = true;
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    try {
      if (!this.pending) throw new Error(`${chunk.length} bytes arrived while no request was outstanding`);
      if (this.body) this.onBody(chunk);
      else this.onHead(chunk);
    } catch (err) {
      this.fail(err as Error);
    }
  }

  private onHead(chunk: Buffer): void {
    this.headChunks.push(chunk);
    this.headBytes += chunk.length;
    const head = this.headChunks.length === 1 ? chunk : Buffer.concat(this.headChunks, this.headBytes);
    const end = head.indexOf(HEAD_END);
    if (end === -1) {
      if (this.headBytes > MAX_HEAD_BYTES) throw new Error(`answer head longer than ${MAX_HEAD_BYTES} bytes`);
      if (this.headChunks.length > 1) this.headChunks = [head];
      return;
    }
    const { status, length, close } = parseHead(head.toString('latin1', 0, end));
    this.headChunks = [];
    this.headBytes = 0;
    this.status = status;
    this.closeAfter = close;
    this.body = Buffer.allocUnsafe(length);
    this.received = 0;
    this.onBody(head.subarray(end + HEAD_END.length));
  }

  private onBody(chunk: Buffer): void {
    const body = this.body!;
    if (this.received + chunk.length > body.length) throw new Error(`answer longer than its Content-Length of ${body.length} bytes`);
    chunk.copy(body, this.received);
    this.received += chunk.length;
    if (this.received < body.length) return;
    const pending = this.pending!;
    const answer = { status: this.status, body };
    this.pending = undefined;
    this.body = undefined;
    clearTimeout(pending.timer);
    if (this.closeAfter) this.destroy();
    this.release(this, !this.closeAfter);
    pending.resolve(answer);
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

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly connections: number,
    private readonly timeoutMs = 30_000,
  ) {}

  /** Sends prebuilt request bytes (`prepareRequest`) and resolves to the answer, whatever its status. */
  async send(request: Buffer): Promise<HttpAnswer> {
    const conn = await this.acquire();
    return conn.send(request, this.timeoutMs);
  }

  close(): void {
    for (const conn of this.all) conn.destroy();
    this.all.clear();
    this.free.length = 0;
  }

  private acquire(): Promise<Connection> {
    const conn = this.free.pop();
    if (conn) return Promise.resolve(conn);
    if (this.all.size + this.opening < this.connections) return this.open();
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  private open(): Promise<Connection> {
    this.opening++;
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: this.host, port: this.port });
      const refused = (err: Error): void => {
        this.opening--;
        reject(err);
      };
      socket.once('error', refused);
      socket.once('connect', () => {
        socket.off('error', refused);
        this.opening--;
        const conn = new Connection(socket, (c, reusable) => this.release(c, reusable));
        this.all.add(conn);
        resolve(conn);
      });
    });
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
