// Command-line validation, in-process: a bad value is reported with the flag the user typed
// (never an internal field name such as windowSec), in one style, with exit code 1.
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/fixtures.ts';

describe('CLI validation', () => {
  const cases: [string[], RegExp][] = [
    [['replay', '--window', '90s', 'x.log'], /option '--window <duration>' argument '90s' is invalid\. must be a whole number of minutes/],
    [['replay', '--window', '7x', 'x.log'], /option '--window <duration>' argument '7x' is invalid\. not a duration/],
    [['replay', '--cache-bytes', '10k', 'x.log'], /option '--cache-bytes <size>' argument '10k' is invalid\. at least 1Mi/],
    [['replay', '--cache-size', '0', 'x.log'], /option '--cache-size <objects>' argument '0' is invalid\. not a positive integer/],
    [['replay', '--batch-size', '1.5', 'x.log'], /option '--batch-size <spans>' argument '1\.5' is invalid/],
    [
      ['replay', '--exclude-resource', 'pods', 'x.log'],
      /option '--exclude-resource <group\/resource>' argument 'pods' is invalid\. resources are given as group\/resource/,
    ],
    [['replay', '--redact', 'apps/deployments:', 'x.log'], /option '--redact <\[group\/resource:\]path>' argument 'apps\/deployments:' is invalid/],
    [['serve', '--webhook-port', '99999'], /option '--webhook-port <port>' argument '99999' is invalid\. not a TCP port/],
    [['serve', '--watch-resource', 'nodes'], /option '--watch-resource <group\/resource>' argument 'nodes' is invalid/],
    [['serve', '--jaeger-query', 'nope'], /option '--jaeger-query <url>' argument 'nope' is invalid\. not a URL/],
    [['query', '--jaeger-query', 'http://127.0.0.1:16686', '--window', '30s'], /option '--window <duration>' argument '30s' is invalid/],
    [['query', '--jaeger-query', 'http://127.0.0.1:16686', '--max-objects', 'lots'], /option '--max-objects <n>' argument 'lots' is invalid/],
    [['query', '--jaeger-query', 'http://127.0.0.1:16686', '--port', 'http'], /option '--port <port>' argument 'http' is invalid/],
    [['demo', '--port', '-1'], /option '--port <port>' argument '-1' is invalid/],
    [['serve', '--live-window', 'soon'], /option '--live-window <duration>' argument 'soon' is invalid\. not a duration/],
    [['serve', '--live-interval', '0'], /option '--live-interval <duration>' argument '0' is invalid\. must be more than 0/],
    [
      ['serve', '--live-threshold', 'deletionTimeoutSec=10s'],
      /option '--live-threshold <name=value>' argument 'deletionTimeoutSec=10s' is invalid\. expected <threshold>=<value>, threshold one of churnFactor, /,
    ],
    [
      ['serve', '--live-threshold', 'deletionTimeout=soon'],
      /option '--live-threshold <name=value>' argument 'deletionTimeout=soon' is invalid\. not a duration/,
    ],
  ];
  for (const [args, message] of cases) {
    it(`kubetrail ${args.join(' ')}`, async () => {
      const r = await runCli(...args);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`^kubetrail: ${message.source}`));
      expect(r.stderr).not.toMatch(/windowSec|cacheBytes|cacheSize|excludeResources/);
    });
  }

  it('a bad value in a --config file names the key, the flag and the reason', async () => {
    const dir = tempDir('kt-cli-parse-');
    const cfg = dir.file('kubetrail.yaml');
    writeFileSync(cfg, 'window: 90s\n');
    const r = await runCli('replay', '--config', cfg, '--store', dir.file('s.sqlite'), 'x.log');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/--config .*kubetrail\.yaml: window \(--window\) "90s" is invalid: must be a whole number of minutes/);
    dir.remove();
  });

  it('serve --help groups its options into sections', async () => {
    const help = (await runCli('serve', '--help')).stdout;
    const sections = [...help.matchAll(/^([A-Z][A-Za-z ,/()-]+):$/gm)].map((m) => m[1]);
    expect(sections).toEqual(expect.arrayContaining(['Audit webhook', 'Security', 'Informers', 'Query UI', 'Where spans go', 'What is traced', 'General']));
    // every section holds something, and the webhook flags sit under their heading
    const webhook = help.slice(help.indexOf('Audit webhook:'), help.indexOf('\n\n', help.indexOf('Audit webhook:')));
    expect(webhook).toContain('--webhook-port');
    expect(webhook).toContain('--max-body-bytes');
  });
});
