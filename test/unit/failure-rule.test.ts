// One failure rule on the read side: what the trace view marks as an error (the `error` tag the
// Jaeger UIs draw red, `error=true` search) is what the diagnosis counts as a failed request, for
// every shape a stored request can have — a code outside 2xx with or without a message, a message
// without a code, a success, a Kubernetes Event.
import { describe, expect, it } from 'vitest';
import { assemble } from '../../frontend-plugin/assemble.ts';
import { isFailed as diagnosisFailed, isWrite } from '../../src/core/failed.ts';
import { transforms } from '../../frontend-plugin/modes/index.ts';
import { Attr, objectKey } from '../../src/core/model.ts';
import { MemoryBackend } from '../helpers/memory-backend.ts';
import { ref, SyntheticTraces } from '../helpers/synthetic-backend.ts';

const WINDOW_SEC = 1800;
const WS = 944_444 * WINDOW_SEC;
const cm = ref('configmaps', 'default', 'settings');

function requests(): { t: SyntheticTraces; byName: Record<string, string> } {
  const t = new SyntheticTraces(WINDOW_SEC);
  const byName: Record<string, string> = {};
  const add = (name: string, sec: number, attributes: Record<string, string | number>, error?: string): void => {
    byName[name] = t.event(cm, (WS + sec) * 1e6, `ev-${name}`, name, { [Attr.user]: 'admin', ...attributes }, error).spanId;
  };
  add('created', 1, { [Attr.source]: 'audit', [Attr.verb]: 'create', [Attr.code]: 201 });
  add('redirected', 2, { [Attr.source]: 'audit', [Attr.verb]: 'patch', [Attr.code]: 307 });
  add('refused', 3, { [Attr.source]: 'audit', [Attr.verb]: 'patch', [Attr.code]: 403 }, 'Forbidden: no');
  add('message only', 4, { [Attr.source]: 'audit', [Attr.verb]: 'update' }, 'Timeout: the webhook did not answer');
  add('reported', 5, { [Attr.source]: 'event', [Attr.eventReason]: 'Failed', [Attr.eventType]: 'Warning' });
  return { t, byName };
}

describe('what failed', () => {
  it('the trace view marks as an error exactly the requests the diagnosis counts as failed', async () => {
    const { t, byName } = requests();
    const backend = new MemoryBackend();
    backend.add(t.spans);
    const tree = transforms.tree(
      await assemble({ backend, key: objectKey(cm), windows: [WS], windowSec: WINDOW_SEC, scope: 'default' }),
      `ff21000000${'0'.repeat(22)}`,
    );
    const shown = new Map(tree.spans.map((s) => [s.spanId, s.tags.some((x) => x.key === 'error' && x.value === true)]));
    const spans = new Map(t.spans.map((s) => [s.spanId, s]));
    const verdicts = Object.fromEntries(
      Object.entries(byName).map(([name, id]) => [
        name,
        { shownAsError: shown.get(id), failed: diagnosisFailed(spans.get(id)!), write: isWrite(spans.get(id)!) },
      ]),
    );
    expect(verdicts).toEqual({
      created: { shownAsError: false, failed: false, write: true },
      redirected: { shownAsError: true, failed: true, write: false },
      refused: { shownAsError: true, failed: true, write: false },
      'message only': { shownAsError: true, failed: true, write: false },
      reported: { shownAsError: false, failed: false, write: false },
    });
  });
});
