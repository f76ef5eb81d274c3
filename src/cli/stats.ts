import { parseArgs } from 'node:util';
import { dayStats, LedgerStore } from '../ledger';
import { EXIT, fail, runCommand } from './cli-runtime';

const USAGE = `Usage: npm run stats -- [--tenant <tenantId>] [--from yyyy-mm-dd] [--to yyyy-mm-dd]
       (in the image: node dist/cli/stats.js …)

Prints, per tenant and UTC day (today by default), the events the ledger wrote by kind and type,
and the funnel of outbound messages: sent, delivered, read, played, failed (by error code), and the
same per pricing category. JSON, as GET /admin/stats returns it.

Exit status: 0 on success, 2 for bad options or configuration.
`;

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const parsed = (() => {
  try {
    return parseArgs({ options: { tenant: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, help: { type: 'boolean', default: false } } });
  } catch (err) {
    return fail(USAGE, (err as Error).message);
  }
})();
if (parsed.values.help) {
  process.stdout.write(USAGE);
  process.exit(EXIT.ok);
}
const to = parsed.values.to ?? new Date().toISOString().slice(0, 10);
const from = parsed.values.from ?? to;
if (!DAY.test(from) || !DAY.test(to) || Number.isNaN(Date.parse(from)) || Number.isNaN(Date.parse(to))) fail(USAGE, '--from and --to are days (yyyy-mm-dd)');
if (from > to) fail(USAGE, '--from must not be after --to');

void runCommand(async (infra) => {
  if (!infra.database || !infra.config.ledger.enabled) {
    process.stderr.write('the ledger needs DATABASE_URL (and LEDGER_ENABLED, the default)\n');
    return EXIT.usage;
  }
  const rows = await new LedgerStore(infra.database, infra.config.ledger.retentionDays).daily(from, to, parsed.values.tenant);
  process.stdout.write(`${JSON.stringify({ from, to, days: dayStats(rows) }, null, 2)}\n`);
  return EXIT.ok;
});
