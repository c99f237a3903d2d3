// `npm test` checks what it needs besides npm (Go, Java, Maven, Chromium or root for apt) before
// building anything, with one message per missing tool.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const SCRIPT = resolve(import.meta.dirname, '../../scripts/check-prereqs.sh');

/** A PATH holding only the basic tools the script itself uses. */
function barePath(): string {
  const bin = mkdtempSync(join(tmpdir(), 'kt-bare-bin-'));
  for (const tool of ['dirname', 'sed', 'id']) {
    const found = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
    symlinkSync(found, join(bin, tool));
  }
  return bin;
}

describe('scripts/check-prereqs.sh', () => {
  it('names every missing tool once and what it is for, and fails', () => {
    const stack = mkdtempSync(join(tmpdir(), 'kt-empty-stack-'));
    mkdirSync(join(stack, 'bin'));
    const r = spawnSync('/bin/sh', [SCRIPT], { encoding: 'utf8', env: { PATH: barePath(), HOME: stack, STACK_DIR: stack } });
    expect(r.status).toBe(1);
    const lines = r.stderr.split('\n').filter((l) => l.includes('missing prerequisite'));
    for (const [tool, why] of [
      ['go', /Kubernetes control plane, etcd, kwok and Jaeger/],
      ['java', /Kafka/],
      ['mvn', /Maven Central/],
    ] as const) {
      const mine = lines.filter((l) => l.includes(`missing prerequisite: ${tool} `));
      expect(mine, tool).toHaveLength(1);
      expect(mine[0]).toMatch(why);
    }
    expect(r.stderr).toMatch(/prerequisite\(s\) missing/);
  });

  it('passes on this machine, where the stack is built', () => {
    const r = spawnSync('/bin/sh', [SCRIPT], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
