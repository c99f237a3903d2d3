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
    const t0 = Date.now();
    const inFlight = new Set<Promise<unknown>>();
    for (let i = 0; i < 120; i++) {
      const wait = t0 + i * 500 - Date.now();
      if (wait > 0) await ctx.sleep(wait);
      if (inFlight.size >= 4) await Promise.race(inFlight);
      const p = ctx.kubectl(['annotate', 'deployment', 'cfg', `sync.example.com/generation=${i}`, '--overwrite'], { as: SYNCER, allowFail: true });
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
    }
    await Promise.all(inFlight);
  },
} satisfies Scenario;
