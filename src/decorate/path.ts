// Diff/redaction paths: `spec.replicas`, `metadata.labels["app.kubernetes.io/name"]`,
// `spec.template.spec.containers[name=web].image`, `spec.ports[0]`.

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

export function keySegment(parent: string, key: string): string {
  if (IDENT.test(key)) return parent === '' ? key : `${parent}.${key}`;
  return `${parent}[${JSON.stringify(key)}]`;
}
