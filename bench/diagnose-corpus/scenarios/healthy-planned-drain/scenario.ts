// Healthy: planned maintenance. A Deployment of 4 with a PDB maxUnavailable=1; an operator drains
// one node (the evictions are allowed one at a time), then uncordons it.
import { DEPLOYER, deployment, sa, type Scenario, waitRunning } from '../../scenario-lib.ts';

const OPERATOR = sa('ops', 'node-drainer');

export default {
  async run(ctx) {
    ctx.step('create Deployment web (4 replicas) and PDB web (maxUnavailable 1)');
    await ctx.apply(DEPLOYER, deployment('web', 4), {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: 'web' },
      spec: { maxUnavailable: 1, selector: { matchLabels: { app: 'web' } } },
    });
    await waitRunning(ctx, 'web', 4);
    await ctx.sleep(3000);
    ctx.step('node-drainer drains kwok-node-0, then uncordons it');
    await ctx.kubectl(['drain', 'kwok-node-0', '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=90s'], { as: OPERATOR, noNamespace: true });
    await waitRunning(ctx, 'web', 4);
    await ctx.kubectl(['uncordon', 'kwok-node-0'], { as: OPERATOR, noNamespace: true });
    await ctx.sleep(5000);
  },
  async cleanup(ctx) {
    await ctx.kubectl(['uncordon', 'kwok-node-0'], { noNamespace: true, allowFail: true });
  },
} satisfies Scenario;
