// Orphans: a ConfigMap owned by a Deployment (garbage-collected with it) has its owner reference
// removed by a script; when the Deployment is deleted, the ConfigMap stays behind.
import { DEPLOYER, deployment, sa, type Scenario, waitRunning } from '../../scenario-lib.ts';

const UNOWNER = sa('chaos', 'owner-stripper');

export default {
  async run(ctx) {
    ctx.step('create Deployment web (2 replicas) and ConfigMap web-config owned by it');
    await ctx.apply(DEPLOYER, deployment('web', 2));
    await waitRunning(ctx, 'web', 2);
    const uid = (await ctx.kubectl(['get', 'deployment', 'web', '-o', 'jsonpath={.metadata.uid}'])).trim();
    await ctx.apply(DEPLOYER, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'web-config', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid }] },
      data: { 'app.conf': 'level=info' },
    });
    await ctx.sleep(3000);
    ctx.step('owner-stripper removes the owner reference of ConfigMap web-config');
    await ctx.kubectl(['patch', 'configmap', 'web-config', '--type=json', '-p', '[{"op":"remove","path":"/metadata/ownerReferences"}]'], { as: UNOWNER });
    await ctx.sleep(5000);
    ctx.step('deployer deletes Deployment web; web-config stays behind for 45 s');
    await ctx.kubectl(['delete', 'deployment', 'web', '--wait=false'], { as: DEPLOYER });
    await ctx.sleep(45_000);
  },
} satisfies Scenario;
