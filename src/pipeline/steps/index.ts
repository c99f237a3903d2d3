// How a change (src/pipeline/change.ts: an audit event, a watch change or a Kubernetes Event about
// one object) becomes the content of its event span: these steps, in this order, over one
// ChangeContext (context.ts). Bodies first (cleaned before anything reads them); a watch change in
// audit mode stops after feeding the history; then who/what/when (one tagging step per source),
// exactly one description of the change (describe.ts: diff, snapshot, …, by one rule), then
// versions, links, and the new version into the history. A step that returns a reason ends the
// change with no span. src/aggregate/span-builder.ts then turns the result into the event, object
// and link spans.
import type { ChangeStep } from './context.ts';
import { responseObject } from './response-object.ts';
import { requestBody } from './request-body.ts';
import { failedCreate } from './failed-create.ts';
import { watchHistory } from './watch-history.ts';
import { auditAttributes } from './audit-attributes.ts';
import { watchAttribution } from './watch-attribution.ts';
import { eventAttributes } from './event-attributes.ts';
import { describe } from './describe.ts';
import { resourceVersions } from './resource-versions.ts';
import { links } from './links.ts';
import { rememberVersion } from './remember-version.ts';
import { explainWatch } from './explain-watch.ts';

export type { ChangeContext, ChangeStep } from './context.ts';

export const changeSteps: readonly ChangeStep[] = [
  // the bodies
  responseObject,
  requestBody,
  failedCreate,
  watchHistory,
  // who, what, when
  auditAttributes,
  watchAttribution,
  eventAttributes,
  // what changed
  describe,
  // then
  resourceVersions,
  links,
  explainWatch,
  rememberVersion,
];

/** Runs every step over `ctx`; the skip reason of the step that ended the change, if one did. */
export function runSteps(ctx: Parameters<ChangeStep>[0]): string | undefined {
  for (const step of changeSteps) {
    const skipped = step(ctx);
    if (typeof skipped === 'string') return skipped;
  }
  return undefined;
}
