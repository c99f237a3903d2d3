// Files the Helm chart ships that have a twin elsewhere in the repository stay equal to it.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const ROOT = resolve(import.meta.dirname, '../..');
const yaml = (p: string) => parse(readFileSync(join(ROOT, p), 'utf8'));

describe('deploy/helm/kubetrail/files', () => {
  it('the audit policy NOTES.txt prints has the rules of the tested KWOK cluster policy', () => {
    expect(yaml('deploy/helm/kubetrail/files/audit-policy.yaml')).toEqual(yaml('deploy/kwok/audit-policy.yaml'));
  });
});
