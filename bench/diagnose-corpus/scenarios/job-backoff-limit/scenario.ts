// A Job past its backoffLimit: a batch submitter creates a Job whose pods fail (kwok's
// pod-container-running-failed Stage, triggered by the pod label); the Job controller retries
// twice with back-off and then marks the Job Failed (BackoffLimitExceeded).
import { job, sa, type Scenario } from '../../scenario-lib.ts';

const SUBMITTER = sa('team-b', 'batch-submitter');

export default {
  async run(ctx) {
    ctx.step('batch-submitter creates Job nightly-report (backoffLimit 2) whose pods fail');
    await ctx.apply(SUBMITTER, job('nightly-report', { backoffLimit: 2 }, { 'pod-container-running-failed.stage.kwok.x-k8s.io': 'true' }));
    await ctx.waitFor(
      'Job nightly-report Failed',
      async () => (await ctx.kubectl(['get', 'job', 'nightly-report', '-o', 'jsonpath={.status.conditions[?(@.type=="Failed")].status}'])).trim() === 'True',
      150_000,
    );
    ctx.step('Job nightly-report Failed (BackoffLimitExceeded)');
    await ctx.sleep(10_000);
  },
} satisfies Scenario;
