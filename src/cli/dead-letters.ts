import { parseArgs } from 'node:util';
import { peekDeadLetters } from '../admin';
import { QUEUES } from '../messaging';
import { EXIT, fail, runCommand } from './cli-runtime';

const USAGE = `Usage: npm run dead-letters -- list [--limit <n>]
       npm run dead-letters -- purge --yes
       (in the image: node dist/cli/dead-letters.js …)

list    shows the messages in ${QUEUES.dead} (oldest first) without removing them: tenant, where the
        payload is stored, how many attempts, the last error, the correlation id to search logs for
purge   empties the queue; do it once the payloads were replayed (they stay in the object store
        under failed/ either way)

Exit status: 0 on success, 2 for bad options or configuration.
`;

const parsed = (() => {
  try {
    return parseArgs({
      options: { limit: { type: 'string', default: '20' }, yes: { type: 'boolean', default: false }, help: { type: 'boolean', default: false } },
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
const [action] = parsed.positionals;
const limit = Number(parsed.values.limit);
if (action !== 'list' && action !== 'purge') fail(USAGE, 'expected list or purge');
if (action === 'list' && !(Number.isInteger(limit) && limit > 0)) fail(USAGE, '--limit must be a positive integer');
if (action === 'purge' && !parsed.values.yes) fail(USAGE, 'purge needs --yes');

void runCommand(async ({ rabbit }) => {
  if (action === 'purge') {
    const { messageCount } = await rabbit.queuePurge(QUEUES.dead);
    process.stdout.write(`${JSON.stringify({ purged: messageCount })}\n`);
    return EXIT.ok;
  }
  // Read on one channel and released at the end, so nothing is consumed.
  process.stdout.write(`${JSON.stringify(await peekDeadLetters(rabbit, limit), null, 2)}\n`);
  return EXIT.ok;
});
