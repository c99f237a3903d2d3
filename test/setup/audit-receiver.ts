// A bare audit webhook receiver for tests that need to see what kube-apiserver sends
// (kubetrail's own webhook lives in src/). Accepts POSTs of audit.k8s.io/v1 EventLists.
import { createServer, type Server } from 'node:http';

export interface ReceivedEventList {
  path: string;
  contentType: string | undefined;
  body: { kind: string; apiVersion: string; items: any[] };
}

export interface AuditReceiver {
  /** Every EventList received, in order. */
  lists: ReceivedEventList[];
  /** All events of all lists, flattened. */
  events(): any[];
  close(): Promise<void>;
}

export async function startAuditReceiver(port: number, host = '127.0.0.1'): Promise<AuditReceiver> {
  const lists: ReceivedEventList[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        // kube-apiserver appends ?timeout=30s to the configured URL
        lists.push({ path: (req.url ?? '').split('?')[0], contentType: req.headers['content-type'], body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
        res.writeHead(200).end();
      } catch {
        res.writeHead(400).end('not JSON');
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    lists,
    events: () => lists.flatMap((l) => l.body.items ?? []),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
