// The engine that commits (src/pipeline/engine.ts), as the Kafka tracer and the informers use it:
// a full sink is waited for and a failed write retried until durable, and only then does the
// pipeline's state take the batch; a batch given up (its partition revoked) is rolled back, so
// whoever traces it next traces it as the first attempt did. Real pipeline; the sink is a list.
import { describe, expect, it } from 'vitest';
import { Pipeline } from '../../src/pipeline/pipeline.ts';
import { CommitEngine } from '../../src/pipeline/engine.ts';
import { Attr, type SpanRecord } from '../../src/core/model.ts';
import { SinkFullError } from '../../src/core/sink.ts';
import { deploymentEvents } from './webhook.fixtures.ts';

/** A sink that stores into a list, answering the first writes with the given errors. */
function listSink(errors: Error[] = []) {
  const stored: SpanRecord[] = [];
  let room: (() => void) | undefined;
  return {
    stored,
    writes: 0,
    write(spans: SpanRecord[]) {
      this.writes++;
      const err = errors.shift();
      if (err) return Promise.reject(err);
      stored.push(...spans);
      return Promise.resolve();
    },
    full: () => false,
    pending: () => 0,
    writable: () => new Promise<void>((r) => (room = r)),
    makeRoom: () => room?.(),
  };
}

const retry = { whenFull: 'wait' as const, retry: { initialMs: 1, maxMs: 5 } };

describe('the engine that commits', () => {
  it('retries a failed write until durable, then commits: the next batch diffs from it', async () => {
    const pipeline = new Pipeline();
    const sink = listSink([new Error('collector unavailable'), new Error('collector unavailable')]);
    const engine = new CommitEngine(sink, retry);
    const [create, update] = deploymentEvents('retried');
    const first = await engine.batch(pipeline.begin(), (b) => b.trace((tx) => tx.auditEvent(create, 'kwok')));
    expect(first.refused).toBeUndefined();
    expect(sink.writes).toBe(3);
    await engine.batch(pipeline.begin(), (b) => b.trace((tx) => tx.auditEvent(update, 'kwok')));
    const upd = sink.stored.find((s) => s.kind === 'event' && s.name === 'update')!;
    expect(String(upd.attributes[Attr.diff]).split('\n')).toContain('spec.replicas 2 -> 4');
  });

  it('waits for a full sink instead of refusing, and writes the batch once it has room', async () => {
    const sink = listSink([new SinkFullError()]);
    const engine = new CommitEngine(sink, retry);
    const answer = engine.batch(new Pipeline().begin(), (b) => b.trace((tx) => tx.auditEvent(deploymentEvents('waited')[0], 'kwok')));
    await new Promise((r) => setTimeout(r, 20));
    expect(sink.stored).toHaveLength(0);
    sink.makeRoom();
    expect((await answer).refused).toBeUndefined();
    expect(sink.stored.filter((s) => s.kind === 'event')).toHaveLength(1);
  });

  it('rolls back a batch given up while the sink failed: traced again, it emits the same spans', async () => {
    const pipeline = new Pipeline();
    const sink = listSink([new Error('collector unavailable')]);
    const engine = new CommitEngine(sink, retry);
    const [create] = deploymentEvents('revoked');
    let alive = true;
    const given = await engine.batch(pipeline.begin(), (b) => b.trace((tx) => tx.auditEvent(create, 'kwok')), {
      alive: () => alive,
      between: async () => {
        alive = false; // the partition was revoked meanwhile
      },
    });
    expect(given.refused?.reason).toBe('abandoned');
    expect(sink.stored).toHaveLength(0);
    const again = await engine.batch(pipeline.begin(), (b) => b.trace((tx) => tx.auditEvent(create, 'kwok')));
    expect(again.refused).toBeUndefined();
    expect(again.records.map((s) => s.spanId).sort()).toEqual(given.records.map((s) => s.spanId).sort());
    expect(again.records.some((s) => s.kind === 'object')).toBe(true);
  });

  it('reports an input the pipeline threw on and traces the rest of the batch', async () => {
    const sink = listSink();
    const engine = new CommitEngine(sink, retry);
    const [create, update] = deploymentEvents('partly');
    const { value, refused } = await engine.batch(new Pipeline().begin(), (b) => [
      b.trace((tx) => tx.auditEvent(create, 'kwok')),
      b.trace(() => {
        throw new Error('boom');
      }),
      b.trace((tx) => tx.auditEvent(update, 'kwok')),
    ]);
    expect(refused).toBeUndefined();
    expect(value[1]).toMatchObject({ error: 'pipeline error: boom', spans: [] });
    expect(sink.stored.filter((s) => s.kind === 'event').map((s) => s.name)).toEqual(['create', 'update']);
  });
});
