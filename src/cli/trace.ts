import { parseArgs } from 'node:util';
import { LedgerStore, MessageTracer } from '../ledger';
import { EXIT, fail, runCommand } from './cli-runtime';

const USAGE = `Usage: npm run trace -- <wamid> [--tenant <tenantId>] [--json]
       (in the image: node dist/cli/trace.js …)

Prints what became of one WhatsApp message (Meta's wamid): the POSTs that carried it (correlation
ids to search the logs for, when received, the raw payload's key), the events published from them
in order, retries of the hand-off, its statuses with out-of-order ones flagged, its media object,
and the failed-store entry of any payload that was dead-lettered. Reads the ledger (DATABASE_URL,
ROLE=ledger running) and the object store.

--tenant  only this tenant's message
--json    the trace as JSON (as GET /admin/messages/<wamid> returns it)

Exit status: 0 when found, 1 when the ledger has no such message, 2 for bad options or configuration.
`;

const parsed = (() => {
  try {
    return parseArgs({
      options: { tenant: { type: 'string' }, json: { type: 'boolean', default: false }, help: { type: 'boolean', default: false } },
      allowPositionals: true,
    });
  } catch (err) {
    return fail(USAGE, (err as Error).message);
  }
})();
if (parsed.values.help) {
  process.stdout.write(USAGE);
  process.exit(EXIT.ok);
}
const [wamid, ...extra] = parsed.positionals;
if (!wamid || extra.length > 0) fail(USAGE, 'expected one wamid');

void runCommand(async (infra) => {
  if (!infra.database || !infra.config.ledger.enabled) {
    process.stderr.write('the ledger needs DATABASE_URL (and LEDGER_ENABLED, the default)\n');
    return EXIT.usage;
  }
  const traces = await new MessageTracer(new LedgerStore(infra.database, infra.config.ledger.retentionDays), infra.rawStore).trace(wamid, parsed.values.tenant);
  if (traces.length === 0) {
    process.stderr.write(`no message ${wamid} in the ledger${parsed.values.tenant ? ` of tenant ${parsed.values.tenant}` : ''}\n`);
    return EXIT.failures;
  }
  if (parsed.values.json) process.stdout.write(`${JSON.stringify(traces.length === 1 ? traces[0] : { messageId: wamid, traces }, null, 2)}\n`);
  else process.stdout.write(`${traces.map((t) => t.steps.join('\n')).join('\n\n')}\n`);
  return EXIT.ok;
});
