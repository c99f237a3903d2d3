import { describe, expect, it } from 'vitest';
import { Command } from 'commander';
import { addTracerOptions, parseByteSize, tracerConfigFrom, type TracerCliOptions } from '../../src/commands/options.ts';
import { Pipeline } from '../../src/pipeline/pipeline.ts';

describe('--cache-size / --cache-bytes', () => {
  it('accept plain bytes and Kubernetes-style suffixes, refuse anything else', () => {
    expect(parseByteSize('268435456')).toBe(268435456);
    expect(parseByteSize('256Mi')).toBe(256 * 1024 * 1024);
    expect(parseByteSize('1Gi')).toBe(1024 ** 3);
    expect(parseByteSize('500M')).toBe(500e6);
    for (const bad of ['', 'lots', '-1', '1Ti', '0']) expect(() => parseByteSize(bad)).toThrow(/byte size/);
  });

  it('reach the pipeline config; unset flags keep the defaults', () => {
    const parse = (...args: string[]) => {
      const cmd = addTracerOptions(new Command('x').exitOverride()).action(() => {});
      cmd.parse(args, { from: 'user' });
      return new Pipeline(tracerConfigFrom(cmd.opts() as TracerCliOptions)).config;
    };
    expect(parse('--cache-size', '5000', '--cache-bytes', '64Mi')).toMatchObject({ cacheSize: 5000, cacheBytes: 64 * 1024 * 1024 });
    expect(parse()).toMatchObject({ cacheSize: 100_000, cacheBytes: 256 * 1024 * 1024 });
  });
});
