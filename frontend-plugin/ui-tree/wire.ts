// The trace view's tree as JSON: rows in display order, with their parent, children, roots and the
// row an "also" row stands for as indices into `flat` (the UI links them back: ui/model.js linkTree).
import type { DisplayTrace } from '../modes/display.ts';
import type { UiEvent } from './event.ts';
import { buildUiTree, type Row, type RowSpan, type Tree } from './tree.ts';

export interface WireRow extends Omit<Row, 'parent' | 'children' | 'alsoOf' | 'otherParents' | 'span'> {
  span: RowSpan;
  parent: number | null;
  children: number[];
  alsoOf?: number;
}
export interface WireTree extends Omit<Tree, 'roots' | 'flat'> {
  roots: number[];
  flat: WireRow[];
}

/** The rows a tree is made of, as the built-in UI reads them (`Row` or the UI's own nodes). */
type AnyRow = Pick<Row, 'key' | 'tags' | 'isEvent' | 'depth' | 'index' | 'errors' | 'warnings' | 'expected' | 'firstTs' | 'lastTs'> &
  Pick<Row, 'kind' | 'label' | 'suffix' | 'relation' | 'descendants' | 'synthetic' | 'nodeName'> & {
    span: RowSpan;
    events: UiEvent[];
    parent: AnyRow | null;
    children: AnyRow[];
    alsoOf?: AnyRow;
  };

function wireRow(n: AnyRow): WireRow {
  const { spanID, operationName, startTime, duration, warnings } = n.span;
  return {
    key: n.key,
    span: { spanID, operationName, startTime, duration, ...(warnings !== undefined ? { warnings } : {}) },
    tags: n.tags,
    isEvent: n.isEvent,
    events: n.events,
    parent: n.parent ? n.parent.index : null,
    children: n.children.map((c) => c.index),
    depth: n.depth,
    index: n.index,
    errors: n.errors,
    warnings: n.warnings,
    expected: n.expected,
    firstTs: n.firstTs,
    lastTs: n.lastTs,
    kind: n.kind,
    label: n.label,
    suffix: n.suffix,
    relation: n.relation,
    descendants: n.descendants,
    ...(n.synthetic ? { synthetic: true } : {}),
    ...(n.alsoOf ? { alsoOf: n.alsoOf.index } : {}),
    ...(n.nodeName !== undefined ? { nodeName: n.nodeName } : {}),
  };
}

/** A built tree as JSON (every row is in `flat`, at its `index`). */
export function toWire(t: Omit<Tree, 'roots' | 'flat'> & { roots: AnyRow[]; flat: AnyRow[] }): WireTree {
  const { roots, flat, ...rest } = t;
  return { ...rest, roots: roots.map((r) => r.index), flat: flat.map(wireRow) };
}

/** GET /api/ui/trace/:id's answer for a display trace. */
export const uiTree = (t: DisplayTrace): WireTree => toWire(buildUiTree(t));
