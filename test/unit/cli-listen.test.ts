// Listeners are loopback or authenticated by default (serve's webhook and query UI, query, demo).
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { checkListen, isLoopback } from '../../src/commands/options.ts';
import { serveCommand } from '../../src/commands/serve.ts';
import { queryCommand } from '../../src/commands/query.ts';
import { demoCommand } from '../../src/commands/demo.ts';
import { CLI, runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/fixtures.ts';

describe('listen addresses', () => {
  it('default to loopback on every command', () => {
    expect(serveCommand().opts()).toMatchObject({ webhookHost: '127.0.0.1', queryHost: '127.0.0.1' });
    expect(queryCommand().opts()).toMatchObject({ host: '127.0.0.1' });
    expect(demoCommand().opts()).toMatchObject({ host: '127.0.0.1' });
  });

  it('knows loopback addresses', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1']) expect(isLoopback(h), h).toBe(true);
    for (const h of ['0.0.0.0', '::', '10.0.0.5', 'example.com', '[::]']) expect(isLoopback(h), h).toBe(false);
  });

  it('a non-loopback address needs authentication or --allow-unauthenticated, which warns', () => {
    const base = { flag: '--webhook-host', host: '0.0.0.0', authFlags: '--webhook-token', allowUnauthenticated: false };
    expect(() => checkListen(base)).toThrow(/--webhook-host 0\.0\.0\.0 is not a loopback address.*--webhook-token.*--allow-unauthenticated/);
    expect(checkListen({ ...base, authentication: 'bearer token' })).toBeUndefined();
    expect(checkListen({ ...base, host: '127.0.0.1' })).toBeUndefined();
    expect(checkListen({ ...base, allowUnauthenticated: true })).toMatch(/without authentication/);
  });

  it('query and demo refuse a non-loopback --host without --allow-unauthenticated (their UI has no authentication)', async () => {
    for (const args of [
      ['query', '--jaeger-query', 'http://127.0.0.1:1', '--host', '0.0.0.0'],
      ['demo', '--host', '::', '--port', '0'],
    ]) {
      const r = await runCli(...args);
      expect(r.status, args.join(' ')).toBe(1);
      expect(r.stderr).toMatch(/--host (0\.0\.0\.0|::) is not a loopback address .*--allow-unauthenticated/);
    }
    const serveUi = await runCli('serve', '--query-host', '0.0.0.0', '--webhook-token', 't', '--no-informers', '--webhook-port', '0');
    expect(serveUi.status).toBe(1);
    expect(serveUi.stderr).toMatch(/--query-host 0\.0\.0\.0 is not a loopback address/);
  });

  it('serve refuses 0.0.0.0 without authentication (exit 1, no store), and with --allow-unauthenticated logs a warning and listens', async () => {
    const dir = tempDir('kt-listen-').path;
    const args = ['serve', '--webhook-host', '0.0.0.0', '--webhook-port', '0', '--no-query', '--no-informers', '--store', join(dir, 's.sqlite')];
    const runServe = (extra: string[], until?: RegExp) =>
      new Promise<{ code: number | null; out: string }>((res) => {
        const child = spawn(process.execPath, [CLI, ...args, ...extra], {
          env: { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: '', KUBETRAIL_LOG_LEVEL: 'info' },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let out = '';
        const onData = (d: Buffer) => {
          out += d;
          if (until?.test(out) && !child.killed) child.kill('SIGKILL');
        };
        child.stdout.on('data', onData);
        child.stderr.on('data', onData);
        child.on('exit', (code) => res({ code, out }));
      });
    const refused = await runServe([]);
    expect(refused.code).toBe(1);
    expect(refused.out).toMatch(/--webhook-host 0\.0\.0\.0 is not a loopback address/);
    expect(existsSync(join(dir, 's.sqlite'))).toBe(false);
    const allowed = await runServe(['--allow-unauthenticated'], /audit webhook listening/);
    expect(allowed.out).toMatch(/"level":40[^\n]*without authentication/);
    expect(allowed.out).toMatch(/audit webhook listening/);
    const token = await runServe(['--webhook-token', 'shh'], /audit webhook listening/);
    expect(token.out).toMatch(/"level":40[^\n]*bearer token travels in clear text/);
    expect(token.out).not.toContain('shh');
  });
});
