// docs/grafana/assisted-snapshots.json against the service's real /metrics: every PromQL
// expression parses (Prometheus' own grammar, @prometheus-io/lezer-promql, rather than regular
// expressions), and every metric it selects is one the service exposes, so a renamed series
// breaks this test instead of a dashboard panel going blank.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parser } from '@prometheus-io/lezer-promql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callback, createSnapshot, createVolume, startTestService, type TestService } from './helpers.js';
import { parsePrometheusText } from './prometheus-text.js';

const DASHBOARD = path.resolve(import.meta.dirname, '../../docs/grafana/assisted-snapshots.json');

interface Panel {
  title: string;
  type: string;
  datasource?: { type: string; uid: string };
  targets?: Array<{ expr: string }>;
  panels?: Panel[];
}

const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { uid: string; panels: Panel[]; templating: { list: Array<{ name: string }> } };
const allPanels = (ps: Panel[]): Panel[] => ps.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);
const queries = allPanels(dashboard.panels).flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));

/** Grafana's variables and macros, as Grafana substitutes them before Prometheus sees the query. */
const substitute = (expr: string) => expr.replaceAll('$__rate_interval', '5m').replaceAll('$__range', '1h').replaceAll('$job', '.*');

/** The metric names an expression selects; throws on a syntax error. */
function selectedMetrics(expr: string): string[] {
  const text = substitute(expr);
  const names: string[] = [];
  const errors: string[] = [];
  parser.parse(text).iterate({
    enter(node) {
      if (node.type.isError) errors.push(`at ${node.from}: ${text.slice(node.from, node.from + 20)}`);
      if (node.name === 'VectorSelector') {
        const id = node.node.getChild('Identifier');
        if (id) names.push(text.slice(id.from, id.to));
      }
    },
  });
  if (errors.length) throw new Error(`PromQL syntax error in ${expr}: ${errors.join('; ')}`);
  return names;
}

describe('the Grafana dashboard', () => {
  let t: TestService;
  let exposed: Set<string>;

  beforeAll(async () => {
    t = await startTestService();
    // One assisted create through a callback, so the histograms have samples too.
    const volume = await createVolume(t, 'attached', true);
    const id = await createSnapshot(t, volume, 'for-the-dashboard');
    await t.log.reached(id, 'creating.computeAssisted');
    expect((await callback(t, id, { status: 'creating', progress: '90%' })).status).toBe(202);
    await t.log.reached(id, 'available');
    const res = await t.call('GET', '/metrics', undefined, { 'X-Auth-Token': '' });
    const families = parsePrometheusText(await res.text());
    exposed = new Set<string>();
    for (const [name, family] of families) {
      exposed.add(name);
      for (const sample of family.samples) exposed.add(sample.name);
      if (family.type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) exposed.add(`${name}${suffix}`);
    }
  });

  afterAll(async () => {
    await t?.close();
  });

  it('has the panels the issue asks for, each on the dashboard data source', () => {
    const titles = allPanels(dashboard.panels).map((p) => p.title);
    expect(titles).toEqual(expect.arrayContaining(['Callbacks/s by form and result', 'Phase durations (p50, p95)', 'Snapshots per state', 'Deadline expiries', 'Outbox lag']));
    expect(dashboard.templating.list.map((v) => v.name)).toEqual(['datasource', 'job']);
    for (const p of allPanels(dashboard.panels).filter((p) => p.type !== 'row')) {
      expect(p.datasource, p.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
    }
  });

  it('queries only metrics the service exposes at /metrics', () => {
    const used = new Set(queries.flatMap((q) => selectedMetrics(q.expr)));
    // The extraction itself works: the series the issue names are among those found.
    expect([...used]).toEqual(
      expect.arrayContaining([
        'assisted_snapshots_callbacks_total',
        'assisted_snapshots_phase_duration_seconds_bucket',
        'assisted_snapshots_snapshots',
        'assisted_snapshots_timeouts_total',
        'assisted_snapshots_outbox_lag_seconds',
      ]),
    );
    const missing = [...used].filter((name) => !exposed.has(name));
    expect(missing).toEqual([]);
  });

  it('would catch a metric the service does not expose, and a syntax error', () => {
    expect(selectedMetrics('rate(assisted_snapshots_no_such_thing_total[5m])').filter((n) => !exposed.has(n))).toEqual(['assisted_snapshots_no_such_thing_total']);
    expect(() => selectedMetrics('sum by (phase (assisted_snapshots_snapshots)')).toThrow(/syntax error/);
  });
});
