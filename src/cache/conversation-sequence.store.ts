import type { Result } from 'ioredis';
import { redisCall, type Redis } from './redis.client';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    wwsSequence(numberOfKeys: number, ...keysThenArgs: Array<string | number>): Result<number[], Context>;
  }
}

// KEYS: n events' sequence keys, then the conversations' counters. ARGV[1]: time to live (s),
// ARGV[2]: n, ARGV[2 + i]: the counter (1-based, among the counters) of event i. An event keeps
// the number it was given first; a new one takes its conversation's next.
const SEQUENCE = `
local ttl = tonumber(ARGV[1])
local n = tonumber(ARGV[2])
local out = {}
for i = 1, n do
  local seq = redis.call('GET', KEYS[i])
  local counter = KEYS[n + tonumber(ARGV[2 + i])]
  if not seq then
    seq = redis.call('INCR', counter)
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
 */
export class ConversationSequenceStore {
  constructor(
    private readonly redis: Redis,
    private readonly options: { keyPrefix: string; ttlSeconds: number },
  ) {
    this.redis.defineCommand('wwsSequence', { lua: SEQUENCE });
  }

  async assign(tenantId: string, events: readonly SequencedEvent[]): Promise<number[]> {
    if (events.length === 0) return [];
    const counters = new Map<string, number>();
    for (const { conversation } of events) if (!counters.has(conversation)) counters.set(conversation, counters.size + 1);
    const keys = [
      ...events.map((event) => `${this.options.keyPrefix}seq:${tenantId}:${event.eventId}`),
      ...[...counters.keys()].map((conversation) => `${this.options.keyPrefix}conv:${tenantId}:${conversation}`),
    ];
    const args = [this.options.ttlSeconds, events.length, ...events.map((event) => counters.get(event.conversation)!)];
    return redisCall('conversation sequence', () => this.redis.wwsSequence(keys.length, ...keys, ...args));
  }
}
