// A label fought over by two actors: two teams' scripts set label tier on one Deployment to
// their own value, alternately, 8 times each.
import { DEPLOYER, deployment, sa, type Scenario, waitRunning } from '../../scenario-lib.ts';

const A = sa('team-a', 'labeler');
const B = sa('team-b', 'labeler');

export default {
  async run(ctx) {
    ctx.step('create Deployment shop (2 replicas)');
    await ctx.apply(DEPLOYER, deployment('shop', 2));
    await waitRunning(ctx, 'shop', 2);
    ctx.step('team-a and team-b labelers set tier=frontend / tier=backend alternately, 8 times each, 3 s apart');
    for (let i = 0; i < 8; i++) {
      await ctx.kubectl(['label', 'deployment', 'shop', 'tier=frontend', '--overwrite'], { as: A });
      await ctx.sleep(3000);
      await ctx.kubectl(['label', 'deployment', 'shop', 'tier=backend', '--overwrite'], { as: B });
      await ctx.sleep(3000);
    }
  },
} satisfies Scenario;
