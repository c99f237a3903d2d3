// The re-enactment file (docs/reenact.md): versioned JSON lines — a header, one action per line in
// time order, a trailer with the action count and a SHA-256 of every line before it. Written by
// `kubetrail export` (export.ts), read by `kubetrail reenact`, which refuses a foreign, truncated or
// altered file before it applies anything.
import { createHash } from 'node:crypto';

export const FORMAT = 'kubetrail-reenact';
export const FORMAT_VERSION = 1;

export interface ReenactHeader {
  format: typeof FORMAT;
  version: number;
  /** The cluster the actions were recorded on. */
  cluster: string;
  /** The exported range (RFC 3339, µs): the first and last action, or the asked --since/--until. */
  from: string;
  until: string;
  exportedAt: string;
  /** Which namespaces were asked (empty: all). */
  namespaces: string[];
  /** The actor rule: routine actors left out, and the --include-actor / --exclude-actor patterns. */
  actors: { routineExcluded: boolean; include: string[]; exclude: string[] };
  /** What the store had that the file does not (counts by reason), so a reader knows what is missing. */
  skipped: Record<string, number>;
}

/** Which object an action is about, as the API server names it (the recorded name, also for generateName creates). */
export interface ActionRef {
  apiVersion: string;
  kind: string;
  group: string;
  resource: string;
  /** '' for cluster-scoped objects. */
  namespace: string;
  name: string;
}

/** A redacted value in `object`/`patch`: where it is and how long the recorded value was. */
export interface SecretPlaceholder {
  /** Path in the object or patch (`data.password`, `stringData.token`). */
  path: string;
  bytes: number;
  /** The value sits in a Secret's `data` (the API server wants base64; a filled value is encoded). */
  base64: boolean;
}

export interface ReenactAction {
  /** 1, 2, …: the position in the file. */
  seq: number;
  /** Milliseconds after the first action (µs precision). */
  offsetMs: number;
  /** When the API server received the recorded request (RFC 3339, µs). */
  time: string;
  verb: 'create' | 'patch' | 'delete';
  /** `status` for a patch of the status subresource; absent for the object itself. */
  subresource?: string;
  ref: ActionRef;
  /** create: the object to create (cleaned; `metadata.generateName` without a name when the recorded name was generated). */
  object?: Record<string, unknown>;
  /** patch: a JSON merge patch (RFC 7386) of the fields the recorded write changed. */
  patch?: Record<string, unknown>;
  /** The recorded request, for aligning two runs (compare): who, what verb, which fields changed. */
  recorded: { verb: string; subresource?: string; user: string; userAgent?: string; auditId?: string; changed?: string[] };
  secrets?: SecretPlaceholder[];
  /** What the cleaning left out or could not reconstruct, in words. */
  notes?: string[];
}

export interface ReenactTrailer {
  trailer: true;
  actions: number;
  /** Hex SHA-256 of every byte before the trailer line. */
  sha256: string;
}

export interface ReenactFile {
  header: ReenactHeader;
  actions: ReenactAction[];
}

/** The file's text: header, actions, trailer, each one line. */
export function serializeReenact(file: ReenactFile): string {
  const body = [file.header, ...file.actions].map((l) => `${JSON.stringify(l)}\n`).join('');
  const trailer: ReenactTrailer = { trailer: true, actions: file.actions.length, sha256: createHash('sha256').update(body).digest('hex') };
  return `${body}${JSON.stringify(trailer)}\n`;
}

export class ReenactFileError extends Error {}

function parseLine(line: string, n: number): Record<string, unknown> {
  try {
    const v = JSON.parse(line) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {}
  throw new ReenactFileError(`line ${n} is not a JSON object`);
}

function checkHeader(h: Record<string, unknown>): ReenactHeader {
  if (h.format !== FORMAT) throw new ReenactFileError(`not a ${FORMAT} file (its first line names format ${JSON.stringify(h.format ?? null)})`);
  if (h.version !== FORMAT_VERSION) {
    throw new ReenactFileError(`${FORMAT} version ${JSON.stringify(h.version)} is not supported (this kubetrail reads version ${FORMAT_VERSION})`);
  }
  return h as unknown as ReenactHeader;
}

function checkAction(a: Record<string, unknown>, seq: number, n: number): ReenactAction {
  const ref = a.ref as Record<string, unknown> | undefined;
  const ok =
    a.seq === seq &&
    typeof a.offsetMs === 'number' &&
    (a.verb === 'create' || a.verb === 'patch' || a.verb === 'delete') &&
    ref !== undefined &&
    typeof ref.apiVersion === 'string' &&
    typeof ref.kind === 'string' &&
    typeof ref.name === 'string' &&
    typeof ref.namespace === 'string' &&
    (a.verb !== 'create' || (a.object !== null && typeof a.object === 'object')) &&
    (a.verb !== 'patch' || (a.patch !== null && typeof a.patch === 'object'));
  if (!ok) throw new ReenactFileError(`line ${n}: not action ${seq} (seq, offsetMs, verb, ref and its object or patch)`);
  return a as unknown as ReenactAction;
}

/**
 * Reads and checks a whole file: its header (format and version), every action line, and the
 * trailer (count and checksum). Throws ReenactFileError naming the first problem.
 */
export function parseReenact(text: string): ReenactFile & { sha256: string } {
  if (text === '') throw new ReenactFileError('the file is empty');
  if (!text.endsWith('\n')) throw new ReenactFileError('the file is truncated (its last line is incomplete)');
  const lines = text.slice(0, -1).split('\n');
  const header = checkHeader(parseLine(lines[0]!, 1));
  const last = parseLine(lines[lines.length - 1]!, lines.length);
  if (lines.length < 2 || last.trailer !== true) throw new ReenactFileError('the file is truncated (no trailer line: it ends before the export finished)');
  const trailer = last as unknown as ReenactTrailer;
  const actionLines = lines.slice(1, -1);
  if (trailer.actions !== actionLines.length) {
    throw new ReenactFileError(`the file is truncated or altered: its trailer counts ${trailer.actions} actions, it holds ${actionLines.length}`);
  }
  const body = text.slice(0, text.length - lines[lines.length - 1]!.length - 1);
  if (createHash('sha256').update(body).digest('hex') !== trailer.sha256) {
    throw new ReenactFileError('the file was altered after export: its checksum does not match the trailer');
  }
  const actions = actionLines.map((l, i) => checkAction(parseLine(l, i + 2), i + 1, i + 2));
  return { header, actions, sha256: trailer.sha256 };
}
