// The live findings' worker thread (live.ts): keeps the sliding window of facts and runs the
// detectors over it when asked, off the webhook's event loop.
import { workerData } from 'node:worker_threads';
import { serveRpc } from '../../src/sinks/worker-rpc.ts';
import { LiveWindow, type LiveOptions, type LiveReport, type LiveRequest } from './live.ts';

const win = new LiveWindow(workerData as LiveOptions);
serveRpc<LiveRequest, LiveReport | null>((req) => {
  if ('run' in req) return win.run();
  win.add(req.add);
  return null;
});
