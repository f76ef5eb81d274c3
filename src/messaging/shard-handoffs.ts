import { shardsOf, type Update } from '../meta';
import { webhookReceived, type HandoffMessage, type Shard } from './handoff.message';

/**
 * A webhook's hand-offs, one per shard its updates fall in (meta's shardsOf: a message by its
 * conversation, the rest with the first message), each carrying the whole payload and the shard
 * whose updates are its own. `updates` is the tenant's whole share (each update once), whatever
 * `only` names: the worker places updates in shards from the same list. With `only`, shards with
 * none of those updates get no hand-off. Only the first hand-off archives the payload (the others
 * say it is taken care of), so a payload is archived once. A payload whose messages are all one
 * customer's (nearly all of them) is one hand-off.
 */
export function shardHandoffs(
  fields: Parameters<typeof webhookReceived>[0],
  updates: readonly Update[],
  count: number,
): Array<HandoffMessage & { shard: Shard }> {
  const wanted = fields.only ? new Set(fields.only) : undefined;
  const shards = shardsOf(updates, count);
  const indexes = [...new Set(shards.filter((_, i) => !wanted || wanted.has(updates[i]!.ref)))];
  if (indexes.length === 0) indexes.push(shards[0] ?? 0);
  return indexes.map((index, i) => ({
    ...webhookReceived({ ...fields, archived: fields.archived || i > 0 || undefined }),
    shard: { index, count },
  }));
}
