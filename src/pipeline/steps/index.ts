// How an audit event on one object becomes the content of its event span: these steps, in this
// order, over one AuditEventContext (context.ts). Bodies first (cleaned before anything reads
// them), then the tags, then exactly one of the change steps (the first that applies describes
// the change), then versions, links, and the new version into the history.
// src/aggregate/span-builder.ts then turns the result into the event, object and link spans.
import type { AuditEventStep } from './context.ts';
import { responseObject } from './response-object.ts';
import { requestBody } from './request-body.ts';
import { failedCreate } from './failed-create.ts';
import { auditAttributes } from './audit-attributes.ts';
import { unchanged } from './unchanged.ts';
import { binding } from './binding.ts';
import { createSnapshot } from './create-snapshot.ts';
import { deleteSnapshot } from './delete-snapshot.ts';
import { updateDiff } from './update-diff.ts';
import { scale } from './scale.ts';
import { metadataClaim } from './metadata-claim.ts';
import { resourceVersions } from './resource-versions.ts';
import { links } from './links.ts';
import { rememberVersion } from './remember-version.ts';

export type { AuditEventContext, AuditEventStep } from './context.ts';

export const auditEventSteps: readonly AuditEventStep[] = [
  responseObject,
  requestBody,
  failedCreate,
  auditAttributes,
  // the change: the first of these that applies describes it
  unchanged,
  binding,
  createSnapshot,
  deleteSnapshot,
  updateDiff,
  scale,
  metadataClaim,
  // then
  resourceVersions,
  links,
  rememberVersion,
];
