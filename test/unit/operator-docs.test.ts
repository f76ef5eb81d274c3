import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { Metrics } from '../../src/observability';

const ROOT = join(__dirname, '../..');
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const runbook = readFileSync(join(ROOT, 'docs/runbook.md'), 'utf8');

describe('operator docs', () => {
  it('when a metric is registered, then the README lists it by name', async () => {
    const names = (await new Metrics({ defaultMetrics: false }).registry.getMetricsAsJSON()).map((metric) => metric.name);
    expect(names.length).toBeGreaterThan(20);
    expect(names.filter((name) => !readme.includes(`\`${name}\``))).toEqual([]);
  });

  it('when an alert is defined, then the README names it and the runbook has a section saying what to do', () => {
    const rule = parse(readFileSync(join(ROOT, 'k8s/prometheusrule.yaml'), 'utf8')) as { spec: { groups: Array<{ rules: Array<{ alert?: string }> }> } };
    const alerts = rule.spec.groups.flatMap((group) => group.rules.flatMap((r) => (r.alert ? [r.alert] : [])));
    expect(alerts.length).toBeGreaterThan(5);
    expect(alerts.filter((alert) => !readme.includes(`\`${alert}\``))).toEqual([]);
    expect(alerts.filter((alert) => !runbook.includes(`### ${alert}\n`))).toEqual([]);
  });
});
