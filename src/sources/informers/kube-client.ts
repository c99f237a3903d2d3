// Minimal authenticated GET against the API server, for discovery and paginated lists. The
// kubeconfig (client-node KubeConfig) supplies server URL, TLS and credentials.
import { request as httpsRequest } from 'node:https';
import { request as httpRequest, type RequestOptions } from 'node:http';
import { KubeConfig } from '@kubernetes/client-node';
import { HttpError } from '../../core/http-error.ts';

export interface KubeTarget {
  kubeconfig?: string;
  context?: string;
}

/** Loads the kubeconfig like kubectl: --kubeconfig, else KUBECONFIG, else ~/.kube/config, else in-cluster. */
export function loadKubeConfig(t: KubeTarget): KubeConfig {
  const kc = new KubeConfig();
  if (t.kubeconfig) kc.loadFromFile(t.kubeconfig);
  else kc.loadFromDefault();
  if (t.context) kc.setCurrentContext(t.context);
  if (!kc.getCurrentCluster()) throw new Error('no cluster in the kubeconfig (use --kubeconfig/--context)');
  return kc;
}

export async function kubeGet<T>(kc: KubeConfig, path: string, timeoutMs = 60_000): Promise<T> {
  const server = kc.getCurrentCluster()!.server;
  const url = new URL(path, server.endsWith('/') ? server : `${server}/`);
  const opts: RequestOptions & { headers: Record<string, string> } = { method: 'GET', headers: { accept: 'application/json' } };
  await kc.applyToHTTPSOptions(opts);
  const send = url.protocol === 'http:' ? httpRequest : httpsRequest;
  return new Promise<T>((resolve, reject) => {
    const req = send(url, { ...opts, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        if ((res.statusCode ?? 0) >= 300) {
          reject(new HttpError(res.statusCode ?? 0, `GET ${url.pathname}: HTTP ${res.statusCode} ${body.slice(0, 200)}`));
          return;
        }
        try {
          resolve(JSON.parse(body) as T);
        } catch (e) {
          reject(new Error(`GET ${url.pathname}: invalid JSON: ${(e as Error).message}`));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url.pathname}: timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}
