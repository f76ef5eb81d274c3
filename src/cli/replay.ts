import { parseArgs } from 'node:util';
import { ReplayService, type ReplayRequest } from '../admin';
import { EXIT, fail, runCommand } from './cli-runtime';

const USAGE = `Usage: npm run replay -- --tenant <id> --from <yyyy-MM-dd> [--to <yyyy-MM-dd>] [--source failed|raw] [--dry-run] [--allow-republish]
       (in the image: node dist/cli/replay.js …)

Puts stored webhook payloads back through the worker, as if Meta had just sent them. Events keep
their ids, so a payload whose events are all published is skipped, and replaying twice publishes
nothing twice.

Options:
  --tenant <id>      tenant whose payloads to replay (required)
  --from <day>       first day, yyyy-MM-dd in UTC (required)
  --to <day>         last day, inclusive (default: --from); at most 31 days per run
  --source <where>   failed (default): payloads stored under failed/ after their retries ran out
                     raw: every archived payload of those days (after a loss downstream)
  --dry-run          count what would be replayed; hand nothing off
  --allow-republish  with --source raw: also days before the dedup window (DEDUP_TTL_SECONDS),
                     whose published events can no longer be told apart and are published again
  --help             show this text

Progress goes to stderr; the counts, as JSON, to stdout:
  {"found":12,"replayed":3,"skipped":9,"failed":0}
Exit status: 0 when nothing failed, 1 when some payloads could not be replayed (see stderr),
2 for bad options or configuration. Configuration comes from the environment, as for the service.
`;

function options(): ReplayRequest {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        tenant: { type: 'string' },
        from: { type: 'string' },
        to: { type: 'string' },
        source: { type: 'string', default: 'failed' },
        'dry-run': { type: 'boolean', default: false },
        'allow-republish': { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
      strict: true,
    }));
  } catch (err) {
    fail(USAGE, (err as Error).message);
  }
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(EXIT.ok);
  }
  if (!values.tenant || !values.from) fail(USAGE, '--tenant and --from are required');
  if (values.source !== 'failed' && values.source !== 'raw') fail(USAGE, '--source must be failed or raw');
  return {
    tenantId: values.tenant,
    from: values.from,
    to: values.to ?? values.from,
    source: values.source,
    dryRun: values['dry-run'],
    allowRepublish: values['allow-republish'],
  };
}

const request = options();
void runCommand(async (infra) => {
  const replay = new ReplayService(infra.rawStore, infra.handoffPublisher, infra.dedupStore('ev'), infra.tenants, infra.logger, {
    dedupWindowSeconds: infra.config.dedupTtlSeconds,
    shards: infra.config.rabbitmq.shards,
  });
  let last = 0;
  const counts = await replay.run(request, (progress, key) => {
    if (Date.now() - last < 1000) return;
    last = Date.now();
    process.stderr.write(
      `replay: ${progress.found} found, ${progress.replayed} replayed, ${progress.skipped} skipped, ${progress.failed} failed (at ${key})\n`,
    );
  });
  process.stdout.write(`${JSON.stringify(counts)}\n`);
  return counts.failed > 0 ? EXIT.failures : EXIT.ok;
});
