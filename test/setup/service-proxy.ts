// What a Kubernetes Service does for the audit webhook of receivers, for tests on loopback (KWOK
// has no kube-proxy): one address, each new TCP connection to the next backend in turn. A backend
// that is gone refuses the connection, which is closed towards the client, as a dead endpoint
// does before the Service drops it; the client's retry reaches the next one.
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export interface ServiceProxy {
  /** Connections handed to each backend port so far. */
  connections: Map<number, number>;
  close(): Promise<void>;
}

export async function startServiceProxy(port: number, backends: readonly number[], host = '127.0.0.1'): Promise<ServiceProxy> {
  const connections = new Map<number, number>(backends.map((b) => [b, 0]));
  const open = new Set<Socket>();
  let next = 0;
  const server: Server = createServer((client) => {
    const target = backends[next++ % backends.length]!;
    connections.set(target, connections.get(target)! + 1);
    const upstream = createConnection({ port: target, host });
    for (const s of [client, upstream]) {
      open.add(s);
      s.on('close', () => open.delete(s));
      s.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
    upstream.on('close', () => client.destroy());
    client.on('close', () => upstream.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
}
