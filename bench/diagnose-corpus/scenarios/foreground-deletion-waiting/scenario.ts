// Foreground deletion waiting on a dependent: ConfigMap app-config owns app-config-shard
// (blockOwnerDeletion), on which a shard operator put a finalizer it never removes. A cleanup job
// deletes app-config with --cascade=foreground: it stays with the foregroundDeletion finalizer
// while its dependent cannot go.
import { DEPLOYER, sa, type Scenario } from '../../scenario-lib.ts';

const SHARD_OPERATOR = sa('ops', 'shard-operator');
const CLEANUP = sa('ci', 'cleanup-bot');

export default {
  async run(ctx) {
    ctx.step('create ConfigMap app-config; shard-operator creates app-config-shard owned by it, with finalizer example.com/shard-protect');
    await ctx.apply(DEPLOYER, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'app-config' }, data: { a: '1' } });
    const uid = (await ctx.kubectl(['get', 'configmap', 'app-config', '-o', 'jsonpath={.metadata.uid}'])).trim();
    await ctx.apply(SHARD_OPERATOR, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: 'app-config-shard',
        finalizers: ['example.com/shard-protect'],
        ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'app-config', uid, blockOwnerDeletion: true }],
      },
      data: { shard: '0' },
    });
    await ctx.sleep(5000);
    ctx.step('cleanup-bot deletes app-config with --cascade=foreground; it waits for 65 s');
    await ctx.kubectl(['delete', 'configmap', 'app-config', '--cascade=foreground', '--wait=false'], { as: CLEANUP });
    await ctx.sleep(65_000);
  },
  async cleanup(ctx) {
    await ctx.kubectl(['patch', 'configmap', 'app-config-shard', '--type=merge', '-p', '{"metadata":{"finalizers":null}}'], { allowFail: true });
  },
} satisfies Scenario;
