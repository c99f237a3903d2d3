// Healthy: a StatefulSet (with its headless Service) created with 3 replicas, scaled to 6, then 2.
import { DEPLOYER, type Scenario, waitRunning } from '../../scenario-lib.ts';

export default {
  async run(ctx) {
    ctx.step('create Service db (headless) and StatefulSet db (3 replicas)');
    await ctx.apply(
      DEPLOYER,
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'db' }, spec: { clusterIP: 'None', selector: { app: 'db' }, ports: [{ port: 5432 }] } },
      {
        apiVersion: 'apps/v1',
        kind: 'StatefulSet',
        metadata: { name: 'db' },
        spec: {
          serviceName: 'db',
          replicas: 3,
          selector: { matchLabels: { app: 'db' } },
          template: { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'db', image: 'registry.example/db:1.0' }] } },
        },
      },
    );
    await waitRunning(ctx, 'db', 3);
    ctx.step('scale db to 6');
    await ctx.kubectl(['scale', 'statefulset/db', '--replicas=6'], { as: DEPLOYER });
    await waitRunning(ctx, 'db', 6);
    ctx.step('scale db to 2');
    await ctx.kubectl(['scale', 'statefulset/db', '--replicas=2'], { as: DEPLOYER });
    await ctx.waitFor('2 pods of db', async () => (await ctx.kubectl(['get', 'pods', '-l', 'app=db', '-o', 'name'])).trim().split('\n').length === 2);
    await ctx.sleep(5000);
  },
} satisfies Scenario;
