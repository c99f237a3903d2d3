import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync, appendFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { classifyItem, readAuditLogs } from '../../src/sources/audit-log.ts';
import type { LogItem } from '../../src/sources/audit-log.ts';
import { Pipeline } from '../../src/pipeline/pipeline.ts';
import { FIXTURES, fx } from './audit-fixtures.ts';
import { tempDir } from '../helpers/fixtures.ts';

async function collect(it: AsyncIterable<LogItem>): Promise<LogItem[]> {
  const out: LogItem[] = [];
  for await (const x of it) out.push(x);
  return out;
}

const tmp = () => tempDir('kubetrail-read-log-').path;
const line = (auditID: string, stage: string) =>
  JSON.stringify({ kind: 'Event', apiVersion: 'audit.k8s.io/v1', auditID, stage: 'ResponseComplete', verb: 'get', stageTimestamp: stage }) + '\n';
const ids = (items: LogItem[]) => items.map((i) => (i.event as any)?.auditID ?? `error@${i.line}`);

describe('readAuditLogs', () => {
  it('reads a JSON-lines log; a bad line is reported with file and line and the next is still traced', async () => {
    const file = `${FIXTURES}rollout.log`;
    let bytes = 0;
    const items = await collect(readAuditLogs([file], { onBytes: (n) => (bytes += n) }));
    const errors = items.filter((i) => i.error);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ file, line: 5 });
    expect(items.filter((i) => i.event)).toHaveLength(16);
    expect(bytes).toBe(readFileSync(file).length);
    const p = new Pipeline();
    let spans = 0;
    for (const i of items) if (i.event && classifyItem(i.event) === 'audit') spans += p.auditEvent(i.event, 'kwok').spans.length;
    expect(spans).toBeGreaterThan(16);
  });

  it('merges rotated files (given in any order, one gzipped) by stageTimestamp', async () => {
    const d = tmp();
    writeFileSync(join(d, 'audit-1.log.gz'), gzipSync(line('a', '2025-06-01T10:00:00.000001Z') + line('c', '2025-06-01T10:00:02Z')));
    writeFileSync(join(d, 'audit.log'), line('b', '2025-06-01T10:00:01Z') + line('d', '2025-06-01T10:00:03Z') + line('e', '2025-06-01T10:00:03.5Z'));
    const items = await collect(readAuditLogs([join(d, 'audit.log'), join(d, 'audit-1.log.gz')]));
    expect(ids(items)).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('reads whole documents: a pretty-printed audit EventList and a core EventList, classified for routing', async () => {
    const d = tmp();
    const audit = {
      kind: 'EventList',
      apiVersion: 'audit.k8s.io/v1',
      metadata: {},
      items: [fx('deployment-create-kubectl'), fx('pod-create-generatename')].map(({ kind: _k, apiVersion: _a, ...rest }) => rest),
    };
    writeFileSync(join(d, 'list.json'), JSON.stringify(audit, null, 2));
    const core = {
      kind: 'List',
      apiVersion: 'v1',
      items: [
        {
          kind: 'Event',
          apiVersion: 'v1',
          metadata: { uid: 'u' },
          involvedObject: { kind: 'Pod', name: 'p', namespace: 'd' },
          reason: 'Pulled',
          lastTimestamp: '2025-06-01T10:00:00Z',
        },
      ],
    };
    writeFileSync(join(d, 'events.json'), JSON.stringify(core, null, 2));
    const items = await collect(readAuditLogs([join(d, 'list.json'), join(d, 'events.json')]));
    expect(items.filter((i) => i.error)).toEqual([]);
    expect(items.map((i) => classifyItem(i.event)).sort()).toEqual(['audit', 'audit', 'kube-event']);
    expect(classifyItem({ kind: 'Pod' })).toBe('unknown');
  });

  it('puts the records of a JSON document oldest first whatever its layout: one line, an array opened on its first record, a byte order mark', async () => {
    const d = tmp();
    const newestFirst = [line('c', '2025-06-01T10:00:02Z'), line('a', '2025-06-01T10:00:00Z'), line('b', '2025-06-01T10:00:01Z')].map((l) => l.trim());
    const layouts = {
      'one-line.json': `[${newestFirst.join(',')}]\n`,
      'list-one-line.json': `${JSON.stringify({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', items: newestFirst.map((l) => JSON.parse(l)) })}\n`,
      'opened-on-first.json': `[${newestFirst.join(',\n')}]\n`,
      'bom.json': `\uFEFF[\n${newestFirst.join(',\n')}\n]\n`,
    };
    for (const [name, text] of Object.entries(layouts)) {
      writeFileSync(join(d, name), text);
      expect(ids(await collect(readAuditLogs([join(d, name)]))), name).toEqual(['a', 'b', 'c']);
    }
    // JSON lines keep their file order, and a BOM does not spoil the first one
    writeFileSync(join(d, 'lines.log'), `\uFEFF${newestFirst.join('\n')}\n`);
    expect(ids(await collect(readAuditLogs([join(d, 'lines.log')])))).toEqual(['c', 'a', 'b']);
  });

  it('a missing file is an error item, the other files are still read', async () => {
    const d = tmp();
    writeFileSync(join(d, 'a.log'), line('a', '2025-06-01T10:00:00Z'));
    const items = await collect(readAuditLogs([join(d, 'missing.log'), join(d, 'a.log')]));
    expect(items.some((i) => i.error?.includes('missing.log'))).toBe(true);
    expect(ids(items)).toContain('a');
  });

  it('follow: tails the newest file across rotation until aborted', async () => {
    const d = tmp();
    const f = join(d, 'audit.log');
    writeFileSync(f, line('a', '2025-06-01T10:00:00Z'));
    const abort = new AbortController();
    const seen: string[] = [];
    const done = (async () => {
      for await (const i of readAuditLogs([f], { follow: true, signal: abort.signal, pollMs: 20 })) {
        seen.push((i.event as any)?.auditID ?? 'error');
        if (seen.length === 1) appendFileSync(f, line('b', '2025-06-01T10:00:01Z'));
        if (seen.length === 2) {
          renameSync(f, join(d, 'audit-1.log'));
          writeFileSync(f, line('c', '2025-06-01T10:00:02Z'));
        }
        if (seen.length === 3) abort.abort();
      }
    })();
    await done;
    expect(seen).toEqual(['a', 'b', 'c']);
  });

  it('follow: a truncated file (copytruncate rotation) is read again from its start', async () => {
    const d = tmp();
    const f = join(d, 'audit.log');
    writeFileSync(f, line('a', '2025-06-01T10:00:00Z') + line('b', '2025-06-01T10:00:01Z'));
    const abort = new AbortController();
    const seen: string[] = [];
    for await (const i of readAuditLogs([f], { follow: true, signal: abort.signal, pollMs: 20 })) {
      seen.push((i.event as any)?.auditID ?? 'error');
      if (seen.length === 2) writeFileSync(f, line('c', '2025-06-01T10:00:02Z'));
      if (seen.length === 3) abort.abort();
    }
    expect(seen).toEqual(['a', 'b', 'c']);
  });
});
