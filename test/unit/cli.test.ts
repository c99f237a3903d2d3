// The kubetrail command as a user runs it, on fixture audit logs: in-process for parsing,
// validation and replay (test/helpers/cli.ts runCli), as a real process where the exit code,
// stdin, signals or a served port are what is tested (spawnCli, spawn).
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { SqliteStore } from '../../src/sinks/sqlite-store.ts';
import { SqliteBackend } from '../../frontend-plugin/backend/sqlite.ts';
import { auditEvent, deploymentEvents, secretEvent } from './webhook.fixtures.ts';

import { CLI, runCli as run, spawnCli } from '../helpers/cli.ts';
import { ALL_TIME, tempDir } from '../helpers/fixtures.ts';

describe('kubetrail CLI', async () => {
  let tmp: ReturnType<typeof tempDir>;
  let dir: string;
  let log: string;
  beforeAll(() => {
    tmp = tempDir('kt-cli-');
    dir = tmp.path;
    log = join(dir, 'audit.log');
    const lease = auditEvent({
      verb: 'update',
      group: 'coordination.k8s.io',
      resource: 'leases',
      kind: 'Lease',
      namespace: 'kube-node-lease',
      name: 'node-1',
      at: 3,
    });
    const lines = [...deploymentEvents(), '{"kind": "Event", broken', secretEvent(), lease].map((e) => (typeof e === 'string' ? e : JSON.stringify(e)));
    writeFileSync(log, `${lines.join('\n')}\n`);
  });
  afterAll(() => tmp.remove());

  it('has --help on every command', async () => {
    for (const cmd of [[], ['serve'], ['replay'], ['demo'], ['query']]) {
      const r = await run(...cmd, '--help');
      expect(r.status, `${cmd.join(' ')} --help`).toBe(0);
      expect(r.stdout).toContain('Usage: kubetrail');
    }
    const serve = (await run('serve', '--help')).stdout;
    for (const flag of [
      '--webhook-port',
      '--cluster',
      '--kubeconfig',
      '--context',
      '--list-watch-only',
      '--no-informers',
      '--otlp-endpoint',
      '--store',
      '--window',
      '--exclude-resource',
      '--include-reads',
      '--redact',
      '--webhook-token',
      '--tls-cert',
      '--tls-key',
      '--client-ca',
      '--max-body-bytes',
      '--query-port',
      '--jaeger-query',
      '--log-level',
    ]) {
      expect(serve).toContain(flag);
    }
  });

  it('replay prints a summary with counts per outcome', async () => {
    const store = join(dir, 'summary.sqlite');
    const r = await run('replay', '--json', '--cluster', 'kwok', '--store', store, log);
    expect(r.status, r.stderr).toBe(2); // the broken line: see the exit-code test below
    const s = JSON.parse(r.stdout);
    expect(s).toMatchObject({ eventsRead: 5, traced: 3, errors: 1, objects: 2 });
    expect(Object.values(s.skipped as Record<string, number>).reduce((a, b) => a + b, 0)).toBe(1); // the lease
    expect(s.errorSamples[0]).toMatch(/audit\.log:3:/);
    expect(s.spansWritten).toBeGreaterThanOrEqual(5);
    const human = (await run('replay', '--cluster', 'kwok', '--store', join(dir, 'human.sqlite'), log)).stdout;
    expect(human).toMatch(/events read: +5/);
    expect(human).toMatch(/events\/s/);
  });

  it("replay reads '-' as standard input, like a piped `zcat audit.log.gz`", async () => {
    const r = spawnCli(['replay', '--json', '--cluster', 'kwok', '--store', join(dir, 'stdin.sqlite'), '-'], { input: readFileSync(log, 'utf8') });
    expect(r.status, r.stderr).toBe(2); // the broken line
    expect(JSON.parse(r.stdout)).toMatchObject({ eventsRead: 5, traced: 3, errors: 1, objects: 2 });
  });

  it('replaying the same log twice stores every span once', async () => {
    const path = join(dir, 'twice.sqlite');
    expect((await run('replay', '--cluster', 'kwok', '--store', path, log)).status).toBe(2);
    const first = new SqliteStore(path);
    const n = first.count();
    await first.close();
    expect((await run('replay', '--cluster', 'kwok', '--store', path, log)).status).toBe(2);
    const again = new SqliteStore(path);
    expect(again.count()).toBe(n);
    expect(await new SqliteBackend(again).findObjects({ cluster: 'kwok', name: 'web', ...ALL_TIME, limit: 5 })).toHaveLength(1);
    await again.close();
  });

  it('reads options from a YAML --config file; command-line flags win', async () => {
    const cfg = join(dir, 'kubetrail.yaml');
    writeFileSync(cfg, 'cluster: from-config\nexcludeResource:\n  - apps/deployments\nbatchSize: 2\n');
    const s = JSON.parse((await run('replay', '--json', '--config', cfg, '--store', join(dir, 'cfg.sqlite'), log)).stdout);
    expect(s.traced).toBe(1); // deployments excluded by the file: only the Secret is traced
    const flagWins = JSON.parse((await run('replay', '--json', '--config', cfg, '--cluster', 'from-flag', '--store', join(dir, 'cfg2.sqlite'), log)).stdout);
    expect(flagWins.traced).toBe(1);
    for (const [file, cluster] of [
      ['cfg.sqlite', 'from-config'],
      ['cfg2.sqlite', 'from-flag'],
    ] as const) {
      const st = new SqliteStore(join(dir, file));
      expect(await new SqliteBackend(st).clusters()).toEqual([cluster]);
      await st.close();
    }
    writeFileSync(cfg, 'clusterName: typo\n');
    const bad = await run('replay', '--config', cfg, '--store', join(dir, 'cfg3.sqlite'), log);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/unknown option 'clusterName'/);
  });

  it('fails with a clear message for a missing file or bad flags', async () => {
    const missing = await run('replay', '--store', join(dir, 'm.sqlite'), join(dir, 'nope.log'));
    expect(`${missing.stdout}${missing.stderr}`).toMatch(/nope\.log/);
    const badWindow = await run('replay', '--window', '7x', '--store', join(dir, 'm.sqlite'), log);
    expect(badWindow.status).not.toBe(0);
    expect(badWindow.stderr).toMatch(/duration/);
    const both = await run('replay', '--store', join(dir, 'm.sqlite'), '--otlp-endpoint', 'http://127.0.0.1:4317', log);
    expect(both.status).not.toBe(0);
    expect(both.stderr).toMatch(/choose one sink/);
  });

  it('replay exits non-zero for a missing file and creates no store', async () => {
    const store = join(dir, 'missing.sqlite');
    const r = spawnCli(['replay', '--store', store, join(dir, 'nope.log')]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/nope\.log: no such file/);
    expect(existsSync(store)).toBe(false);
  });

  it('replay of a truncated .gz traces what it could read, then exits non-zero naming the file and line', async () => {
    const events = deploymentEvents('trunc').map((e) => JSON.stringify(e));
    // enough incompressible padding that half the gzip stream still holds whole lines
    const pad = (i: number) =>
      JSON.stringify({
        kind: 'Event',
        apiVersion: 'audit.k8s.io/v1',
        auditID: `pad-${i}`,
        stage: 'ResponseComplete',
        verb: 'get',
        requestURI: '/healthz',
        stageTimestamp: '2026-03-01T11:00:00Z',
        note: Buffer.from(Array.from({ length: 300 }, (_, j) => (i * 7919 + j * 104729) % 251)).toString('base64'),
      });
    const gz = gzipSync(`${[...events, ...Array.from({ length: 400 }, (_, i) => pad(i))].join('\n')}\n`);
    const file = join(dir, 'cut.log.gz');
    writeFileSync(file, gz.subarray(0, Math.floor(gz.length / 2)));
    const r = await run('replay', '--json', '--cluster', 'kwok', '--store', join(dir, 'cut.sqlite'), file);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/cut\.log\.gz:\d+: cannot read .*cut\.log\.gz completely \(stopped after line \d+\): unexpected end of file/);
    const s = JSON.parse(r.stdout);
    expect(s.traced).toBe(events.length); // the Deployment's events before the cut
  });

  it('the replay summary escapes control bytes from the input and says rejected, like the webhook', async () => {
    const file = join(dir, 'ctl.log');
    const evil = '\u001b]0;owned\u0007\u001b[2J\u202e{"kind":"Event"';
    writeFileSync(file, `${evil}\n${JSON.stringify(deploymentEvents('ctl')[0])}\n`);
    const r = await run('replay', '--cluster', 'kwok', '--store', join(dir, 'ctl.sqlite'), file);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f\u202e]/);
    expect(r.stdout).toContain('\\x1b');
    expect(r.stdout).toMatch(/rejected: +1\n +.*ctl\.log:1: invalid JSON/);
    const json = JSON.parse((await run('replay', '--json', '--cluster', 'kwok', '--store', join(dir, 'ctl2.sqlite'), file)).stdout);
    expect(json).toMatchObject({ traced: 1, rejected: 1, errors: 1 });
  });

  it('replay exits 0 when all input was used, 2 when some was rejected, 1 when nothing read could be used', async () => {
    const clean = join(dir, 'clean.log');
    writeFileSync(
      clean,
      `${deploymentEvents('clean')
        .map((e) => JSON.stringify(e))
        .join('\n')}\n`,
    );
    const ok = spawnCli(['replay', '--cluster', 'kwok', '--store', join(dir, 'exit0.sqlite'), clean]);
    expect(ok.status, ok.stderr).toBe(0);

    const some = spawnCli(['replay', '--cluster', 'kwok', '--store', join(dir, 'exit2.sqlite'), log]);
    expect(some.status, some.stderr).toBe(2);
    expect(some.stdout).toMatch(/traced: +3/); // the rest was replayed and summarised
    expect(some.stderr).toMatch(/1 of 5 items read was rejected as bad input/);

    const garbage = join(dir, 'garbage.log');
    writeFileSync(garbage, Array.from({ length: 40 }, (_, i) => `not json ${i}`).join('\n'));
    const none = spawnCli(['replay', '--cluster', 'kwok', '--store', join(dir, 'exit1.sqlite'), garbage]);
    expect(none.status, none.stderr).toBe(1);
    expect(none.stdout).toMatch(/rejected: +40/);
    expect(none.stderr).toMatch(/nothing replayed: all 40 items read were rejected \(first: .*garbage\.log:1: invalid JSON/);
  });

  it('the replay summary says how many rejected items it does not list', async () => {
    const file = join(dir, 'many-bad.log');
    writeFileSync(file, [...Array.from({ length: 25 }, (_, i) => `{"broken": ${i}`), JSON.stringify(deploymentEvents('many')[0])].join('\n'));
    const r = await run('replay', '--cluster', 'kwok', '--store', join(dir, 'many.sqlite'), file);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stdout).toMatch(/rejected: +25\n( {2}\S*many-bad\.log:\d+: invalid JSON.*\n){10} {2}… and 15 more not listed/);
  });

  it('an unknown command exits non-zero and names the closest command, even with --help', async () => {
    for (const args of [['frobnicate', '--help'], ['replya'], ['help', 'sevre']]) {
      const r = args[0] === 'frobnicate' ? spawnCli(args) : await run(...args);
      expect(r.status, args.join(' ')).not.toBe(0);
      const word = args[0] === 'help' ? args[1] : args[0];
      // the closest by edit distance among all commands (frobnicate: reenact, 7 edits)
      const closest = { frobnicate: 'reenact', replya: 'replay', sevre: 'serve' }[word!];
      expect(r.stderr).toMatch(new RegExp(`unknown command '${word}'.*closest command is '${closest}'`));
    }
  });

  it('demo replays a scenario and serves the UI with a link to its Deployment', async () => {
    const scenario = join(dir, 'scenario');
    spawnSync('mkdir', ['-p', scenario]);
    writeFileSync(
      join(scenario, 'audit.log'),
      `${deploymentEvents('web', 'demo')
        .map((e) => JSON.stringify(e))
        .join('\n')}\n`,
    );
    writeFileSync(join(scenario, 'timeline.tsv'), 'not a log\n'); // ignored
    writeFileSync(
      join(scenario, 'events.json'),
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'List',
        items: [
          {
            apiVersion: 'v1',
            kind: 'Event',
            metadata: { name: 'web.1', namespace: 'demo', uid: 'ev-1', resourceVersion: '7' },
            involvedObject: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', namespace: 'demo' },
            reason: 'ScalingReplicaSet',
            message: 'Scaled up replica set web-1 to 2',
            type: 'Normal',
            source: { component: 'deployment-controller' },
            firstTimestamp: '2026-03-01T10:00:01Z',
            lastTimestamp: '2026-03-01T10:00:01Z',
            count: 1,
          },
        ],
      }),
    );
    const child = spawn(process.execPath, [CLI, 'demo', '--port', '0', '--scenario', scenario, '--store', join(dir, 'demo.sqlite')], {
      env: { ...process.env, KUBETRAIL_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let out = '';
      const lines = await new Promise<string>((resolvePromise, reject) => {
        child.stdout.on('data', (d: Buffer) => {
          out += d;
          if (/Deployment .*redirect\?.*\n/.test(out)) resolvePromise(out);
        });
        child.on('exit', (code) => reject(new Error(`demo exited ${code}: ${out}`)));
      });
      const url = /kubetrail UI: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(lines)![1]!;
      const link = /Deployment demo\/web: (\S+)/.exec(lines)![1]!;
      expect(link).toContain(`${url}redirect?`);
      expect(link).toContain('resource=deployments');
      const res = await fetch(link, { redirect: 'manual' });
      expect(res.status).toBe(302);
      expect(res.headers.get('location')).toMatch(/^\/trace\/[0-9a-f]{32}$/);
      const trace = (await (await fetch(`${url}api${res.headers.get('location')!.replace('/trace/', '/traces/')}`)).json()) as { data: { spans: unknown[] }[] };
      expect(JSON.stringify(trace.data[0])).toContain('ScalingReplicaSet'); // the Events dump was replayed too
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('serve takes audit batches, then drains and exits 0 on SIGTERM with everything stored', async () => {
    const path = join(dir, 'serve.sqlite');
    const child = spawn(
      process.execPath,
      [
        CLI,
        'serve',
        '--webhook-port',
        '0',
        '--webhook-host',
        '127.0.0.1',
        '--no-query',
        '--no-informers',
        '--store',
        path,
        '--cluster',
        'dev',
        '--log-level',
        'info',
      ],
      {
        env: { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    let err = '';
    const port = await new Promise<number>((resolvePromise, reject) => {
      child.stderr.on('data', (d: Buffer) => {
        err += d;
        const m = /"port":(\d+)[^\n]*audit webhook listening/.exec(err);
        if (m) resolvePromise(Number(m[1]));
      });
      void exited.then((code) => reject(new Error(`serve exited ${code}: ${err}`)));
    });
    const res = await fetch(`http://127.0.0.1:${port}/audit`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', items: deploymentEvents('api') }),
    });
    expect(res.status).toBe(200);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const store = new SqliteStore(path);
    expect(await new SqliteBackend(store).findObjects({ cluster: 'dev', name: 'api', ...ALL_TIME, limit: 1 })).toHaveLength(1);
    await store.close();
  });
});
