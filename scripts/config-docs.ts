/**
 * Writes .env.example and docs/configuration.md from the configuration schema
 * (`npm run docs:config`). A test regenerates both and fails when the committed files differ.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeVariables, type EnvName } from '../src/config';

/** Values .env.example sets for local use where the schema has no default (or a different one). */
export const LOCAL_VALUES: Partial<Record<EnvName, string>> = {
  MINIO_ACCESS_KEY: 'minioadmin',
  MINIO_SECRET_KEY: 'minioadmin',
  TENANTS_FILE: 'config/tenants.demo.json',
  RABBITMQ_MANAGEMENT_URL: 'http://guest:guest@127.0.0.1:15672',
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/wws',
  ALLOW_INSECURE_ENDPOINTS: 'true',
  // The operator's sign-in to the console (http://localhost:3000/console/) in local use.
  ADMIN_TOKEN: 'local-admin-token-not-for-production-0000',
};

export function renderEnvExample(): string {
  const lines = [
    '# whatsapp-webhook-service configuration for local use: `npm run dev` reads this file when there is no .env.',
    '# Copy it to .env to change anything. Every variable is documented in docs/configuration.md.',
    '',
  ];
  for (const v of describeVariables()) {
    lines.push(`# ${v.description}${v.defaultValue !== undefined ? ` Default: ${v.defaultValue || '(empty)'}.` : ''}`);
    const value = LOCAL_VALUES[v.name] ?? v.defaultValue;
    lines.push(value === undefined ? `# ${v.name}=` : `${v.name}=${value}`);
    lines.push('');
  }
  return lines.join('\n');
}

export function renderConfigDoc(): string {
  const rows = describeVariables().map((v) => {
    const def = v.required ? '**required**' : v.defaultValue === undefined ? '(unset)' : `\`${v.defaultValue || '(empty)'}\``;
    return `| \`${v.name}\` | ${def} | ${v.secret ? 'yes' : ''} | ${v.description.replace(/\|/g, '\\|')} |`;
  });
  return [
    '# Configuration',
    '',
    'Every setting is an environment variable, validated once at start: a missing or malformed one stops the',
    'service with a message naming it (all problems at once). `.env` is read when present (`ENV_FILE` names',
    'another file); variables already in the environment win. Secret values never appear in logs or errors.',
    '',
    'This table is generated from `src/config/config.schema.ts` by `npm run docs:config`; a test fails when it is stale.',
    '',
    '| Variable | Default | Secret | What it does |',
    '| --- | --- | --- | --- |',
    ...rows,
    '',
    'One of `TENANTS_FILE` and `TENANT_SERVICE_URL` must be set. The tenants file is a JSON array of tenant records:',
    '',
    '```json',
    '[{ "id": "acme", "name": "Acme", "businessAccountId": "102290129340398", "phoneNumberIds": ["106540352242922"],',
    '   "appSecret": "…", "verifyToken": "…", "accessToken": "…", "rateLimitPerMinute": 1000 }]',
    '```',
    '',
    'While an app secret is rotated, a record may also carry `"previousAppSecret"` with `"previousAppSecretExpiresAt"`',
    '(an ISO time): both secrets verify until then (see the runbook, "Rotating a tenant\'s app secret").',
    '',
  ].join('\n');
}

if (require.main === module) {
  const root = join(__dirname, '..');
  writeFileSync(join(root, '.env.example'), renderEnvExample());
  writeFileSync(join(root, 'docs/configuration.md'), renderConfigDoc());
  process.stdout.write('wrote .env.example and docs/configuration.md\n');
}
