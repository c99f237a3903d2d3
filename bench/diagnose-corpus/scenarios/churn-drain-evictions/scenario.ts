// Churn caused by drain evictions: a maintenance script drains the nodes one after the other,
// twice round, uncordoning each right after; every drain evicts the pods of a 6-replica Deployment
// on that node and the ReplicaSet re-creates them elsewhere.
import { DEPLOYER, deployment, sa, type Scenario, waitRunning } from '../../scenario-lib.ts';

const DRAINER = sa('ops', 'node-drainer');

export default {
  async run(ctx) {
    ctx.step('create Deployment web (6 replicas)');
    await ctx.apply(DEPLOYER, deployment('web', 6));
    await waitRunning(ctx, 'web', 6);
    for (const node of [...ctx.nodes, ...ctx.nodes]) {
      ctx.step(`node-drainer drains ${node}, then uncordons it`);
      await ctx.kubectl(['drain', node, '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=60s'], { as: DRAINER, noNamespace: true });
      await ctx.kubectl(['uncordon', node], { as: DRAINER, noNamespace: true });
      await waitRunning(ctx, 'web', 6);
    }
    await ctx.sleep(3000);
  },
  async cleanup(ctx) {
    for (const node of ctx.nodes) await ctx.kubectl(['uncordon', node], { noNamespace: true, allowFail: true });
  },
} satisfies Scenario;
