import { describe, expect, it } from 'vitest';
import { keyHash, rawTraceId } from '../../src/core/ids.ts';
import { decodeDisplayId, encodeDisplayId, parseServiceName, rawTraceIdOf, serviceNames, withMode } from '../../frontend-plugin/trace-id.ts';
import { parseDurationSec } from '../../src/core/duration.ts';

const KEY = 'kwok/apps/deployments/default/demo';
const WS = 1_700_000_400; // a whole minute

describe('display trace IDs', () => {
  it('encodes mode, object and windows into 32 hex digits that decode back', () => {
    const id = encodeDisplayId({ display: 'tracing', scope: 'default', keyHash: keyHash(KEY), windowStart: WS, windowCount: 2 });
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(id.startsWith('ff20000000')).toBe(true);
    expect(id.slice(10, 23)).toBe(keyHash(KEY));
    expect(id.slice(23, 30)).toBe((WS / 60).toString(16).padStart(7, '0'));
    expect(id.slice(30)).toBe('02');
    expect(decodeDisplayId(id)).toEqual({ display: 'tracing', scope: 'default', keyHash: keyHash(KEY), windowStart: WS, windowCount: 2 });
  });

  it('uses Kelemetry mode digits and round-trips every mode', () => {
    const expected: [Parameters<typeof withMode>[1], Parameters<typeof withMode>[2], string][] = [
      ['tracing', 'default', '20000000'],
      ['tracing', 'full', '21000000'],
      ['tracing', 'ancestors', '22000000'],
      ['tracing', 'owned', '24000000'],
      ['tree', 'default', '00000000'],
      ['timeline', 'full', '11000000'],
      ['grouped', 'owned', '34000000'],
    ];
    for (const [display, scope, digits] of expected) {
      const id = encodeDisplayId({ display, scope, keyHash: keyHash(KEY), windowStart: WS, windowCount: 255 });
      expect(id.slice(2, 10)).toBe(digits);
      expect(decodeDisplayId(id)).toMatchObject({ display, scope, windowCount: 255 });
    }
  });

  it('swapping the 8 mode digits shows the same lookup in another mode', () => {
    const id = encodeDisplayId({ display: 'tracing', scope: 'default', keyHash: keyHash(KEY), windowStart: WS, windowCount: 3 });
    const tree = withMode(id, 'tree', 'full');
    expect(tree.slice(0, 10)).toBe('ff01000000');
    expect(tree.slice(10)).toBe(id.slice(10));
    const handSwapped = 'ff24000000' + id.slice(10);
    expect(decodeDisplayId(handSwapped)).toMatchObject({ display: 'tracing', scope: 'owned', keyHash: keyHash(KEY), windowCount: 3 });
  });

  it('derives the raw trace ID of each window from the key hash alone', () => {
    const d = decodeDisplayId(encodeDisplayId({ display: 'tree', scope: 'default', keyHash: keyHash(KEY), windowStart: WS, windowCount: 2 }))!;
    expect(rawTraceIdOf(d, 1800, 0)).toBe(rawTraceId(KEY, WS));
    expect(rawTraceIdOf(d, 1800, 1)).toBe(rawTraceId(KEY, WS + 1800));
  });

  it('rejects what is not a display ID', () => {
    expect(decodeDisplayId(rawTraceId(KEY, WS))).toBeUndefined();
    expect(decodeDisplayId('ff5000000' + '0'.repeat(23))).toBeUndefined(); // unknown display digit
    expect(decodeDisplayId('ff2000000' + '0'.repeat(22) + '00')).toBeUndefined(); // zero windows / wrong length
    expect(decodeDisplayId('hello')).toBeUndefined();
    expect(() => encodeDisplayId({ display: 'tracing', scope: 'default', keyHash: keyHash(KEY), windowStart: WS + 1, windowCount: 1 })).toThrow(/minutes/);
    expect(() => encodeDisplayId({ display: 'tracing', scope: 'default', keyHash: keyHash(KEY), windowStart: WS, windowCount: 256 })).toThrow(/window count/);
  });

  it('names the modes as Kelemetry does and parses them back', () => {
    const names = serviceNames();
    expect(names).toContain('tracing');
    expect(names).toContain('tracing (full tree)');
    expect(names).toContain('tree (ancestors)');
    expect(names).toContain('grouped (owned objects)');
    expect(names).toHaveLength(16);
    for (const n of names) expect(parseServiceName(n)).toBeDefined();
    expect(parseServiceName('timeline (full tree)')).toEqual({ display: 'timeline', scope: 'full' });
    expect(parseServiceName(undefined)).toEqual({ display: 'tracing', scope: 'default' });
    expect(parseServiceName('jaeger')).toBeUndefined();
  });

  it('parses durations as users type them', () => {
    expect(parseDurationSec('30m')).toBe(1800);
    expect(parseDurationSec('1h30m')).toBe(5400);
    expect(parseDurationSec('2d')).toBe(172800);
    expect(parseDurationSec('600')).toBe(600);
    expect(() => parseDurationSec('soon')).toThrow(/not a duration/);
  });
});
