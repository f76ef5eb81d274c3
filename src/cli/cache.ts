import { parseArgs } from 'node:util';
import { EXIT, fail, runCommand } from './cli-runtime';

const USAGE = `Usage: npm run cache -- invalidate --tenant <id>
       npm run cache -- invalidate --all
       npm run cache -- warm
       (in the image: node dist/cli/cache.js …)

invalidate   deletes the tenant's cached record and access token from Redis and tells every
             running instance to drop what it keeps in memory (and re-read a tenants file);
             do it after changing a tenant's secret, token or phone numbers
warm         loads every tenant of TENANTS_FILE (or TENANT_WARM_ACCOUNT_IDS from the Tenant
             Service) into the Redis cache

Prints the result as JSON on stdout. Exit status: 0 on success, 2 for bad options or configuration.
`;

function options(): { action: 'invalidate' | 'warm'; tenantId: string | undefined } {
  let parsed;
  try {
    parsed = parseArgs({
      options: { tenant: { type: 'string' }, all: { type: 'boolean', default: false }, help: { type: 'boolean', default: false } },
      allowPositionals: true,
    });
  } catch (err) {
    fail(USAGE, (err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(EXIT.ok);
  }
  const [action] = positionals;
  if (action === 'warm' && positionals.length === 1) return { action, tenantId: undefined };
  if (action !== 'invalidate' || positionals.length !== 1) fail(USAGE, 'expected invalidate or warm');
  if (Boolean(values.tenant) === values.all) fail(USAGE, 'invalidate needs exactly one of --tenant <id> and --all');
  return { action, tenantId: values.tenant };
}

const { action, tenantId } = options();
void runCommand(async (infra) => {
  const result =
    action === 'warm' ? { tenants: await infra.cacheControl.warm(infra.config.tenants.warmAccountIds) } : await infra.cacheControl.invalidate(tenantId);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  return EXIT.ok;
});
