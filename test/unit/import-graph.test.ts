// The layering of docs/architecture.md, checked over every relative import of every source file:
// an import may point to its own layer or a lower one, never up.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');

/** Layer of a source file by its path (lower number = lower layer); first match wins. */
const LAYERS: [prefix: string, rank: number, name: string][] = [
  ['src/core/', 0, 'core'],
  ['src/normalize/', 1, 'write path: normalize'],
  ['src/decorate/', 1, 'write path: decorate'],
  ['linkers/', 1, 'write path: linkers'],
  ['src/aggregate/', 2, 'write path: aggregate'],
  ['src/pipeline/', 3, 'write path: pipeline'],
  ['src/sources/', 4, 'write path: sources'],
  ['src/sinks/', 5, 'sinks'],
  ['frontend-plugin/diagnose/', 6, 'read path: diagnosis'],
  ['frontend-plugin/', 6, 'read path'],
  ['src/commands/', 7, 'CLI'],
  ['src/cli.ts', 7, 'CLI'],
];

function layerOf(path: string): { rank: number; name: string } | undefined {
  for (const [prefix, rank, name] of LAYERS) if (path === prefix || path.startsWith(prefix)) return { rank, name };
  return undefined;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== 'node_modules' && e.name !== 'vendor') out.push(...sourceFiles(p));
    } else if (/\.(ts|js|mjs)$/.test(e.name)) out.push(p);
  }
  return out;
}

const IMPORT =
  /(?:^|[^\w.])(?:import|export)\s[^'"]*?from\s*['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]|new URL\(\s*['"](\.{1,2}\/[^'"]+)['"]/g;

function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2] ?? m[3]!;
    if (!/\.[a-z]+$/.test(spec)) continue; // a directory URL (e.g. the repository root), not a module
    out.push(relative(ROOT, resolve(ROOT, dirname(file), spec)));
  }
  return out;
}

const FILES = ['src', 'linkers', 'frontend-plugin'].flatMap(sourceFiles);

describe('import graph', () => {
  it('every source file belongs to a layer', () => {
    expect(FILES.filter((f) => !layerOf(f))).toEqual([]);
  });

  it('finds the imports it checks', () => {
    // guards the regular expression: the pipeline imports the write-path stages
    expect(importsOf('src/pipeline/pipeline.ts')).toContain('linkers/index.ts');
    expect(FILES.length).toBeGreaterThan(50);
  });

  it('no import points up a layer', () => {
    const against: string[] = [];
    for (const f of FILES) {
      const from = layerOf(f)!;
      for (const target of importsOf(f)) {
        if (target.startsWith('node_modules/')) continue;
        const to = layerOf(target);
        if (!to) against.push(`${f} -> ${target} (outside every layer)`);
        else if (to.rank > from.rank) against.push(`${f} (${from.name}) -> ${target} (${to.name})`);
      }
    }
    expect(against).toEqual([]);
  });

  it('production code imports nothing from test/ or bench/', () => {
    const bad = FILES.flatMap((f) =>
      importsOf(f)
        .filter((t) => t.startsWith('test/') || t.startsWith('bench/'))
        .map((t) => `${f} -> ${t}`),
    );
    expect(bad).toEqual([]);
  });
});
