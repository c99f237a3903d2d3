// The detector registry. Adding a detector = one file in detectors/ + one line here.
import type { Detector } from '../types.ts';
import { churn } from './churn.ts';
import { fighting } from './fighting.ts';
import { conflicts } from './conflicts.ts';
import { noopWrites } from './noop-writes.ts';
import { stuckRollouts } from './stuck-rollouts.ts';
import { unscheduledPods } from './unscheduled-pods.ts';
import { orphans } from './orphans.ts';
import { slowReactions } from './slow-reactions.ts';
import { hotLoops } from './hot-loops.ts';
import { stuckDeletions } from './stuck-deletions.ts';
import { workloadFailures } from './workload-failures.ts';
import { blockedEvictions } from './blocked-evictions.ts';
import { completeness } from './completeness.ts';

export const detectors: readonly Detector[] = [
  churn,
  fighting,
  conflicts,
  noopWrites,
  stuckRollouts,
  unscheduledPods,
  orphans,
  slowReactions,
  hotLoops,
  stuckDeletions,
  workloadFailures,
  blockedEvictions,
  completeness,
];
