// Diagnosis entry point shared by `kubetrail diagnose` and GET /api/diagnose: load the spans of
// the range from a backend, run the detectors, build the report.
import type { ObjectRef } from '../../src/core/model.ts';
import type { TraceBackend } from '../backend/backend.ts';
import { KUBE_EVENT_EARLY_US, placeKubeEventsFrom } from '../event-order.ts';
import { loadSpans } from './loader.ts';
import { buildReport } from './report.ts';
import type { Report, Thresholds } from './types.ts';

export type { Finding, Evidence, Report, Severity, Thresholds, Detector, DetectorInput } from './types.ts';
export { defaultThresholds, SEVERITIES, severityRank } from './types.ts';
export { buildReport, worstSeverity } from './report.ts';
export { detectors } from './detectors/index.ts';

export interface DiagnoseOptions {
  cluster?: string;
  namespace?: string;
  selector?: ObjectRef;
  /** Unix µs; default: from the first stored event in range … */
  startUs?: number;
  /** … to the last. */
  endUs?: number;
  thresholds?: Partial<Thresholds>;
  podStartup?: boolean;
  podStartupThresholdSec?: number;
}

export async function diagnose(backend: TraceBackend, o: DiagnoseOptions): Promise<Report> {
  const loaded = await loadSpans(backend, {
    cluster: o.cluster,
    namespace: o.selector ? o.selector.namespace || undefined : o.namespace,
    // a Kubernetes Event stamped in the second before the start may report a write of the range
    startUs: o.startUs === undefined ? 0 : o.startUs - KUBE_EVENT_EARLY_US,
    endUs: o.endUs ?? Number.MAX_SAFE_INTEGER,
  });
  // the second before the start: only Kubernetes Events that may report a write of the range stay
  const spans = o.startUs === undefined ? loaded : placeKubeEventsFrom(loaded, o.startUs);
  return buildReport(spans, {
    startUs: o.startUs,
    endUs: o.endUs,
    cluster: o.cluster,
    thresholds: o.thresholds,
    selector: o.selector,
    podStartup: o.podStartup,
    podStartupThresholdSec: o.podStartupThresholdSec,
    unique: true,
  });
}
