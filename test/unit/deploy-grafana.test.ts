// deploy/grafana/kubetrail.json against Grafana's published schema: the @grafana/schema package
// (TypeScript types generated from Grafana's CUE schema; it ships no JSON Schema). The dashboard
// is type-checked as an object literal (excess keys and wrong types are errors) as a v1 Dashboard,
// and each time series panel with its panel-specific Options and FieldConfig. Whether its queries
// return data is proven against a real Prometheus in test/integration/deploy-prometheus.test.ts.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const text = readFileSync(join(ROOT, 'deploy/grafana/kubetrail.json'), 'utf8');
const dashboard = JSON.parse(text);

/** Type-checks `source` as a file in the repository; returns the error messages. */
function typecheck(source: string): string[] {
  const file = join(ROOT, 'test/unit/__grafana_dashboard_check.ts');
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const read = host.readFile.bind(host);
  host.readFile = (f) => (f === file ? source : read(f));
  const exists = host.fileExists.bind(host);
  host.fileExists = (f) => f === file || exists(f);
  const getSource = host.getSourceFile.bind(host);
  host.getSourceFile = (f, lang, ...rest) => (f === file ? ts.createSourceFile(f, source, lang) : getSource(f, lang, ...rest));
  const program = ts.createProgram([file], options, host);
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const where = d.file && d.start !== undefined ? `line ${d.file.getLineAndCharacterOfPosition(d.start).line + 1}: ` : '';
    return where + ts.flattenDiagnosticMessageText(d.messageText, '\n');
  });
}

const header = `
import type { Dashboard, Panel } from '@grafana/schema';
import type { Options as TimeSeriesOptions, FieldConfig as TimeSeriesFieldConfig } from '@grafana/schema/dist/esm/raw/composable/timeseries/panelcfg/x/TimeSeriesPanelCfg_types.gen';
// JSON holds an enum's value, not its TypeScript name: accept the values of string enums
// (the Panel type takes the options type as a parameter but does not use it: put it in)
type TimeSeriesPanel = Omit<Panel<TimeSeriesOptions, TimeSeriesFieldConfig>, 'options'> & { options: TimeSeriesOptions };
type Json<T> = T extends string ? \`\${T}\` : T extends readonly (infer U)[] ? Json<U>[] : T extends object ? { [K in keyof T]: Json<T[K]> } : T;
`;

describe('Grafana dashboard deploy/grafana/kubetrail.json', () => {
  it('is a valid Dashboard of @grafana/schema, every time series panel valid with its panel options', () => {
    const panels = dashboard.panels.map((p: any, i: number) => {
      expect(p.type, p.title).toBe('timeseries');
      return `const panel${i}: Json<TimeSeriesPanel> = ${JSON.stringify(p, null, 2)};`;
    });
    const source = `${header}\nconst dashboard: Json<Dashboard> = ${text};\n${panels.join('\n')}\nexport { dashboard };\n`;
    expect(typecheck(source)).toEqual([]);
  });

  it('the check is real: a wrong type, an unknown key and an unknown enum value are refused', () => {
    const check = (d: unknown, p: unknown = dashboard.panels[0]) =>
      typecheck(`${header}
const d: Json<Dashboard> = ${JSON.stringify(d)};
const p: Json<TimeSeriesPanel> = ${JSON.stringify(p)};
export { d, p };
`).join('\n');
    expect(check(dashboard)).toBe('');
    expect(check({ ...dashboard, graphTooltip: 'shared' })).toMatch(/'string' is not assignable to type 'DashboardCursorSync/);
    expect(check({ ...dashboard, refreshh: '30s' })).toMatch(/'"refreshh"' does not exist/);
    expect(check({ ...dashboard, schemaVersion: undefined })).toMatch(/schemaVersion/);
    const p = dashboard.panels[0];
    expect(check(dashboard, { ...p, options: { ...p.options, tooltip: { mode: 'all', sort: 'desc' } } })).toMatch(/"all"/);
    expect(
      check(dashboard, {
        ...p,
        fieldConfig: { ...p.fieldConfig, defaults: { ...p.fieldConfig.defaults, custom: { ...p.fieldConfig.defaults.custom, drawStyle: 'area' } } },
      }),
    ).toMatch(/"area"/);
  });

  it('has the panels the issue asks for, each on the data source and job variables, none overlapping', () => {
    expect(dashboard.panels.map((p: any) => p.title)).toEqual([
      'Ingest rate by source and outcome',
      'Event lag p50 / p99',
      'Sink queue depth',
      'Sink writes and failures',
      'Rejected audit batches by reason',
      'Webhook requests by code',
      'Process CPU',
      'Process memory (RSS, heap)',
    ]);
    const cells = new Set<string>();
    for (const p of dashboard.panels) {
      expect(p.datasource).toEqual({ type: 'prometheus', uid: '${datasource}' });
      for (const t of p.targets) expect(t.expr, p.title).toContain('job=~"$job"');
      for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++) {
        for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
          expect(cells.has(`${x},${y}`), `${p.title} overlaps at ${x},${y}`).toBe(false);
          cells.add(`${x},${y}`);
        }
      }
      expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
    }
    expect(new Set(dashboard.panels.map((p: any) => p.id)).size).toBe(dashboard.panels.length);
    expect(dashboard.templating.list.map((v: any) => v.name)).toEqual(['datasource', 'job']);
  });
});
