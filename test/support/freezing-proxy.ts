import net from 'node:net';

/**
 * A TCP proxy in front of a server that can be frozen: while frozen it keeps every connection open but
 * forwards nothing either way, as a database host that stopped answering without resetting anything.
 */
export interface FreezingProxy {
  /** The target's URL with the proxy's port in place of its own. */
  url: string;
  frozen: boolean;
  close(): Promise<void>;
}

export async function freezingProxy(targetUrl: string): Promise<FreezingProxy> {
  const target = new URL(targetUrl);
  const sockets = new Set<net.Socket>();
  const proxy = { frozen: false };
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port || 5432), target.hostname);
    for (const [from, to] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      sockets.add(from);
      from.on('data', (chunk) => {
        if (!proxy.frozen) to.write(chunk);
      });
      from.on('error', () => to.destroy());
      from.on('close', () => {
        sockets.delete(from);
        to.destroy();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = new URL(targetUrl);
  url.hostname = '127.0.0.1';
  url.port = String((server.address() as net.AddressInfo).port);
  return Object.assign(proxy, {
    url: url.toString(),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
}
