// Diffs are also stored as data (`diff.entries`: [{path, old?, new?}]) beside the readable lines,
// so a value containing ` -> ` reads back unambiguously.
import { describe, expect, it } from 'vitest';
import { diffEntriesJson, diffObjects } from '../../src/decorate/diff.ts';
import { Pipeline } from '../../src/pipeline/pipeline.ts';
import { Attr } from '../../src/core/model.ts';
import { deploymentEvents } from './webhook.fixtures.ts';

describe('structured diff entries', () => {
  it('carry path, old and new as JSON values; a missing side means the path did not exist', () => {
    const d = diffObjects(
      { note: 'a -> b', spec: { replicas: 2 }, metadata: { labels: { gone: 'x' }, resourceVersion: '1' } },
      { note: 'c', spec: { replicas: 4 }, metadata: { labels: { tier: 'web' }, resourceVersion: '2' } },
    );
    expect(d.lines).toContain('note "a -> b" -> "c"');
    expect(JSON.parse(diffEntriesJson(d.entries))).toEqual([
      { path: 'note', old: 'a -> b', new: 'c' },
      { path: 'spec.replicas', old: 2, new: 4 },
      { path: 'metadata.labels.gone', old: 'x' },
      { path: 'metadata.labels.tier', new: 'web' },
    ]);
    // verbose lines (resourceVersion) are not entries; entries follow the lines one to one
    expect(d.entries).toHaveLength(d.lines.length);
  });

  it('an update span carries diff.entries beside the unchanged diff text', () => {
    const p = new Pipeline();
    const [create, update] = deploymentEvents('entries');
    p.auditEvent(create, 'kwok');
    const ev = p.auditEvent(update, 'kwok').spans.find((s) => s.kind === 'event')!;
    expect(ev.attributes[Attr.diff]).toBe('spec.replicas 2 -> 4');
    expect(JSON.parse(String(ev.attributes[Attr.diffEntries]))).toEqual([{ path: 'spec.replicas', old: 2, new: 4 }]);
  });
});
