// Kubernetes Events of the same second keep their causal order: core/v1 timestamps have whole
// seconds, so the Event's eventTime microseconds or its resourceVersion break the tie.
import { describe, expect, it } from 'vitest';
import { Pipeline } from '../../src/pipeline/pipeline.ts';
import type { SpanRecord } from '../../src/core/model.ts';
import { eventSpanId } from '../../src/core/ids.ts';

const C = 'kwok';
const event = (reason: string, rv: string, extra: Record<string, unknown> = {}) => ({
  kind: 'Event',
  apiVersion: 'v1',
  metadata: { name: `web-1.${reason}`, namespace: 'default', uid: `uid-${reason}`, resourceVersion: rv },
  involvedObject: { kind: 'Pod', apiVersion: 'v1', namespace: 'default', name: 'web-1' },
  reason,
  message: reason,
  type: 'Normal',
  count: 1,
  source: { component: 'kubelet' },
  firstTimestamp: '2026-03-01T10:00:05Z',
  lastTimestamp: '2026-03-01T10:00:05Z',
  eventTime: null,
  ...extra,
});
const startOf = (spans: SpanRecord[]) => spans.find((s) => s.kind === 'event')!.startUs;
const SECOND = Date.parse('2026-03-01T10:00:05Z') * 1000;

describe('Kubernetes Events in the same second', () => {
  it('are ordered by resourceVersion, whichever arrives first, and stay in their second', () => {
    const p = new Pipeline();
    const pulled = startOf(p.kubeEvent(event('Pulled', '100201'), C).spans);
    const scheduled = startOf(p.kubeEvent(event('Scheduled', '100199'), C).spans);
    const started = startOf(p.kubeEvent(event('Started', '100230'), C).spans);
    expect(scheduled).toBeLessThan(pulled);
    expect(pulled).toBeLessThan(started);
    for (const t of [scheduled, pulled, started]) expect(Math.floor(t / 1e6) * 1e6).toBe(SECOND);
  });

  it('use the eventTime microseconds when they fall in that second; MicroTime stays as it is', () => {
    const p = new Pipeline();
    const a = startOf(p.kubeEvent(event('A', '900', { eventTime: '2026-03-01T10:00:05.700000Z' }), C).spans);
    const b = startOf(p.kubeEvent(event('B', '100', { eventTime: '2026-03-01T10:00:05.800000Z' }), C).spans);
    expect(a).toBe(SECOND + 700_000);
    expect(b).toBe(SECOND + 800_000);
    const micro = { apiVersion: 'events.k8s.io/v1', lastTimestamp: undefined, series: { count: 2, lastObservedTime: '2026-03-01T10:00:05.000000Z' } };
    expect(startOf(p.kubeEvent(event('C', '555', micro), C).spans)).toBe(SECOND);
  });
});

describe('span durations', () => {
  it('are never zero: an Event, a watch change and an instant audit event last at least 1 µs; IDs unchanged', () => {
    const p = new Pipeline();
    p.setListWatchOnly('lw', true);
    const spans = [
      ...p.kubeEvent(event('Instant', '7'), C).spans,
      ...p.watchChange(
        {
          type: 'ADDED',
          object: {
            apiVersion: 'v1',
            kind: 'ConfigMap',
            metadata: { name: 'c', namespace: 'default', uid: 'u', resourceVersion: '3', creationTimestamp: '2026-03-01T10:00:05Z' },
          },
          group: '',
          version: 'v1',
          resource: 'configmaps',
        },
        'lw',
      ).spans,
    ];
    for (const s of spans) expect(s.endUs - s.startUs).toBeGreaterThanOrEqual(1);
    expect(spans.find((s) => s.kind === 'event')!.spanId).toBe(eventSpanId('event/uid-Instant/1', 'kwok//pods/default/web-1'));
  });
});
