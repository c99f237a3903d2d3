// Names compared across two runs: a namespace without the side's prefix, and a name whose
// generated parts (a ReplicaSet's pod-template hash, the 5 random characters of generateName) read
// `*`, as Kubernetes makes them from an alphabet without vowels (k8s.io/apimachinery rand).
const RAND = '[bcdfghjklmnpqrstvwxz2456789]';
const SUFFIX = new RegExp(`-${RAND}{5}$`);
const HASH = new RegExp(`-${RAND}{6,10}$`);

export const unprefixed = (namespace: string, prefix: string): string => (prefix && namespace.startsWith(prefix) ? namespace.slice(prefix.length) : namespace);

/** `web-5d8f7c9b4-x2k9z` → `web-*-*`, `job-x7qz2` → `job-*`, `web-5d8f7c9b4` → `web-*`; other names as they are. */
export function normalName(name: string): string {
  let n = name;
  let tail = '';
  if (SUFFIX.test(n)) {
    n = n.replace(SUFFIX, '');
    tail = '-*';
  }
  if (HASH.test(n) && /\d/.test(n.slice(n.lastIndexOf('-')))) {
    n = n.replace(HASH, '');
    tail = `-*${tail}`;
  }
  return `${n}${tail}`;
}
