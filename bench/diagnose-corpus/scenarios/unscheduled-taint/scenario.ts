// Unscheduled pods because of taints: a Deployment of 3 runs; someone taints every node
// dedicated=gpu:NoSchedule; the Deployment is then scaled to 6 and the new pods cannot schedule.
import { DEPLOYER, deployment, sa, type Scenario, waitRunning } from '../../scenario-lib.ts';

const TAINTER = sa('infra', 'gpu-pool-setup');

export default {
  async run(ctx) {
    ctx.step('create Deployment web (3 replicas)');
    await ctx.apply(DEPLOYER, deployment('web', 3));
    await waitRunning(ctx, 'web', 3);
    ctx.step('gpu-pool-setup taints every node dedicated=gpu:NoSchedule');
    await ctx.kubectl(['taint', 'nodes', '--all', 'dedicated=gpu:NoSchedule'], { as: TAINTER, noNamespace: true });
    await ctx.sleep(3000);
    ctx.step('deployer scales web to 6');
    await ctx.kubectl(['scale', 'deployment/web', '--replicas=6'], { as: DEPLOYER });
    ctx.step('3 pods stay Pending for 65 s');
    await ctx.sleep(65_000);
  },
  async cleanup(ctx) {
    await ctx.kubectl(['taint', 'nodes', '--all', 'dedicated-'], { noNamespace: true, allowFail: true });
  },
} satisfies Scenario;
