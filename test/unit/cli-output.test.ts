// What the CLI prints from its input is safe for a terminal.
import { describe, expect, it } from 'vitest';
import { escapeControl, formatSummary } from '../../src/sources/replay.ts';

describe('escapeControl', () => {
  it('makes C0/C1 controls, DEL and bidi overrides visible and leaves other text alone', () => {
    expect(escapeControl('a\u001b[31mb\u0007c\u009bd\u007fe\u202ef\u2066g\r\n\t')).toBe('a\\x1b[31mb\\x07c\\x9bd\\x7fe\\u202ef\\u2066g\\r\\n\\t');
    expect(escapeControl('pods "web-1" — ünïcödé ✓')).toBe('pods "web-1" — ünïcödé ✓');
  });

  it('is applied to the reasons and samples of the replay summary', () => {
    const text = formatSummary({
      eventsRead: 2,
      traced: 0,
      skipped: { 'excluded \u001b]0;x\u0007': 1 },
      errors: 1,
      errorSamples: ['a.log:1: invalid JSON \u001b[2J'],
      objects: 0,
      spansWritten: 0,
      elapsedSec: 1,
      eventsPerSec: 2,
    });
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f]/);
    expect(text).toContain('excluded \\x1b]0;x\\x07: 1');
    expect(text).toMatch(/rejected: +1\n {2}a\.log:1: invalid JSON \\x1b\[2J/);
  });
});
