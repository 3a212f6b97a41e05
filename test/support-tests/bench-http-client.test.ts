import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { HttpPool, parseHead, prepareRequest, type HttpAnswer } from '../../bench/support/http-client.js';
import { rejectionOf } from '../support/rejection.js';

/** An answer as text: the body is lent to the reader only. */
const asText = (answer: HttpAnswer): { status: number; text: string } => ({ status: answer.status, text: answer.body.toString('utf8') });

/** Every socket a test server accepted, destroyed after each test (a server closes once its sockets are gone). */
const accepted = new Set<net.Socket>();

/** A server on a free port of 127.0.0.1; resolves to its port. */
async function listen(server: http.Server | net.Server): Promise<number> {
  server.on('connection', (socket: net.Socket) => accepted.add(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

describe('bench HTTP client', () => {
  const servers: (http.Server | net.Server)[] = [];
  const pools: HttpPool[] = [];
  afterEach(async () => {
    for (const pool of pools.splice(0)) pool.close();
    for (const socket of accepted) socket.destroy();
    accepted.clear();
    for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
  });

  /** An HTTP server whose answers `answer` writes; the request body arrives as `body`. */
  async function httpServer(answer: (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) => void): Promise<{ port: number; sockets: Set<net.Socket> }> {
    const sockets = new Set<net.Socket>();
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => answer(req, res, Buffer.concat(chunks)));
    });
    server.on('connection', (s) => sockets.add(s));
    servers.push(server);
    return { port: await listen(server), sockets };
  }

  /** A raw TCP server that answers each connection's first request with `raw`, then closes it. */
  async function rawServer(raw: string): Promise<number> {
    const server = net.createServer((socket) => {
      socket.once('data', () => socket.end(raw));
    });
    servers.push(server);
    return listen(server);
  }

  function pool(port: number, connections = 4, timeoutMs?: number): HttpPool {
    const p = new HttpPool('127.0.0.1', port, connections, timeoutMs);
    pools.push(p);
    return p;
  }

  it('sends the prebuilt request as it is and reuses one connection for the next ones', async () => {
    const { port, sockets } = await httpServer((req, res, body) => {
      res.setHeader('content-type', 'text/plain');
      res.end(`${req.method} ${req.url} ${req.headers['content-type']} ${body.toString('utf8')}`);
    });
    const p = pool(port, 1);
    const url = new URL(`http://127.0.0.1:${port}/xds/iti18?x=1`);
    for (const text of ['é premier', 'second', 'troisième']) {
      const answer = await p.send(prepareRequest(url, 'application/soap+xml; charset=UTF-8', Buffer.from(text, 'utf8')), asText);
      expect(answer.status).to.equal(200);
      expect(answer.text).to.equal(`POST /xds/iti18?x=1 application/soap+xml; charset=UTF-8 ${text}`);
    }
    expect(sockets.size).to.equal(1);
  });

  it('runs as many requests at once as it has connections, and queues the rest', async () => {
    let inFlight = 0;
    let most = 0;
    const { port, sockets } = await httpServer((_req, res) => {
      most = Math.max(most, ++inFlight);
      setTimeout(() => {
        inFlight--;
        res.end('ok');
      }, 5);
    });
    const p = pool(port, 3);
    const request = prepareRequest(new URL(`http://127.0.0.1:${port}/`), 'text/plain', Buffer.from('x'));
    const answers = await Promise.all(Array.from({ length: 20 }, () => p.send(request, asText)));
    expect(answers.map((a) => a.text)).to.deep.equal(Array(20).fill('ok'));
    expect(most).to.equal(3);
    expect(sockets.size).to.equal(3);
  });

  it('reads a body of several megabytes arriving in many chunks', async () => {
    const big = Buffer.alloc(5 * 1024 * 1024 + 7);
    for (let i = 0; i < big.length; i++) big[i] = i % 251;
    const { port } = await httpServer((_req, res) => {
      res.setHeader('content-length', big.length);
      // Written in 64 KB slices, so that the client gets the head and the body in separate, partial reads.
      for (let at = 0; at < big.length; at += 65536) res.write(big.subarray(at, at + 65536));
      res.end();
    });
    const same = await pool(port).send(prepareRequest(new URL(`http://127.0.0.1:${port}/`), 'text/plain', Buffer.alloc(0)), (answer) => answer.body.equals(big));
    expect(same).to.equal(true);
  });

  it('lends each answer only its own bytes when a connection reads a long one, then a short one, then a long one', async () => {
    const sizes = [30_000, 5, 70_000, 1];
    let n = 0;
    const { port } = await httpServer((_req, res) => res.end(String.fromCharCode(97 + n).repeat(sizes[n++]!)));
    const p = pool(port, 1);
    const request = prepareRequest(new URL(`http://127.0.0.1:${port}/`), 'text/plain', Buffer.from('x'));
    for (const [i, size] of sizes.entries()) expect((await p.send(request, asText)).text).to.equal(String.fromCharCode(97 + i).repeat(size));
  });

  it('reads a head that arrives in several pieces', async () => {
    const server = net.createServer((socket) => {
      socket.once('data', () => {
        socket.write('HTTP/1.1 200 OK\r\nContent-Le');
        setTimeout(() => socket.write('ngth: 5\r\n\r'), 20);
        setTimeout(() => socket.write('\nhel'), 40);
        setTimeout(() => socket.write('lo'), 60);
      });
    });
    servers.push(server);
    const port = await listen(server);
    expect(await pool(port).send(prepareRequest(new URL(`http://127.0.0.1:${port}/`), 'text/plain', Buffer.from('x')), asText)).to.deep.equal({ status: 200, text: 'hello' });
  });

  it('rejects the request whose reader throws, and the connection serves the next one', async () => {
    const { port, sockets } = await httpServer((_req, res) => res.end('answer'));
    const p = pool(port, 1);
    const request = prepareRequest(new URL(`http://127.0.0.1:${port}/`), 'text/plain', Buffer.from('x'));
    const err = await rejectionOf(
      p.send(request, () => {
        throw new Error('not what the reader wanted');
      }),
    );
    expect(err.message).to.equal('not what the reader wanted');
    expect((await p.send(request, asText)).text).to.equal('answer');
    expect(sockets.size).to.equal(1);
  });

  it('resolves an error status with its body, and the connection serves the next request', async () => {
    let n = 0;
    const { port, sockets } = await httpServer((_req, res) => {
      const first = n++ === 0;
      if (first) res.statusCode = 500;
      res.end(first ? '<soap:Fault/>' : 'fine');
    });
    const p = pool(port, 1);
    const request = prepareRequest(new URL(`http://127.0.0.1:${port}/`), 'text/plain', Buffer.from('x'));
    expect(await p.send(request, asText)).to.deep.equal({ status: 500, text: '<soap:Fault/>' });
    expect(await p.send(request, asText)).to.deep.equal({ status: 200, text: 'fine' });
    expect(sockets.size).to.equal(1);
  });

  it('rejects an answer in chunks, naming Transfer-Encoding', async () => {
    const { port } = await httpServer((_req, res) => {
      res.write('part one');
      res.end('part two');
    });
    const err = await rejectionOf(pool(port).send(prepareRequest(new URL(`http://127.0.0.1:${port}/`), 'text/plain', Buffer.from('x')), asText));
    expect(err.message).to.match(/Transfer-Encoding 'chunked'/);
  });

  it('rejects an answer without Content-Length', async () => {
    const port = await rawServer('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end');
    const err = await rejectionOf(pool(port).send(prepareRequest(new URL(`http://127.0.0.1:${port}/`), 'text/plain', Buffer.from('x')), asText));
    expect(err.message).to.match(/without Content-Length/);
  });

  it('rejects an answer the server cuts short, and opens a new connection for the next request', async () => {
    let n = 0;
    const server = net.createServer((socket) => {
      const first = n++ === 0;
      socket.on('data', () => {
        if (first) socket.end('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly twenty bytes...');
        else socket.write('HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nwhole');
      });
    });
    servers.push(server);
    const port = await listen(server);
    const p = pool(port, 1);
    const request = prepareRequest(new URL(`http://127.0.0.1:${port}/`), 'text/plain', Buffer.from('x'));
    const err = await rejectionOf(p.send(request, asText));
    expect(err.message).to.equal('connection closed after 20 of 100 body bytes');
    // 'whole' is one byte more than the 4 announced.
    expect((await rejectionOf(p.send(request, asText))).message).to.equal('answer longer than its Content-Length of 4 bytes');
    expect(n).to.equal(2);
  });

  it('drops a connection the server closes while idle, and opens a new one for the next request', async () => {
    let connections = 0;
    const server = net.createServer((socket) => {
      connections++;
      // An answer that says nothing of closing, then the server closes: as a server past its keep-alive timeout does.
      socket.once('data', () => socket.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'));
    });
    servers.push(server);
    const port = await listen(server);
    const p = pool(port, 1);
    const request = prepareRequest(new URL(`http://127.0.0.1:${port}/`), 'text/plain', Buffer.from('x'));
    expect((await p.send(request, asText)).text).to.equal('ok');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await p.send(request, asText)).text).to.equal('ok');
    expect(connections).to.equal(2);
  });

  it('gives up on an answer later than its timeout', async () => {
    const server = net.createServer(() => undefined);
    servers.push(server);
    const port = await listen(server);
    const err = await rejectionOf(pool(port, 1, 50).send(prepareRequest(new URL(`http://127.0.0.1:${port}/`), 'text/plain', Buffer.from('x')), asText));
    expect(err.message).to.equal('no answer within 50 ms');
  });

  it('rejects a request when the server refuses the connection', async () => {
    const server = net.createServer();
    const port = await listen(server);
    await new Promise((resolve) => server.close(resolve));
    const err = await rejectionOf(pool(port).send(prepareRequest(new URL(`http://127.0.0.1:${port}/`), 'text/plain', Buffer.from('x')), asText));
    expect((err as NodeJS.ErrnoException).code).to.equal('ECONNREFUSED');
  });

  it('rejects the requests in flight and waiting when closed, and those sent after', async () => {
    const server = net.createServer(() => undefined);
    servers.push(server);
    const port = await listen(server);
    const p = new HttpPool('127.0.0.1', port, 1);
    const request = prepareRequest(new URL(`http://127.0.0.1:${port}/`), 'text/plain', Buffer.from('x'));
    const inFlight = rejectionOf(p.send(request, asText));
    const waiting = rejectionOf(p.send(request, asText));
    await new Promise((resolve) => setTimeout(resolve, 50));
    p.close();
    expect((await inFlight).message).to.equal('connection closed before the answer');
    expect((await waiting).message).to.equal('the pool is closed');
    expect((await rejectionOf(p.send(request, asText))).message).to.equal('the pool is closed');
  });

  it('reads status, length and connection from a head, and refuses what it cannot read', () => {
    expect(parseHead('HTTP/1.1 200 OK\r\ncontent-length: 12\r\nKeep-Alive: timeout=5')).to.deep.equal({ status: 200, length: 12, close: false });
    expect(parseHead('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close')).to.deep.equal({ status: 503, length: 0, close: true });
    expect(parseHead('HTTP/1.0 200 OK\r\nContent-Length: 3')).to.deep.equal({ status: 200, length: 3, close: true });
    expect(() => parseHead('SSH-2.0-OpenSSH')).to.throw(/not an HTTP\/1.x status line/);
    expect(() => parseHead('HTTP/1.1 200 OK\r\nContent-Length: -1')).to.throw(/invalid Content-Length '-1'/);
    expect(() => parseHead('HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4')).to.throw(/invalid Content-Length '4'/);
    expect(() => parseHead('HTTP/1.1 200 OK\r\nno colon here')).to.throw(/malformed header line/);
  });
});
