// The pod startup report as clusterloader2's PerfData (the JSON perfdash and PerfLens chart):
// `PodStartupLatency_<name>_<time>.json`, version "1.0", one data item per transition with
// Perc50/Perc90/Perc99 in milliseconds and the label `Metric`. clusterloader2's transitions
// (pkg/measurement/common/slos/pod_startup_latency.go) between its phases create, schedule, run and
// watch: create_to_schedule, schedule_to_run, run_to_watch, schedule_to_watch, pod_startup
// (create → watch) — the earlier set — and create_to_run, added since. kubetrail's phases: create =
// the pod's create, schedule = its binding, run = the first write that set it Running, which is
// also when a watch sees it (so run_to_watch is 0 and watch = run, as in clusterloader2 today).
import type { PodStartupReport } from '../diagnose/pod-startup.ts';
import type { Stats } from '../diagnose/span-index.ts';

export interface PerfDataItem {
  data: { Perc50: number; Perc90: number; Perc99: number };
  unit: 'ms';
  labels: { Metric: string };
}

export interface PerfData {
  version: string;
  dataItems: PerfDataItem[];
  labels?: Record<string, string>;
}

const ZERO: Stats = { count: 0, p50: 0, p90: 0, p99: 0, max: 0 };
const ms = (sec: number): number => Math.round(sec * 1e6) / 1e3;
const item = (metric: string, s: Stats): PerfDataItem => ({
  data: { Perc50: ms(s.p50), Perc90: ms(s.p90), Perc99: ms(s.p99) },
  unit: 'ms',
  labels: { Metric: metric },
});

/** Every transition of clusterloader2's PodStartupLatency, current and earlier names, from kubetrail's phases. */
export function podStartupPerfData(r: PodStartupReport, labels?: Record<string, string>): PerfData {
  const runToWatch: Stats = { ...ZERO, count: r.startup.count };
  return {
    version: '1.0',
    dataItems: [
      item('create_to_schedule', r.scheduled),
      item('schedule_to_run', r.running),
      item('run_to_watch', runToWatch),
      item('schedule_to_watch', r.running),
      item('pod_startup', r.startup),
      item('create_to_run', r.startup),
    ],
    ...(labels ? { labels } : {}),
  };
}

/** clusterloader2's file name: `<summary>_<name>_<RFC 3339 time, seconds>.json`, the summary being PodStartupLatency. */
export function perfDataFileName(name: string, at: Date): string {
  const safe = name.replace(/[^A-Za-z0-9._-]+/g, '-');
  return `PodStartupLatency_${safe}_${at.toISOString().replace(/\.\d{3}Z$/, 'Z')}.json`;
}
