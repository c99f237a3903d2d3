// The CLI needs Node >= 24.2 (import.meta.main, .ts files run directly): package.json says so,
// and an older Node gets a clear message instead of silently doing nothing.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { MIN_NODE, nodeVersionError } from '../../src/cli.ts';

describe('Node.js version', () => {
  it('package.json engines declares the version the CLI needs', () => {
    const pkg = JSON.parse(readFileSync(resolve(import.meta.dirname, '../../package.json'), 'utf8')) as { engines: { node: string } };
    expect(pkg.engines.node).toBe(`>=${MIN_NODE.join('.')}`);
  });

  it('an older Node gets a message naming both versions and the way out', () => {
    for (const v of ['22.18.0', '24.1.9', '23.11.0']) {
      expect(nodeVersionError(v), v).toMatch(
        new RegExp(`needs Node\\.js 24\\.2 or newer, this is Node\\.js ${v.replaceAll('.', '\\.')}: run it with scripts/with-node\\.sh`),
      );
    }
    for (const v of ['24.2.0', '24.21.0', '25.0.0']) expect(nodeVersionError(v), v).toBeUndefined();
  });
});
