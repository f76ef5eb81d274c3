/**
 * Static checks of what ships besides the code (run by `npm run lint`, so CI fails on them):
 * - every manifest under k8s/ against Kubernetes' (and the Prometheus Operator's) schemas, and the
 *   kustomization's files exist;
 * - every variable the ConfigMap and Secret template set is one the service knows;
 * - every metric the alerts and the dashboard use is one the service exports;
 * - the Dockerfile lints clean (dockerfile-utils);
 * - the OpenAPI spec lints clean (Redocly).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validate as lintDockerfile } from 'dockerfile-utils';
import { parse, parseAllDocuments } from 'yaml';
import { describeVariables } from '../src/config';
import { Metrics } from '../src/observability';

const ROOT = join(__dirname, '..');
const K8S = join(ROOT, 'k8s');
const problems: string[] = [];

interface Manifest {
  file: string;
  doc: { apiVersion?: string; kind?: string; metadata?: { name?: string }; data?: Record<string, string>; stringData?: Record<string, string>; spec?: unknown };
}

async function modelFor(apiVersion: string, kind: string): Promise<(new (data: unknown) => { validate(): void }) | undefined> {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  const module =
    group === 'monitoring.coreos.com'
      ? `@kubernetes-models/prometheus-operator/${group}/${version}/${kind}`
      : `kubernetes-models/${group ? `${group}/` : ''}${version}/${kind}`;
  try {
    const loaded = (await import(module)) as Record<string, new (data: unknown) => { validate(): void }>;
    return loaded[kind];
  } catch {
    return undefined;
  }
}

function manifests(): Manifest[] {
  const kustomization = parse(readFileSync(join(K8S, 'kustomization.yaml'), 'utf8')) as {
    resources: string[];
    configMapGenerator?: Array<{ files: string[] }>;
  };
  const files = [...kustomization.resources, 'secret.example.yaml'];
  for (const file of [...files, ...(kustomization.configMapGenerator ?? []).flatMap((g) => g.files)]) {
    if (!existsSync(join(K8S, file))) problems.push(`k8s/kustomization.yaml: ${file} does not exist`);
  }
  return files
    .filter((file) => existsSync(join(K8S, file)))
    .flatMap((file) =>
      parseAllDocuments(readFileSync(join(K8S, file), 'utf8')).map((doc) => {
        if (doc.errors.length > 0) problems.push(`k8s/${file}: ${doc.errors.map((e) => e.message).join('; ')}`);
        return { file, doc: doc.toJS() as Manifest['doc'] };
      }),
    );
}

async function checkSchemas(all: Manifest[]): Promise<void> {
  for (const { file, doc } of all) {
    const where = `k8s/${file} (${doc.kind ?? '?'} ${doc.metadata?.name ?? '?'})`;
    const Model = doc.apiVersion && doc.kind ? await modelFor(doc.apiVersion, doc.kind) : undefined;
    if (!Model) {
      problems.push(`${where}: no schema for ${doc.apiVersion ?? '?'} ${doc.kind ?? '?'}`);
      continue;
    }
    try {
      new Model(doc).validate();
    } catch (err) {
      problems.push(`${where}: ${(err as Error).message}`);
    }
  }
}

function checkVariables(all: Manifest[]): void {
  const known = new Set<string>(describeVariables().map((v) => v.name));
  for (const { file, doc } of all) {
    const keys = doc.kind === 'ConfigMap' && doc.metadata?.name === 'whatsapp-webhook-config' ? Object.keys(doc.data ?? {}) : [];
    const secretKeys = doc.kind === 'Secret' && doc.metadata?.name === 'whatsapp-webhook-secrets' ? Object.keys(doc.stringData ?? {}) : [];
    for (const key of [...keys, ...secretKeys])
      if (!known.has(key)) problems.push(`k8s/${file}: ${key} is not a variable of the service (docs/configuration.md)`);
  }
}

async function checkMetricNames(all: Manifest[]): Promise<void> {
  const exported = new Set((await new Metrics().registry.getMetricsAsJSON()).map((m) => m.name));
  const expressions: Array<{ where: string; expr: string }> = [];
  for (const { file, doc } of all) {
    if (doc.kind !== 'PrometheusRule') continue;
    const groups = (doc.spec as { groups: Array<{ rules: Array<{ alert: string; expr: string }> }> }).groups;
    for (const rule of groups.flatMap((g) => g.rules)) expressions.push({ where: `k8s/${file} ${rule.alert}`, expr: rule.expr });
  }
  const dashboard = JSON.parse(readFileSync(join(K8S, 'grafana-dashboard.json'), 'utf8')) as {
    panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
  };
  for (const panel of dashboard.panels)
    for (const target of panel.targets) expressions.push({ where: `k8s/grafana-dashboard.json "${panel.title}"`, expr: target.expr });
  for (const { where, expr } of expressions) {
    const bare = expr.replace(/\b(by|without)\s*\([^)]*\)/g, '').replace(/\{[^}]*\}/g, '');
    const names = (bare.match(/[a-z_][a-z0-9_]*(?=\s*(\[|\)|$|\s*[<>=!]))/g) ?? []).filter((n) => n.includes('_'));
    for (const name of names) {
      const metric = name.replace(/_(bucket|sum|count)$/, '');
      if (!exported.has(metric) && !exported.has(name)) problems.push(`${where}: metric ${name} is not exported by the service`);
    }
  }
}

function checkDockerfile(): void {
  for (const d of lintDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'))) {
    problems.push(`Dockerfile:${d.range.start.line + 1}: ${typeof d.message === 'string' ? d.message : d.message.value}`);
  }
}

function checkOpenapi(): void {
  const result = spawnSync(join(ROOT, 'node_modules/.bin/redocly'), ['lint', 'openapi/openapi.yaml', '--format=stylish'], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
  });
  if (result.status !== 0) problems.push(`openapi/openapi.yaml: Redocly lint failed\n${result.stdout}${result.stderr}`);
}

async function main(): Promise<void> {
  const all = manifests();
  await checkSchemas(all);
  checkVariables(all);
  await checkMetricNames(all);
  checkDockerfile();
  checkOpenapi();
  if (problems.length > 0) {
    process.stderr.write(`Deployment checks failed:\n${problems.map((p) => `  - ${p}`).join('\n')}\n`);
    process.exit(1);
  }
  process.stdout.write(`Deployment checks passed: ${all.length} manifests, Dockerfile, OpenAPI spec.\n`);
}

void main();
