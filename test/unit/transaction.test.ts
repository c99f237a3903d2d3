// The pipeline's state commits on acknowledgement (src/pipeline/transaction.ts): events of one
// transaction see each other, nothing reaches the pipeline before commit(), a rollback forgets.
import { describe, expect, it } from 'vitest';
import { Pipeline } from '../../src/pipeline/pipeline.ts';
import { Attr } from '../../src/core/model.ts';
import type { SpanRecord } from '../../src/core/model.ts';
import { deploymentEvents } from './webhook.fixtures.ts';

const C = 'kwok';
const ev = (spans: SpanRecord[]) => spans.find((s) => s.kind === 'event')!;
const diffLines = (spans: SpanRecord[]) => String(ev(spans).attributes[Attr.diff]).split('\n');

describe('pipeline transactions', () => {
  it('later events of a transaction see the versions of earlier ones; other transactions do not until commit', () => {
    const p = new Pipeline();
    const [create, update] = deploymentEvents('tx');
    const tx = p.begin();
    const created = tx.auditEvent(create, C).spans;
    expect(created.some((s) => s.kind === 'object')).toBe(true);
    expect(diffLines(tx.auditEvent(update, C).spans)).toContain('spec.replicas 2 -> 4');
    // another transaction sees only the committed state: no version, no emitted object span
    const other = p.begin().auditEvent(update, C).spans;
    expect(ev(other).attributes[Attr.diff]).toBeUndefined();
    expect(other.some((s) => s.kind === 'object')).toBe(true);
    tx.commit();
    expect(tx.staged).toBe(0);
    const after = p.begin().auditEvent(update, C).spans;
    expect(after.some((s) => s.kind === 'object')).toBe(false);
  });

  it('a rolled back transaction leaves the pipeline as it was: the retry is traced as the first attempt', () => {
    const p = new Pipeline();
    const [create, update] = deploymentEvents('rb');
    p.auditEvent(create, C);
    const first = p.begin();
    const a = first.auditEvent(update, C).spans;
    first.rollback();
    const b = p.begin().auditEvent(update, C).spans;
    expect(b.map((s) => s.spanId)).toEqual(a.map((s) => s.spanId));
    expect(diffLines(b)).toContain('spec.replicas 2 -> 4');
  });

  it('commits up to a mark, in steps (replay and informers write in batches)', () => {
    const p = new Pipeline();
    const [create, update] = deploymentEvents('marks');
    const tx = p.begin();
    tx.auditEvent(create, C);
    const m = tx.mark();
    tx.auditEvent(update, C);
    tx.commit(m);
    expect(tx.staged).toBeGreaterThan(0);
    // committed: the create (version 2); staged: the update (version 4)
    expect(diffLines(p.begin().auditEvent(update, C).spans)).toContain('spec.replicas 2 -> 4');
    tx.commit();
    expect(tx.staged).toBe(0);
  });

  it('two transactions committing the same object merge their versions', () => {
    const p = new Pipeline();
    const [create, update] = deploymentEvents('merge');
    const a = p.begin();
    const b = p.begin();
    a.auditEvent(create, C);
    b.watchChange({ type: 'MODIFIED', object: update.responseObject, group: 'apps', version: 'v1', resource: 'deployments' }, C);
    b.commit();
    a.commit();
    // the audit update finds both: the create (its previous version) and the watch's copy of itself
    expect(diffLines(p.begin().auditEvent(update, C).spans)).toContain('spec.replicas 2 -> 4');
  });
});
