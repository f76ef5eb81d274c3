import type { Result } from 'ioredis';
import { redisCall, type Redis } from './redis.client';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    wwsSequence(numberOfKeys: number, ...keysThenArgs: Array<string | number>): Result<number[], Context>;
  }
}

// KEYS: n events' sequence keys, then the m conversations' counters (one tenant's: one hash tag),
// then (with the legacy names) the same under the names of before. ARGV[1]: time to live (s),
// ARGV[2]: n, ARGV[3]: m, ARGV[3 + i]: the counter (1-based, among the counters) of event i. An event
// keeps the number it was given first; a new one takes its conversation's next. A number or counter
// found only under its legacy name is carried over to the new one.
const SEQUENCE = `
local ttl = tonumber(ARGV[1])
local n = tonumber(ARGV[2])
local m = tonumber(ARGV[3])
local legacy = #KEYS == 2 * (n + m)
local out = {}
for i = 1, n do
  local c = tonumber(ARGV[3 + i])
  local counter = KEYS[n + c]
  if legacy and redis.call('EXISTS', counter) == 0 then
    local before = redis.call('GET', KEYS[2 * n + m + c])
    if before then redis.call('SET', counter, before) end
  end
  local seq = redis.call('GET', KEYS[i])
  if not seq then
    if legacy then seq = redis.call('GET', KEYS[n + m + i]) end
    if not seq then seq = redis.call('INCR', counter) end
    redis.call('SET', KEYS[i], seq, 'EX', ttl)
  end
  redis.call('EXPIRE', counter, ttl)
  out[i] = tonumber(seq)
end
return out
`;

export interface SequencedEvent {
  eventId: string;
  /** Its conversation (see meta's conversationKeyOf). */
  conversation: string;
}

/**
 * `conversation.sequence`: each conversation's events numbered 1, 2, 3… in the order they are
 * first seen, in Redis. An event keeps its number however often it is redelivered, retried or
 * replayed within the time to live; a conversation quiet for longer starts again at 1. Numbers are
 * given in the order the calls reach Redis (one connection runs them in the order they are sent),
 * so the caller sends them in the order it will publish. One round trip per batch.
 *
 * Keys carry the tenant as a hash tag (`seq:{tenant}:eventId`, `conv:{tenant}:conversation`), so one
 * call's keys share a Redis Cluster slot; with `legacyKeys` the names of before (`seq:tenant:…`) are
 * read too, until DEDUP_TTL_SECONDS after an upgrade.
 */
export class ConversationSequenceStore {
  constructor(
    private readonly redis: Redis,
    private readonly options: { keyPrefix: string; ttlSeconds: number; legacyKeys?: boolean },
  ) {
    this.redis.defineCommand('wwsSequence', { lua: SEQUENCE });
  }

  async assign(tenantId: string, events: readonly SequencedEvent[]): Promise<number[]> {
    if (events.length === 0) return [];
    const counters = new Map<string, number>();
    for (const { conversation } of events) if (!counters.has(conversation)) counters.set(conversation, counters.size + 1);
    const names = (tag: string): string[] => [
      ...events.map((event) => `${this.options.keyPrefix}seq:${tag}:${event.eventId}`),
      ...[...counters.keys()].map((conversation) => `${this.options.keyPrefix}conv:${tag}:${conversation}`),
    ];
    const keys = [...names(`{${tenantId}}`), ...(this.options.legacyKeys ? names(tenantId) : [])];
    const args = [this.options.ttlSeconds, events.length, counters.size, ...events.map((event) => counters.get(event.conversation)!)];
    return redisCall('conversation sequence', () => this.redis.wwsSequence(keys.length, ...keys, ...args));
  }
}
