import { shardOf, type Update } from '../meta';
import { webhookReceived, type HandoffMessage, type Shard } from './handoff.message';

/**
 * A webhook's hand-offs, one per shard its updates fall in (meta's shardOf: by conversation), each
 * carrying the whole payload and the shard whose updates are its own. Only the first archives the
 * payload (the others say it is taken care of), so a payload is archived once however many shards
 * it spans. A payload whose updates are all in one shard (nearly all of them) is one hand-off.
 */
export function shardHandoffs(
  fields: Parameters<typeof webhookReceived>[0],
  updates: readonly Update[],
  count: number,
): Array<HandoffMessage & { shard: Shard }> {
  const indexes = [...new Set(updates.map((update) => shardOf(update, count)))];
  if (indexes.length === 0) indexes.push(0);
  return indexes.map((index, i) => ({
    ...webhookReceived({ ...fields, archived: fields.archived || i > 0 || undefined }),
    shard: { index, count },
  }));
}
