import type { Result } from 'ioredis';
import { redisCall, type Redis } from './redis.client';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    wwsMark(numberOfKeys: number, ...keysThenTtl: Array<string | number>): Result<number, Context>;
  }
}

// KEYS: the marks; ARGV[1]: their time to live in seconds. One command however many keys.
const MARK = `
for i = 1, #KEYS do redis.call('SET', KEYS[i], '1', 'EX', tonumber(ARGV[1])) end
return #KEYS
`;

const MAX_KEYS_PER_COMMAND = 2_000;

export interface DedupStoreOptions {
  keyPrefix: string;
  /** `rx` for updates the receiver handed off, `ev` for events the worker published. */
  namespace: string;
  ttlSeconds: number;
  /**
   * How long marks may wait to share a round trip with the next lookup (0: written when the tick
   * ends). A mark is only ever late, never early: a webhook whose mark is still waiting is absorbed
   * by the worker's event marks if Meta redelivers it in that moment.
   */
  markDelayMs?: number;
}

/**
 * Remembers which updates (or events) are already durable, so a redelivery is absorbed.
 * A mark is written only after the hand-off (or publish) was confirmed: a first attempt that
 * never became durable leaves no mark, and its retry goes through. A whole batch costs one
 * round trip to check and one to mark, whatever its size; marks waiting when the next lookup comes
 * go to Redis with it, in the same write, ahead of it.
 */
export class DedupStore {
  private batch: { keys: string[]; waiters: Array<{ resolve: () => void; reject: (err: unknown) => void }>; timer?: NodeJS.Timeout } | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly options: DedupStoreOptions,
  ) {
    // Defined before any traffic: a command defined while an auto-pipeline is being filled is missing from it.
    this.redis.defineCommand('wwsMark', { lua: MARK });
  }

  /** For each key, whether it is already marked. Throws TransientError when Redis cannot answer. */
  async seen(scope: string, keys: readonly string[]): Promise<boolean[]> {
    if (keys.length === 0) return [];
    // Marks still waiting ride in front of the lookup (one auto-pipelined write); Redis runs them first.
    void this.flush();
    const values = await redisCall('dedup read', () => this.redis.mget(keys.map((key) => this.redisKey(scope, key))));
    return values.map((value) => value !== null);
  }

  /**
   * Marks `keys` as durable. Marks asked for in the same tick (the events of one hand-off, whose
   * confirms arrive together; the webhooks of one busy moment) are written by one command however
   * many keys they hold, when the tick ends or, with `markDelayMs`, with the next lookup or when
   * the delay is over; each caller learns whether its marks were written.
   */
  mark(scope: string, keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      if (!this.batch) {
        const batch: NonNullable<DedupStore['batch']> = { keys: [], waiters: [] };
        this.batch = batch;
        const delay = this.options.markDelayMs ?? 0;
        if (delay > 0) batch.timer = setTimeout(() => void this.flush(), delay);
        else process.nextTick(() => void this.flush());
      }
      for (const key of keys) this.batch.keys.push(this.redisKey(scope, key));
      this.batch.waiters.push({ resolve, reject });
      // Redis runs a script to its end before anything else: keep each one short.
      if (this.batch.keys.length >= MAX_KEYS_PER_COMMAND) void this.flush();
    });
  }

  /**
   * Writes the marks waiting now; settles (never rejects) once Redis answered, so shutdown can wait
   * for it before closing the client (QUIT is not auto-pipelined and would overtake the marks).
   */
  flush(): Promise<void> {
    const batch = this.batch;
    this.batch = undefined;
    if (!batch) return Promise.resolve();
    clearTimeout(batch.timer);
    return redisCall('dedup write', () => this.redis.wwsMark(batch.keys.length, ...batch.keys, this.options.ttlSeconds)).then(
      () => batch.waiters.forEach((waiter) => waiter.resolve()),
      (err: unknown) => batch.waiters.forEach((waiter) => waiter.reject(err)),
    );
  }

  private redisKey(scope: string, key: string): string {
    return `${this.options.keyPrefix}${this.options.namespace}:${scope}:${key}`;
  }
}
