// Unscheduled pods: a Deployment whose pods request more CPU (64) than any node has (32).
import { deployment, sa, type Scenario } from '../../scenario-lib.ts';

const TEAM = sa('team-a', 'deployer');

export default {
  async run(ctx) {
    ctx.step('team-a deployer creates Deployment big (2 replicas, requests cpu=64)');
    await ctx.apply(
      TEAM,
      deployment('big', 2, { containers: [{ name: 'app', image: 'registry.example/app:1.0', resources: { requests: { cpu: '64', memory: '1Gi' } } }] }),
    );
    ctx.step('pods stay Pending for 65 s');
    await ctx.sleep(65_000);
  },
} satisfies Scenario;
