// A hot loop: a config syncer rewrites one annotation of one Deployment twice a second for 60 s
// (the 90 s shortened; the rate kept), each write a new value.
import { DEPLOYER, deployment, sa, type Scenario, waitRunning } from '../../scenario-lib.ts';

const SYNCER = sa('ops', 'config-syncer');

export default {
  async run(ctx) {
    ctx.step('create Deployment cfg (2 replicas)');
    await ctx.apply(DEPLOYER, deployment('cfg', 2));
    await waitRunning(ctx, 'cfg', 2);
    ctx.step('config-syncer annotates cfg sync.example.com/generation=<n> every 500 ms for 60 s');
    const path = `/apis/apps/v1/namespaces/${ctx.ns}/deployments/cfg`;
    const t0 = Date.now();
    const writes: Promise<number>[] = [];
    for (let i = 0; i < 120; i++) {
      const wait = t0 + i * 500 - Date.now();
      if (wait > 0) await ctx.sleep(wait);
      writes.push(ctx.request(SYNCER, 'PATCH', path, { metadata: { annotations: { 'sync.example.com/generation': String(i) } } }));
    }
    const codes = await Promise.all(writes);
    ctx.step(`${codes.filter((c) => c === 200).length} of 120 writes accepted`);
  },
} satisfies Scenario;
