// A rollout stuck on a ResourceQuota: a Deployment of 3 runs; a platform admin then sets a quota
// of 3 pods on the namespace; the next image rollout needs a surge pod, which the quota refuses
// (the ReplicaSet controller's creates are forbidden), so the rollout never progresses.
import { DEPLOYER, deployment, sa, type Scenario, waitRunning } from '../../scenario-lib.ts';

const QUOTA_ADMIN = sa('platform', 'quota-admin');

export default {
  async run(ctx) {
    ctx.step('create Deployment api (3 replicas)');
    await ctx.apply(DEPLOYER, deployment('api', 3));
    await waitRunning(ctx, 'api', 3);
    ctx.step('quota-admin creates ResourceQuota pods=3');
    await ctx.apply(QUOTA_ADMIN, { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'pod-cap' }, spec: { hard: { pods: '3' } } });
    await ctx.sleep(3000);
    ctx.step('deployer rolls api out to image app:1.1 (needs a 4th pod)');
    await ctx.kubectl(['set', 'image', 'deployment/api', 'app=registry.example/app:1.1'], { as: DEPLOYER });
    ctx.step('the rollout stays stuck for 65 s');
    await ctx.sleep(65_000);
  },
} satisfies Scenario;
