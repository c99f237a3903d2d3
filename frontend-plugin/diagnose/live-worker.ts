// The live findings' worker thread (live.ts): keeps the sliding window of the facts the sink's
// writer threads hand over (src/sinks/facts-feed.ts) and runs the detectors over it when asked, off
// the webhook's event loop. On Linux the thread lowers its own scheduling priority (nice LIVE_NICE;
// setpriority on a thread ID changes that thread only), so when the CPUs are busy the webhook's
// thread goes first and the live findings wait.
import { readFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import { workerData } from 'node:worker_threads';
import { log } from '../../src/core/log.ts';
import { FactsReceiver } from '../../src/sinks/facts-feed.ts';
import { serveRpc } from '../../src/sinks/worker-rpc.ts';
import { LIVE_NICE, LiveWindow, type LiveOptions, type LiveReport, type LiveRequest } from './live.ts';

try {
  const tid = Number(readFileSync('/proc/thread-self/stat', 'utf8').split(' ')[0]);
  if (Number.isInteger(tid) && tid > 0) setPriority(tid, LIVE_NICE);
} catch {
  // not Linux, or not allowed: the worker runs at the process's priority
}

const win = new LiveWindow(workerData as LiveOptions);
/** One per writer thread the sink started (a thread that died and was restarted opens another). */
const feeds: FactsReceiver[] = [];
serveRpc<LiveRequest, LiveReport | null>((req) => {
  if ('feed' in req) {
    feeds.push(
      new FactsReceiver(req.feed, (b) => {
        try {
          win.addFacts(b);
        } catch (err) {
          // the sink's own encoding, so never expected: this batch is lost, the window goes on
          log.warn({ err: (err as Error).message }, 'live findings: facts the sink handed over could not be read');
        }
      }),
    );
    return null;
  }
  // every batch acknowledged before the run was asked for is in it
  for (const f of feeds) f.drain();
  const report = win.run();
  const skipped = feeds.reduce((n, f) => n + f.skipped(), 0);
  if (skipped) report.live.skippedFacts = skipped;
  return report;
});
