// Healthy: a 20-replica Deployment created, rolled to a new image, scaled up to 30 and down to
// 10, then deleted.
import { DEPLOYER, deployment, type Scenario, waitRunning } from '../../scenario-lib.ts';

export default {
  async run(ctx) {
    ctx.step('create Deployment web (20 replicas)');
    await ctx.apply(DEPLOYER, deployment('web', 20));
    await waitRunning(ctx, 'web', 20);
    ctx.step('roll web to image app:1.1');
    await ctx.kubectl(['set', 'image', 'deployment/web', 'app=registry.example/app:1.1'], { as: DEPLOYER });
    await ctx.kubectl(['rollout', 'status', 'deployment/web', '--timeout=120s'], { as: DEPLOYER });
    ctx.step('scale web to 30');
    await ctx.kubectl(['scale', 'deployment/web', '--replicas=30'], { as: DEPLOYER });
    await ctx.kubectl(['rollout', 'status', 'deployment/web', '--timeout=120s'], { as: DEPLOYER });
    ctx.step('scale web to 10');
    await ctx.kubectl(['scale', 'deployment/web', '--replicas=10'], { as: DEPLOYER });
    await ctx.waitFor('10 pods of web', async () => (await ctx.kubectl(['get', 'pods', '-l', 'app=web', '-o', 'name'])).trim().split('\n').length === 10);
    await ctx.sleep(3000);
    ctx.step('delete Deployment web');
    await ctx.kubectl(['delete', 'deployment', 'web', '--wait=true'], { as: DEPLOYER });
    await ctx.waitFor('no pods of web', async () => (await ctx.kubectl(['get', 'pods', '-l', 'app=web', '-o', 'name'])).trim() === '');
  },
} satisfies Scenario;
