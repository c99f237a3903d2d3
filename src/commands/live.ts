// `serve --live-*`: the live findings of frontend-plugin/diagnose/live.ts for the processes that write
// spans (single process, Kafka trace and all roles). Flags, and the component built from them.
import { InvalidArgumentError, Option, type Command } from 'commander';
import { LiveFindings } from '../../frontend-plugin/diagnose/live.ts';
import { parseSeconds, thresholdParam, thresholdsFrom } from '../../frontend-plugin/diagnose/params.ts';
import { defaultThresholds, type Thresholds } from '../../frontend-plugin/diagnose/types.ts';
import { log } from '../core/log.ts';
import type { Component } from '../core/lifecycle.ts';
import { collect, parsePositiveInt } from './options.ts';

export interface LiveCliOptions {
  liveWindow: number;
  liveInterval: number;
  liveMaxFacts: number;
  liveThreshold: string[];
}

const GROUP = 'Live findings (docs/diagnose.md):';
const THRESHOLD_NAMES = (Object.keys(defaultThresholds) as (keyof Thresholds)[]).map(thresholdParam);

const seconds = (allowZero: boolean) => (v: string) => {
  let n: number;
  try {
    n = parseSeconds(v);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
  if (n < 0 || (!allowZero && n === 0)) throw new InvalidArgumentError(allowZero ? 'not a duration' : 'must be more than 0');
  return n;
};

/** `name=value`, a diagnose threshold (`deletionTimeout=30s`), checked as it is given. */
function threshold(v: string, prev: string[] = []): string[] {
  const m = /^([A-Za-z]+)=(.+)$/.exec(v.trim());
  if (!m || !THRESHOLD_NAMES.includes(m[1]!)) throw new InvalidArgumentError(`expected <threshold>=<value>, threshold one of ${THRESHOLD_NAMES.join(', ')}`);
  try {
    thresholdsFrom({ [m[1]!]: m[2] });
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
  return collect(v.trim(), prev);
}

export function addLiveOptions(cmd: Command): Command {
  const opt = (o: Option) => cmd.addOption(o.helpGroup(GROUP));
  opt(
    new Option('--live-window <duration>', 'keep the facts of the spans written in this window and diagnose them live (0: off)')
      .argParser(seconds(true))
      .default(600, '10m'),
  );
  opt(new Option('--live-interval <duration>', 'run the detectors over the window this often').argParser(seconds(false)).default(15, '15s'));
  opt(
    new Option('--live-max-facts <n>', 'facts the window keeps at most; beyond, the oldest are dropped (the report says so)')
      .argParser(parsePositiveInt)
      .default(250_000),
  );
  opt(
    new Option('--live-threshold <name=value>', 'a diagnose threshold for the live findings, e.g. deletionTimeout=30s (repeatable)')
      .argParser(threshold)
      .default([]),
  );
  return cmd;
}

/** The live findings of these flags, not started yet (undefined with --live-window 0). */
export function liveFindings(o: LiveCliOptions): LiveFindings | undefined {
  if (!o.liveWindow) return undefined;
  const thresholds = thresholdsFrom(Object.fromEntries(o.liveThreshold.map((t) => t.split(/=(.*)/s, 2) as [string, string])));
  return new LiveFindings({ windowSec: o.liveWindow, intervalSec: o.liveInterval, maxFacts: o.liveMaxFacts, thresholds });
}

/** Live findings in a command's lifecycle (src/core/lifecycle.ts): the worker runs from its start to its stop. */
export function liveComponent(o: LiveCliOptions, live: LiveFindings): Component {
  return {
    name: 'live findings',
    start: () => {
      live.start();
      log.info(
        { windowSec: o.liveWindow, intervalSec: o.liveInterval, maxFacts: o.liveMaxFacts },
        'live findings on (GET /api/findings/live, kubetrail_findings)',
      );
    },
    stop: () => live.stop(),
  };
}
