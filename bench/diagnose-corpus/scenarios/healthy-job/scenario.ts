// Healthy: a Job of 6 completions, 2 at a time, that completes.
import { DEPLOYER, job, type Scenario } from '../../scenario-lib.ts';

export default {
  async run(ctx) {
    ctx.step('create Job batch (6 completions, parallelism 2)');
    await ctx.apply(DEPLOYER, job('batch', { completions: 6, parallelism: 2 }));
    await ctx.kubectl(['wait', '--for=condition=Complete', 'job/batch', '--timeout=120s']);
    ctx.step('Job batch complete');
    await ctx.sleep(5000);
  },
} satisfies Scenario;
