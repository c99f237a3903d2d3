// The live findings' worker thread (live.ts): keeps the sliding window of facts and runs the
// detectors over it when asked, off the webhook's event loop. On Linux the thread lowers its own
// scheduling priority (nice LIVE_NICE; setpriority on a thread ID changes that thread only), so
// when the CPUs are busy the webhook's thread goes first and the live findings wait.
import { readFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import { workerData } from 'node:worker_threads';
import { serveRpc } from '../../src/sinks/worker-rpc.ts';
import { LIVE_NICE, LiveWindow, type LiveOptions, type LiveReport, type LiveRequest } from './live.ts';

try {
  const tid = Number(readFileSync('/proc/thread-self/stat', 'utf8').split(' ')[0]);
  if (Number.isInteger(tid) && tid > 0) setPriority(tid, LIVE_NICE);
} catch {
  // not Linux, or not allowed: the worker runs at the process's priority
}

const win = new LiveWindow(workerData as LiveOptions);
serveRpc<LiveRequest, LiveReport | null>((req) => {
  if ('run' in req) return win.run();
  win.add(req.add);
  return null;
});
