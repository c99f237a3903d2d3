// Restarts: a release bot deploys a version whose containers crash; kwok's pod-crashloop Stage
// (kwok-stages.yaml, triggered by the pod label) reports the container restarting every 6–14 s
// in CrashLoopBackOff, as a kubelet would, for 65 s.
import { deployment, sa, type Scenario } from '../../scenario-lib.ts';

const RELEASE_BOT = sa('team-b', 'release-bot');

export default {
  async run(ctx) {
    ctx.step('release-bot creates Deployment worker (3 replicas) whose containers crash');
    await ctx.apply(RELEASE_BOT, deployment('worker', 3, {}, { 'crashloop.stage.corpus.kubetrail.io': 'true' }));
    ctx.step('restartCount climbs for 65 s');
    await ctx.sleep(65_000);
  },
} satisfies Scenario;
