// Display mode → transform. Each mode is a small function over the assembled object tree.
import type { DisplayMode } from '../trace-id.ts';
import { toGrouped } from './grouped.ts';
import type { ModeTransform } from './display.ts';
import { toTimeline } from './timeline.ts';
import { toTracing } from './tracing.ts';
import { toTree } from './tree.ts';

export const transforms: Record<DisplayMode, ModeTransform> = {
  tracing: toTracing,
  tree: toTree,
  timeline: toTimeline,
  grouped: toGrouped,
};
