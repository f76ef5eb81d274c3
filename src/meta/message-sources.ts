import { num, obj, objects, str } from './read';
import type { HistoryPosition, JsonObject, MessageOrigin } from './webhook.types';

/** A list of messages inside a change value, with where it sits (`prefix` of its refs) and what it is. */
export interface MessageSource {
  /** Ref of the item at position i: `${prefix}${i}`. */
  prefix: string;
  messages: JsonObject[];
  origin: MessageOrigin;
  history: HistoryPosition | null;
}

/** Fields whose messages and statuses are those of a conversation served by this app or, for `standby`, by another. */
export const LIVE_FIELDS: ReadonlySet<string> = new Set(['messages', 'standby']);

/** Message types whose system body says the customer's identity changed (an `identity_changed` event follows). */
export const IDENTITY_SYSTEM_TYPES: ReadonlySet<string> = new Set(['user_changed_number', 'user_changed_user_id']);

/**
 * Every list of messages Meta puts in a change, wherever it is:
 * - `messages` / `standby`: `value.messages` (live);
 * - `smb_message_echoes`: `value.message_echoes` (echo);
 * - `history`: `value.history[h].threads[t].messages` (history), `value.message_echoes` (echo)
 *   and `value.messages` (the contents of earlier media placeholders, history).
 */
export function messageSources(field: string, value: JsonObject): MessageSource[] {
  if (LIVE_FIELDS.has(field)) return [{ prefix: 'm', messages: objects(value.messages), origin: 'live', history: null }];
  if (field === 'smb_message_echoes') return [echoes(value)];
  if (field !== 'history') return [];
  const sources: MessageSource[] = [{ prefix: 'm', messages: objects(value.messages), origin: 'history', history: null }, echoes(value)];
  objects(value.history).forEach((chunk, h) => {
    const meta = obj(chunk.metadata);
    objects(chunk.threads).forEach((thread, t) => {
      sources.push({
        prefix: `h${h}t${t}m`,
        messages: objects(thread.messages),
        origin: 'history',
        history: {
          threadId: str(thread.id) ?? null,
          phase: num(meta?.phase) ?? null,
          chunkOrder: num(meta?.chunk_order) ?? null,
          progress: num(meta?.progress) ?? null,
        },
      });
    });
  });
  return sources;
}

function echoes(value: JsonObject): MessageSource {
  return { prefix: 'e', messages: objects(value.message_echoes), origin: 'echo', history: null };
}
