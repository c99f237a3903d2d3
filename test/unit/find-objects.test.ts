// The shared findObjects filter and grouping of the Jaeger and in-memory backends.
import { describe, expect, it } from 'vitest';
import { MemoryBackend } from '../helpers/memory-backend.ts';
import { ref, SyntheticTraces } from '../helpers/synthetic-backend.ts';

describe('findObjects over object spans', () => {
  const t = new SyntheticTraces(1800);
  const web = ref('deployments', 'default', 'web', 'apps', 'c1');
  const api = ref('deployments', 'default', 'api', 'apps', 'c1');
  const pod = ref('pods', 'default', 'web-1', '', 'c1');
  t.objectSpan(web, 3600);
  t.objectSpan(web, 0);
  t.objectSpan(web, 1800);
  t.objectSpan(api, 1800);
  t.objectSpan(pod, 1800);
  const backend = new MemoryBackend();
  backend.add(t.spans);

  it('matches every given field, groups windows per object ascending, objects by key', async () => {
    const found = await backend.findObjects({ cluster: 'c1', resource: 'deployments', startUs: 0, endUs: 1e12, limit: 10 });
    expect(found).toEqual([
      { object: api, windows: [1800] },
      { object: web, windows: [0, 1800, 3600] },
    ]);
    expect(await backend.findObjects({ cluster: 'c2', startUs: 0, endUs: 1e12, limit: 10 })).toEqual([]);
  });

  it('keeps only windows whose object span overlaps the range, and the first `limit` objects', async () => {
    const found = await backend.findObjects({ name: 'web', startUs: 2000e6, endUs: 2100e6, limit: 10 });
    expect(found).toEqual([{ object: web, windows: [1800] }]);
    const first = await backend.findObjects({ startUs: 0, endUs: 1e12, limit: 1 });
    expect(first.map((f) => f.object.name)).toEqual(['web-1']); // c1//pods/… sorts before c1/apps/…
  });
});
