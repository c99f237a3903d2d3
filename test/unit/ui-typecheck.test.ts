// The built-in UI stays build-free but type-checked: every browser module opts in with
// `// @ts-check`, and scripts/test.sh runs `tsc -p frontend-plugin/tsconfig.ui.json` over them.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const dir = new URL('../../frontend-plugin/ui/', import.meta.url);

describe('the built-in UI modules', () => {
  it('each opt in to type checking (// @ts-check on its first line), a new one included', () => {
    const modules = readdirSync(dir).filter((f) => f.endsWith('.js'));
    expect(modules.length).toBeGreaterThan(10);
    const unchecked = modules.filter((f) => readFileSync(new URL(f, dir), 'utf8').split('\n', 1)[0] !== '// @ts-check');
    expect(unchecked).toEqual([]);
  });
});
