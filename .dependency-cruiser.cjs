/**
 * The architecture, as rules `npm run lint` enforces (docs/architecture.md draws the same picture).
 *
 * Every import between folders of src/ must be allowed below; anything else fails. A new folder
 * therefore fails until it gets a rule of its own. Lower layers (errors, observability, config,
 * meta, contract) import no component; the receiver, the worker and admin never import each other.
 */

/** Which folders each folder of src/ may import (its own files and npm / node packages always). */
const LAYERS = {
  errors: [],
  observability: [],
  config: ['errors'],
  meta: ['errors'],
  contract: ['meta'],
  http: ['errors', 'observability'],
  // A tenant is cached in Redis, and the cache stores tenants: the two know each other's types.
  tenants: ['cache', 'errors', 'observability'],
  cache: ['contract', 'errors', 'observability', 'tenants'],
  storage: ['config', 'errors', 'observability'],
  integrations: ['cache', 'errors', 'observability', 'tenants'],
  messaging: ['contract', 'errors', 'meta', 'observability'],
  receiver: ['cache', 'contract', 'errors', 'http', 'messaging', 'meta', 'observability', 'tenants'],
  worker: ['cache', 'contract', 'errors', 'integrations', 'messaging', 'meta', 'observability', 'storage', 'tenants'],
  admin: ['cache', 'contract', 'errors', 'messaging', 'meta', 'observability', 'storage', 'tenants'],
  // Event subscriptions to tenants' endpoints, their API keys and PostgreSQL.
  subscriptions: ['errors', 'messaging', 'observability', 'tenants'],
  // The message ledger (events and message states in PostgreSQL), its trace and statistics.
  ledger: ['contract', 'errors', 'messaging', 'observability', 'storage', 'subscriptions', 'tenants'],
  // The web console: its static files, and the operator's overview (queue ages the workers report in Redis) and dead letters it reads.
  console: ['admin', 'cache', 'errors', 'messaging', 'observability'],
  // Composition: wires the components of each role.
  bootstrap: ['admin', 'cache', 'console', 'config', 'contract', 'errors', 'http', 'integrations', 'messaging', 'meta', 'observability', 'ledger', 'receiver', 'storage', 'subscriptions', 'tenants', 'worker', 'main'],
  cli: ['admin', 'bootstrap', 'config', 'errors', 'ledger', 'messaging', 'observability', 'subscriptions'],
};

const folderPath = (folder) => (folder === 'main' ? '^src/main[^/]*\\.ts$' : `^src/${folder}/`);

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Import cycles make start-up order and tests fragile (this replaces madge --circular).',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'receiver-not-worker-or-admin',
      severity: 'error',
      comment: 'The receiver answers Meta; it shares only the contract and messaging with the worker.',
      from: { path: '^src/receiver/' },
      to: { path: '^src/(worker|admin)/' },
    },
    {
      name: 'admin-not-worker-or-receiver',
      severity: 'error',
      comment: 'Admin (replay, caches) reads the contract, never the worker or the receiver.',
      from: { path: '^src/admin/' },
      to: { path: '^src/(worker|receiver)/' },
    },
    {
      name: 'lower-layers-import-no-component',
      severity: 'error',
      comment: 'errors, observability, config, meta and contract are imported by components, never the other way.',
      from: { path: '^src/(errors|observability|config|meta|contract)/' },
      to: { path: '^src/(receiver|worker|admin|cli|bootstrap|messaging|cache|storage|integrations|tenants|http)/' },
    },
  ],
  allowed: [
    { comment: 'npm packages and node built-ins', from: {}, to: { dependencyTypes: ['npm', 'npm-dev', 'npm-optional', 'npm-peer', 'core', 'type-only'], pathNot: '^src/' } },
    { comment: 'entry points compose everything', from: { path: '^src/main[^/]*\\.ts$' }, to: { path: '^src/' } },
    ...Object.entries(LAYERS).map(([folder, allowed]) => ({
      comment: `${folder} → ${allowed.join(', ') || 'nothing else'}`,
      from: { path: folderPath(folder) },
      to: { path: [folderPath(folder), ...allowed.map(folderPath)] },
    })),
  ],
  allowedSeverity: 'error',
  options: {
    includeOnly: '^src/',
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    moduleSystems: ['cjs', 'es6'],
    exclude: { path: '\\.d\\.ts$' },
  },
};

// Read by test/unit/architecture-doc.test.ts (not enumerable: dependency-cruiser's own schema does not know it).
Object.defineProperty(module.exports, 'layers', { value: LAYERS, enumerable: false });
