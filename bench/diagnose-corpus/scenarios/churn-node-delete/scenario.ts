// Churn caused by a node deletion: a node-reaper script deletes a Node that runs pods of a
// 6-replica Deployment; the pod garbage collector removes the pods bound to the gone node and the
// ReplicaSet re-creates them on the remaining nodes. (The recorder restores the node afterwards.)
import { DEPLOYER, deployment, sa, type Scenario, waitRunning, waitRunningOff } from '../../scenario-lib.ts';

const REAPER = sa('chaos', 'node-reaper');

export default {
  async run(ctx) {
    ctx.step('create Deployment web (6 replicas over 3 nodes)');
    await ctx.apply(DEPLOYER, deployment('web', 6));
    await waitRunning(ctx, 'web', 6);
    ctx.step('node-reaper deletes Node kwok-node-2');
    await ctx.kubectl(['delete', 'node', 'kwok-node-2', '--wait=false'], { as: REAPER, noNamespace: true });
    ctx.step('wait for the pod GC and the ReplicaSet to bring 6 pods back');
    await waitRunningOff(ctx, 'web', 6, 'kwok-node-2');
    await ctx.sleep(5000);
  },
} satisfies Scenario;
