// kafkajs 2.2.4 (its last release) schedules its request queue's throttle check with
// `setTimeout(fn, throttledUntil - Date.now())`, and `throttledUntil` starts at -1, so the delay is
// about -1.7e12 ms (src/network/requestQueue/index.js, scheduleCheckPendingRequests; kafkajs issue
// #1751, its fix PR #1755 unreleased). Node ≥ 23 reports that as `TimeoutNegativeWarning` on stderr
// at every start of a Kafka role. The timer itself is harmless (Node runs it after 1 ms, which is
// what kafkajs means) and no kafkajs option avoids it, so exactly that warning, raised from that
// kafkajs file, is dropped; any other warning is reported as before. (Node reports a negative
// timeout once per process, so one of ours after kafkajs' would go unreported even without this.)
const KAFKAJS_REQUEST_QUEUE = /kafkajs[\\/]src[\\/]network[\\/]requestQueue[\\/]/;

let installed = false;

/** True for the one warning kafkajs' request queue raises with a negative timeout (called where it is raised). */
export function isKafkajsNegativeTimeout(warning: unknown, type: unknown): boolean {
  const name = typeof warning === 'object' && warning !== null ? (warning as Error).name : type;
  if (name !== 'TimeoutNegativeWarning') return false;
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 20; // the kafkajs frame is a few frames below Node's timer internals
  const stack = new Error().stack ?? '';
  Error.stackTraceLimit = limit;
  return KAFKAJS_REQUEST_QUEUE.test(stack);
}

/** Installs the filter once per process (idempotent). */
export function quietKafkajsNegativeTimeout(): void {
  if (installed) return;
  installed = true;
  const emit = process.emitWarning.bind(process) as (...args: unknown[]) => void;
  process.emitWarning = ((warning: unknown, ...rest: unknown[]) => {
    const type = typeof rest[0] === 'object' && rest[0] !== null ? (rest[0] as { type?: unknown }).type : rest[0];
    if (isKafkajsNegativeTimeout(warning, type)) return;
    emit(warning, ...rest);
  }) as typeof process.emitWarning;
}
