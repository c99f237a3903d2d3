// A drain refused by a PodDisruptionBudget: a Deployment of 3 with a PDB minAvailable=3 (written
// by the app team); a maintenance script drains a node that runs one of its pods: every eviction
// is refused (429) until the drain times out after 60 s.
import { DEPLOYER, deployment, sa, type Scenario, waitRunning } from '../../scenario-lib.ts';

const PDB_AUTHOR = sa('team-a', 'pdb-author');
const DRAINER = sa('ops', 'node-drainer');

export default {
  async run(ctx) {
    ctx.step('create Deployment guarded (3 replicas)');
    await ctx.apply(DEPLOYER, deployment('guarded', 3));
    await waitRunning(ctx, 'guarded', 3);
    ctx.step('pdb-author creates PodDisruptionBudget guard (minAvailable 3)');
    await ctx.apply(PDB_AUTHOR, {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: 'guard' },
      spec: { minAvailable: 3, selector: { matchLabels: { app: 'guarded' } } },
    });
    await ctx.sleep(3000);
    const node = (await ctx.kubectl(['get', 'pods', '-l', 'app=guarded', '-o', 'jsonpath={.items[0].spec.nodeName}'])).trim();
    ctx.step(`node-drainer drains ${node} (timeout 60 s)`);
    await ctx.kubectl(['drain', node, '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=60s'], { as: DRAINER, noNamespace: true, allowFail: true });
    ctx.step('drain gave up; node-drainer uncordons the node');
    await ctx.kubectl(['uncordon', node], { as: DRAINER, noNamespace: true });
  },
  async cleanup(ctx) {
    for (const node of ctx.nodes) await ctx.kubectl(['uncordon', node], { noNamespace: true, allowFail: true });
  },
} satisfies Scenario;
