// A stuck deletion: a legacy operator puts a finalizer on a ConfigMap and is gone; a cleanup job
// deletes the ConfigMap, which stays (deletionTimestamp set) because nobody removes the finalizer.
import { sa, type Scenario } from '../../scenario-lib.ts';

const OPERATOR = sa('ops', 'legacy-operator');
const CLEANUP = sa('ci', 'cleanup-bot');

export default {
  async run(ctx) {
    ctx.step('legacy-operator creates ConfigMap settings with finalizer example.com/cleanup-hook');
    await ctx.apply(OPERATOR, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'settings', finalizers: ['example.com/cleanup-hook'] },
      data: { mode: 'on' },
    });
    await ctx.sleep(5000);
    ctx.step('cleanup-bot deletes ConfigMap settings; it stays Terminating for 65 s');
    await ctx.kubectl(['delete', 'configmap', 'settings', '--wait=false'], { as: CLEANUP });
    await ctx.sleep(65_000);
  },
  async cleanup(ctx) {
    await ctx.kubectl(['patch', 'configmap', 'settings', '--type=merge', '-p', '{"metadata":{"finalizers":null}}'], { allowFail: true });
  },
} satisfies Scenario;
