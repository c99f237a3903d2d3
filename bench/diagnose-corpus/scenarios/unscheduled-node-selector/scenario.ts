// Unscheduled pods: a team deploys a Deployment whose nodeSelector matches no node.
import { deployment, sa, type Scenario } from '../../scenario-lib.ts';

const TEAM = sa('team-a', 'deployer');

export default {
  async run(ctx) {
    ctx.step('team-a deployer creates Deployment picky (3 replicas, nodeSelector disktype=ssd: no such node)');
    await ctx.apply(TEAM, deployment('picky', 3, { nodeSelector: { disktype: 'ssd' } }));
    ctx.step('pods stay Pending for 65 s');
    await ctx.sleep(65_000);
  },
} satisfies Scenario;
