// @ts-check
// Object snapshots as YAML (block style, like `kubectl get -o yaml`), written by the `yaml` npm
// package: its browser build is plain ES modules, served by the query server at /vendor/yaml/ and
// mapped to the bare name `yaml` by the import map in index.html (Node resolves it from node_modules).
// YAML 1.1 quoting, so a reader of either version reads back the same strings ("on", "yes", "1001").
// The package is ~80 modules: imported the first time a YAML view opens, so no page waits for it.

const OPTIONS = { version: '1.1', indentSeq: false, lineWidth: 0, aliasDuplicateObjects: false };
let loading;

/** Any JSON value as a YAML document (ends with a newline). */
export async function toYaml(value) {
  loading ??= import('yaml');
  const YAML = (await loading).default;
  return YAML.stringify(value, OPTIONS);
}

/** A snapshot attribute (JSON text) as YAML; text that is not JSON is shown as it is. */
export async function snapshotToYaml(text) {
  let v;
  try {
    v = JSON.parse(text);
  } catch {
    return text;
  }
  return toYaml(v);
}
