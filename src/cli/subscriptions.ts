import { parseArgs } from 'node:util';
import { ApiKeyStore, checkEndpointUrl, DeliveryStore, parseEventFilter, SubscriptionStore, type Caller, type DeliveryStatus } from '../subscriptions';
import { EXIT, fail, runCommand } from './cli-runtime';

const USAGE = `Usage: npm run subscriptions -- <command> [options]
       (in the image: node dist/cli/subscriptions.js …)

Tenant API keys (what a tenant's system sends as Authorization: Bearer):
  api-key create --tenant <id> --name <name>    prints the key once; only its hash is kept
  api-key list [--tenant <id>]
  api-key revoke <key id>

Subscriptions (what /v1/subscriptions manages, here for every tenant):
  list [--tenant <id>]
  create --tenant <id> --url <https url> [--filter 'message.*,status.read'] [--description <text>] [--paused]
                                                 prints the signing secret once
  get <id>
  pause <id> | resume <id>
  rotate-secret <id> [--overlap-seconds <n>]     (default 86400: the old secret signs that long too)
  delete <id> --yes

Deliveries (what was sent to a subscription's endpoint):
  deliveries <id> [--status pending|delivered|failed] [--since <ISO time>]
                                                 newest first, 100 at most
  resend <id> <delivery id>                      attempt one again now (same webhook-id)
  replay <id> --since <ISO time>                 attempt again every delivery that failed since then

Needs DATABASE_URL. Output: JSON on stdout. Exit status: 0 done, 1 not found, 2 bad options or configuration.
`;

const parsed = (() => {
  try {
    return parseArgs({
      options: {
        tenant: { type: 'string' },
        name: { type: 'string' },
        url: { type: 'string' },
        filter: { type: 'string', default: '#' },
        description: { type: 'string', default: '' },
        paused: { type: 'boolean', default: false },
        'overlap-seconds': { type: 'string', default: '86400' },
        status: { type: 'string' },
        since: { type: 'string' },
        yes: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
      allowPositionals: true,
    });
  } catch (err) {
    return fail(USAGE, (err as Error).message);
  }
})();
if (parsed.values.help || parsed.positionals.length === 0) {
  process.stdout.write(USAGE);
  process.exit(parsed.values.help ? EXIT.ok : EXIT.usage);
}

const { values, positionals } = parsed;
const [command, ...rest] = positionals;
const admin: Caller = { kind: 'admin' };
const print = (value: unknown): number => {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  return EXIT.ok;
};
const notFound = (what: string): number => {
  process.stderr.write(`no ${what} with this id\n`);
  return EXIT.failures;
};
const need = (value: string | undefined, what: string): string => {
  if (value === undefined) return fail(USAGE, `${command ?? ''}: ${what} is required`);
  // Ids are UUIDs: anything else names nothing (and PostgreSQL would refuse the query).
  if (what.endsWith(' id') && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value)) fail(USAGE, `${what}: not an id (a UUID)`);
  return value;
};

void runCommand(async ({ database, config, tenants }) => {
  if (!database) return fail(USAGE, 'DATABASE_URL is not set: subscriptions live in PostgreSQL');
  const subscriptions = new SubscriptionStore(database);
  const deliveries = new DeliveryStore(database);
  const since = (): Date | undefined => {
    if (values.since === undefined) return undefined;
    const at = new Date(values.since);
    return Number.isNaN(at.getTime()) ? fail(USAGE, '--since: an ISO time, e.g. 2026-12-01T00:00:00Z') : at;
  };
  const apiKeys = new ApiKeyStore(database);
  const checkTenant = async (tenantId: string): Promise<string> => {
    if ((await tenants.knows(tenantId)) === false) fail(USAGE, `--tenant: no tenant "${tenantId}"`);
    return tenantId;
  };

  if (command === 'api-key') {
    const [action, id] = rest;
    if (action === 'create') return print(await apiKeys.create(await checkTenant(need(values.tenant, '--tenant')), need(values.name, '--name')));
    if (action === 'list') return print(await apiKeys.list(values.tenant));
    if (action === 'revoke') return (await apiKeys.revoke(need(id, 'the key id'))) ? print({ revoked: id }) : notFound('API key');
    return fail(USAGE, 'api-key: create, list or revoke');
  }
  const id = rest[0];
  switch (command) {
    case 'list':
      return print(await subscriptions.list(admin, { tenantId: values.tenant, limit: 100 }));
    case 'create': {
      const created = await subscriptions.create(await checkTenant(need(values.tenant, '--tenant')), {
        url: checkEndpointUrl(need(values.url, '--url'), config.endpoints),
        description: values.description,
        filter: parseEventFilter(values.filter.split(',').map((p) => p.trim())),
        enabled: !values.paused,
      });
      if (created === 'too_many') return fail(USAGE, 'this tenant has as many subscriptions as it may (100)');
      return print({ ...created.subscription, secret: created.secret });
    }
    case 'get': {
      const found = await subscriptions.get(admin, need(id, 'the subscription id'));
      return found ? print(found) : notFound('subscription');
    }
    case 'pause':
    case 'resume': {
      const changed = await subscriptions.update(admin, need(id, 'the subscription id'), { enabled: command === 'resume' });
      return changed ? print(changed) : notFound('subscription');
    }
    case 'rotate-secret': {
      const overlap = Number(values['overlap-seconds']);
      if (!Number.isInteger(overlap) || overlap < 0 || overlap > 604_800) fail(USAGE, '--overlap-seconds: 0 to 604800');
      const rotated = await subscriptions.rotateSecret(admin, need(id, 'the subscription id'), overlap);
      return rotated ? print({ ...rotated.subscription, secret: rotated.secret }) : notFound('subscription');
    }
    case 'delete':
      if (!values.yes) fail(USAGE, 'delete needs --yes');
      return (await subscriptions.delete(admin, need(id, 'the subscription id'))) ? print({ deleted: id }) : notFound('subscription');
    case 'deliveries': {
      const status = values.status as DeliveryStatus | undefined;
      if (status !== undefined && !['pending', 'delivered', 'failed'].includes(status)) fail(USAGE, '--status: pending, delivered or failed');
      const subscriptionId = need(id, 'the subscription id');
      if (!(await subscriptions.get(admin, subscriptionId))) return notFound('subscription');
      return print(await deliveries.list(admin, subscriptionId, { status, since: since(), limit: 100 }));
    }
    case 'resend': {
      const resent = await deliveries.resend(admin, need(id, 'the subscription id'), { id: need(rest[1], 'the delivery id') });
      return resent > 0 ? print({ resent }) : notFound('delivery');
    }
    case 'replay': {
      const from = since() ?? fail(USAGE, 'replay: --since is required');
      const subscriptionId = need(id, 'the subscription id');
      if (!(await subscriptions.get(admin, subscriptionId))) return notFound('subscription');
      return print({ resent: await deliveries.resend(admin, subscriptionId, { failedSince: from }) });
    }
    default:
      return fail(USAGE, `unknown command "${command ?? ''}"`);
  }
});
