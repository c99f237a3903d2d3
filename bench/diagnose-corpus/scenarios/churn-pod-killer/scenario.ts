// Churn caused by a script: a chaos job (its own service account) deletes every pod of a healthy
// 5-replica Deployment every 5 s for a minute; the ReplicaSet controller re-creates them each time.
import { DEPLOYER, deployment, sa, type Scenario, waitRunning } from '../../scenario-lib.ts';

const KILLER = sa('chaos', 'pod-killer');

export default {
  async run(ctx) {
    ctx.step('create Deployment web (5 replicas)');
    await ctx.apply(DEPLOYER, deployment('web', 5));
    await waitRunning(ctx, 'web', 5);
    ctx.step('pod-killer deletes all pods of web every 5 s, 12 times');
    for (let i = 0; i < 12; i++) {
      await ctx.kubectl(['delete', 'pods', '-l', 'app=web', '--wait=false'], { as: KILLER });
      await ctx.sleep(5000);
    }
    await waitRunning(ctx, 'web', 5);
  },
} satisfies Scenario;
