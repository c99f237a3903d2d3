// Slow scheduler binding: kube-scheduler is frozen (SIGSTOP) for 45 s while a Deployment of 5 is
// created, so its pods wait that long for their pods/binding; then it resumes and binds them.
import { DEPLOYER, deployment, type Scenario, waitRunning } from '../../scenario-lib.ts';

export default {
  async run(ctx) {
    ctx.step('kube-scheduler frozen for 45 s');
    const paused = ctx.pause('kube-scheduler', 45_000);
    await ctx.sleep(2000);
    ctx.step('create Deployment sched (5 replicas)');
    await ctx.apply(DEPLOYER, deployment('sched', 5));
    await paused;
    ctx.step('kube-scheduler resumed');
    await waitRunning(ctx, 'sched', 5);
    await ctx.sleep(5000);
  },
} satisfies Scenario;
