// What test/setup/stack.ts hands to every integration test through `inject('stack')`.
export interface StackInfo {
  /** kubeconfig of the KWOK cluster (admin client certificate, system:masters). */
  kubeconfig: string;
  /** The cluster's audit log, JSON lines, one audit.k8s.io/v1 Event per line (written by kube-apiserver). */
  auditLogPath: string;
  /** Loopback port kube-apiserver POSTs audit EventLists to. Nobody listens until a test does. */
  webhookPort: number;
  /** Path of the audit webhook URL, `/audit/<clusterName>`. */
  webhookPath: string;
  /** kwokctl cluster name; also the name kubetrail should use for this cluster. */
  clusterName: string;
  /** Jaeger query HTTP API base URL, e.g. http://127.0.0.1:41234 (GET /api/traces/<id>). */
  jaegerQueryUrl: string;
  /** OTLP gRPC endpoint of Jaeger, e.g. http://127.0.0.1:41235. */
  otlpGrpcEndpoint: string;
  /** OTLP HTTP endpoint of Jaeger (POST <url>/v1/traces). */
  otlpHttpEndpoint: string;
  /** Kafka bootstrap broker, host:port. */
  kafkaBroker: string;
  /** Headless-capable Chromium from the OS (CHROMIUM_PATH or /usr/bin/chromium), null when none. */
  chromiumPath: string | null;
  /** kubectl binary the stack uses (a client matching the server's minor version when available). */
  kubectlPath: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    stack: StackInfo;
  }
}
