import { readFileSync } from 'node:fs';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { Express } from 'express';
import type { Response } from 'supertest';
import { parse } from 'yaml';
import { OPENAPI_FILE } from '../../src/http';

type Json = Record<string, unknown>;
export const spec = parse(readFileSync(OPENAPI_FILE, 'utf8')) as Json & { paths: Record<string, Record<string, Json>> };

const ajv = new Ajv2020({ strict: false, validateSchema: false, allErrors: true });
addFormats(ajv);
ajv.addSchema(spec, 'spec');

function resolve(node: Json): Json {
  const ref = node.$ref;
  if (typeof ref !== 'string') return node;
  return ref
    .slice(2)
    .split('/')
    .reduce<Json>((at, part) => at[part.replace(/~1/g, '/').replace(/~0/g, '~')] as Json, spec);
}

const pointer = (...parts: string[]): string => parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');

/** What is wrong with a real response compared with the spec (empty: it conforms). */
export function specViolations(method: string, path: string, res: Response): string[] {
  const operation = spec.paths[path]?.[method.toLowerCase()];
  if (!operation) return [`${method} ${path} is not in the spec`];
  const responses = operation.responses as Record<string, Json>;
  const documented = responses[String(res.status)];
  if (!documented) return [`${method} ${path} answered ${res.status}, which the spec does not list`];
  const response = resolve(documented);
  const problems: string[] = [];
  for (const [name, header] of Object.entries((response.headers ?? {}) as Record<string, Json>)) {
    if (resolve(header).required === true && res.headers[name.toLowerCase()] === undefined) problems.push(`header ${name} missing`);
  }
  const content = response.content as Record<string, Json> | undefined;
  if (!content) return problems;
  const type = String(res.headers['content-type'] ?? '').split(';')[0]!;
  if (!content[type]) return [...problems, `content type ${type} not documented (${Object.keys(content).join(', ')})`];
  if (type === 'application/json') {
    const status = Object.keys(responses).find((s) => s === String(res.status))!;
    const base = typeof documented.$ref === 'string' ? documented.$ref.slice(2) : pointer('paths', path, method.toLowerCase(), 'responses', status);
    const validate = ajv.getSchema(`spec#/${base}/${pointer('content', type, 'schema')}`);
    if (!validate) return [...problems, 'schema not found'];
    if (!validate(res.body)) problems.push(...(validate.errors ?? []).map((e) => `body${e.instancePath} ${e.message ?? ''}`));
  }
  return problems;
}

const METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']);

/** The operations of a path item (not its shared `parameters`). */
export function operationsOf(item: Record<string, Json>): Array<[string, Json]> {
  return Object.entries(item).filter(([key]) => METHODS.has(key));
}

/** Every documented method + path + status, e.g. `post /webhook 401`. */
export function documentedResponses(): string[] {
  return Object.entries(spec.paths).flatMap(([path, item]) =>
    operationsOf(item).flatMap(([method, op]) => Object.keys(op.responses as Json).map((status) => `${method} ${path} ${status}`)),
  );
}

/** `method path` of every route an Express app serves (mounted routers included). */
export function appRoutes(app: Express): string[] {
  const out: string[] = [];
  const walk = (stack: unknown[]): void => {
    for (const layer of stack as Array<{ route?: { path: string; methods: Record<string, boolean> }; handle?: { stack?: unknown[] } }>) {
      // Express's `:id` is the spec's `{id}`.
      if (layer.route) for (const method of Object.keys(layer.route.methods)) out.push(`${method} ${layer.route.path.replace(/:(\w+)/g, '{$1}')}`);
      else if (layer.handle?.stack) walk(layer.handle.stack);
    }
  };
  walk((app as unknown as { router: { stack: unknown[] } }).router.stack);
  return out;
}
