// The Kafka message format (src/sources/kafka/messages.ts) and the pipeline's warm mode.
import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage, messageKey } from '../../src/sources/kafka/messages.ts';
import { auditObjectKey } from '../../src/normalize/audit-event.ts';
import { Pipeline } from '../../src/pipeline/pipeline.ts';
import { auditStream } from '../setup/audit-stream.ts';

describe('Kafka messages', () => {
  const [create, , update] = auditStream({ objects: 2, updates: 1, namespace: 'unit' });

  it('keys an audit event by the object key the pipeline traces it under', () => {
    const key = messageKey({ v: 1, cluster: 'c1', kind: 'audit', item: create });
    expect(key).toBe('c1//configmaps/unit/cm-0');
    expect(key).toBe(auditObjectKey(create, 'c1'));
    expect(messageKey({ v: 1, cluster: 'c1', kind: 'audit', item: update })).toBe(key);
  });

  it('keys a watch change like the audit events of its object', () => {
    const key = messageKey({
      v: 1,
      cluster: 'c1',
      kind: 'watch',
      item: { type: 'MODIFIED', group: '', version: 'v1', resource: 'configmaps', object: create!.responseObject },
    });
    expect(key).toBe('c1//configmaps/unit/cm-0');
    const node = messageKey({
      v: 1,
      cluster: 'c1',
      kind: 'watch',
      item: { type: 'ADDED', group: '', version: 'v1', resource: 'nodes', object: { metadata: { name: 'n1', namespace: 'x' } } },
    });
    expect(node).toBe('c1//nodes//n1');
  });

  it('round-trips, carrying cluster and kind', () => {
    const { key, value } = encodeMessage({ v: 1, cluster: 'c1', kind: 'audit', item: create });
    expect(key).toBe('c1//configmaps/unit/cm-0');
    expect(decodeMessage(Buffer.from(value))).toEqual({ v: 1, cluster: 'c1', kind: 'audit', item: create });
  });

  it('names what is wrong with a message that is not ours', () => {
    expect(decodeMessage(Buffer.from('nope'))).toEqual({ error: expect.stringMatching(/not JSON/) });
    expect(decodeMessage(null)).toEqual({ error: 'empty message' });
    expect(decodeMessage('[1]')).toEqual({ error: 'message is not a JSON object' });
    expect(decodeMessage('{"v":2}')).toEqual({ error: expect.stringMatching(/version/) });
    expect(decodeMessage('{"v":1,"cluster":"../x","kind":"audit","item":{}}')).toEqual({ error: 'message has no valid cluster' });
    expect(decodeMessage('{"v":1,"cluster":"c","kind":"log","item":{}}')).toEqual({ error: expect.stringMatching(/kind/) });
    expect(decodeMessage('{"v":1,"cluster":"c","kind":"audit","item":"x"}')).toEqual({ error: 'message item is not an object' });
  });
});

describe('Pipeline.warm', () => {
  it('rebuilds the state without emitting: the next update still has its diff', () => {
    const events = auditStream({ objects: 1, updates: 2, namespace: 'warm' });
    const p = new Pipeline();
    const warmed = p.warm((tx) => tx.auditEvent(events[0], 'c1'));
    expect(warmed).toEqual({});
    const r = p.auditEvent(events[1], 'c1');
    const ev = r.spans.find((s) => s.kind === 'event');
    expect(ev?.attributes.diff).toBe('data.v "0" -> "1"');
    // the object span was marked emitted by the warm-up (its previous owner wrote it)
    expect(r.spans.some((s) => s.kind === 'object')).toBe(false);
    const cold = new Pipeline().auditEvent(events[1], 'c1');
    expect(cold.spans.find((s) => s.kind === 'event')?.attributes.diff).toBeUndefined();
  });

  it('reports what it could not ingest', () => {
    expect(new Pipeline().warm((tx) => tx.auditEvent('not an event', 'c1')).error).toBeTruthy();
  });
});
