// NotReady node evictions: a chaos script makes kwok-node-1 report Ready=False (kwok's
// node-not-ready Stage, triggered by the node label); the node lifecycle controller taints it
// not-ready:NoExecute and the taint eviction controller deletes its pods after their 10 s
// toleration; the ReplicaSet re-creates them on the other nodes. (The recorder restores the node.)
import { DEPLOYER, deployment, sa, type Scenario, waitRunning, waitRunningOff } from '../../scenario-lib.ts';

const BREAKER = sa('chaos', 'node-breaker');
const tolerations = ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable'].map((key) => ({
  key,
  operator: 'Exists',
  effect: 'NoExecute',
  tolerationSeconds: 10,
}));

export default {
  async run(ctx) {
    ctx.step('create Deployment web (6 replicas, tolerating not-ready for 10 s)');
    await ctx.apply(DEPLOYER, deployment('web', 6, { tolerations }));
    await waitRunning(ctx, 'web', 6);
    ctx.step('node-breaker makes kwok-node-1 NotReady');
    await ctx.kubectl(['label', 'node', 'kwok-node-1', 'node-not-ready.stage.kwok.x-k8s.io=true'], { as: BREAKER, noNamespace: true });
    ctx.step('wait for the evictions and 6 pods Running elsewhere');
    await waitRunningOff(ctx, 'web', 6, 'kwok-node-1');
    await ctx.sleep(10_000);
  },
} satisfies Scenario;
