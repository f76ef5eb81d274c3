import type { Result } from 'ioredis';
import { redisCall, type Redis } from './redis.client';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    wwsMark(numberOfKeys: number, ...keysThenArgs: Array<string | number>): Result<number, Context>;
    wwsClaim(numberOfKeys: number, ...keysThenArgs: Array<string | number>): Result<string, Context>;
    wwsRelease(numberOfKeys: number, ...keysThenArgs: Array<string | number>): Result<number, Context>;
  }
}

// KEYS: the marks, then the claims they end (one scope's: one hash tag); ARGV[1]: the marks' time to
// live in seconds, ARGV[2]: how many marks.
const MARK = `
local n = tonumber(ARGV[2])
for i = 1, n do redis.call('SET', KEYS[i], '1', 'EX', tonumber(ARGV[1])) end
for i = n + 1, #KEYS do redis.call('DEL', KEYS[i]) end
return n
`;

// KEYS: n marks, then their n claims, then (with the legacy names) the same under the legacy names;
// ARGV[1]: the claimant, ARGV[2]: the lease in ms, ARGV[3]: n. Per key: p (already marked), c
// (claimed now, or already by this claimant), h (held by another). Claims are taken under the new names only.
const CLAIM = `
local n = tonumber(ARGV[3])
local legacy = #KEYS == 4 * n
local out = {}
for i = 1, n do
  if redis.call('EXISTS', KEYS[i]) == 1 or (legacy and redis.call('EXISTS', KEYS[2 * n + i]) == 1) then out[i] = 'p'
  else
    local holder = redis.call('GET', KEYS[n + i])
    local old = legacy and redis.call('GET', KEYS[3 * n + i])
    if old and old ~= ARGV[1] then out[i] = 'h'
    elseif not holder or holder == ARGV[1] then
      redis.call('SET', KEYS[n + i], ARGV[1], 'PX', tonumber(ARGV[2]))
      out[i] = 'c'
    else out[i] = 'h' end
  end
end
return table.concat(out)
`;

// KEYS: claims; ARGV[1]: the claimant. Deletes the ones it still holds.
const RELEASE = `
local released = 0
for i = 1, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[1] then released = released + redis.call('DEL', KEYS[i]) end
end
return released
`;

/** What a claim found: already published, now ours to publish, or being published by another hand-off. */
export type ClaimResult = 'published' | 'claimed' | 'held';
const CLAIM_RESULTS: Record<string, ClaimResult> = { p: 'published', c: 'claimed', h: 'held' };

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
  /**
   * Claims (`ev`: two hand-offs of the same webhook in flight at once): before an event is built,
   * its key is claimed for a lease; a second claimant is told it is held and skips it. @default false
   */
  claims?: boolean;
  /**
   * Also read marks (and respect claims) under the key names used before keys carried a hash tag
   * (`rx:tenant:key` beside `rx:{tenant}:key`), so an upgrade forgets nothing: needed until
   * DEDUP_TTL_SECONDS after the upgrade, and off before moving to Redis Cluster. @default false
   */
  legacyKeys?: boolean;
}

interface ScopeBatch {
  keys: string[];
  claimKeys: string[];
  waiters: Array<{ resolve: () => void; reject: (err: unknown) => void }>;
}

/**
 * Remembers which updates (or events) are already durable, so a redelivery is absorbed.
 * A mark is written only after the hand-off (or publish) was confirmed: a first attempt that
 * never became durable leaves no mark, and its retry goes through. A whole batch costs one
 * round trip to check and one to mark, whatever its size; marks waiting when the next lookup comes
 * go to Redis with it, in the same write, ahead of it.
 *
 * Every key carries its scope (the tenant) as a hash tag, `rx:{tenant}:key`: what one command
 * touches lives in one Redis Cluster slot, so marks are written one command per scope (auto-pipelined:
 * still one round trip).
 */
export class DedupStore {
  private batch: { scopes: Map<string, ScopeBatch>; size: number; timer?: NodeJS.Timeout } | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly options: DedupStoreOptions,
  ) {
    // Defined before any traffic: a command defined while an auto-pipeline is being filled is missing from it.
    this.redis.defineCommand('wwsMark', { lua: MARK });
    this.redis.defineCommand('wwsClaim', { lua: CLAIM });
    this.redis.defineCommand('wwsRelease', { lua: RELEASE });
  }

  /**
   * For each key: already marked (`published`), claimed now by `owner` for `leaseMs`, or held by
   * another owner. An owner claims again what it already holds (a redelivered hand-off keeps its
   * id), so a worker killed mid-message does not wait out its own lease. One round trip.
   */
  async claim(scope: string, keys: readonly string[], owner: string, leaseMs: number): Promise<ClaimResult[]> {
    if (keys.length === 0) return [];
    void this.flush();
    const redisKeys = [...keys.map((key) => this.redisKey(scope, key)), ...keys.map((key) => this.claimKey(scope, key))];
    if (this.options.legacyKeys) redisKeys.push(...keys.map((key) => this.legacyKey(scope, key)), ...keys.map((key) => this.legacyClaimKey(scope, key)));
    const answer = await redisCall('dedup claim', () => this.redis.wwsClaim(redisKeys.length, ...redisKeys, owner, leaseMs, keys.length));
    return [...answer].map((code) => CLAIM_RESULTS[code] ?? 'held');
  }

  /** Gives up claims `owner` still holds (its publish failed): a later copy of the webhook may claim them. */
  async release(scope: string, keys: readonly string[], owner: string): Promise<void> {
    if (keys.length === 0) return;
    const claimKeys = keys.map((key) => this.claimKey(scope, key));
    await redisCall('dedup release', () => this.redis.wwsRelease(claimKeys.length, ...claimKeys, owner));
  }

  /** For each key, whether it is already marked. Throws TransientError when Redis cannot answer. */
  async seen(scope: string, keys: readonly string[]): Promise<boolean[]> {
    if (keys.length === 0) return [];
    // Marks still waiting ride in front of the lookup (one auto-pipelined write); Redis runs them first.
    void this.flush();
    const names = keys.map((key) => this.redisKey(scope, key));
    if (this.options.legacyKeys) names.push(...keys.map((key) => this.legacyKey(scope, key)));
    const values = await redisCall('dedup read', () => this.redis.mget(names));
    return keys.map((_, i) => values[i] !== null || (values[keys.length + i] ?? null) !== null);
  }

  /**
   * Marks `keys` as durable. Marks asked for in the same tick (the events of one hand-off, whose
   * confirms arrive together; the webhooks of one busy moment) are written by one command however
   * many keys they hold, when the tick ends or, with `markDelayMs`, with the next lookup or when
   * the delay is over; each caller learns whether its marks were written. With `claims`, marking a
   * key also ends its claim, in the same command.
   */
  mark(scope: string, keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      if (!this.batch) {
        const batch: NonNullable<DedupStore['batch']> = { scopes: new Map(), size: 0 };
        this.batch = batch;
        const delay = this.options.markDelayMs ?? 0;
        if (delay > 0) batch.timer = setTimeout(() => void this.flush(), delay);
        else process.nextTick(() => void this.flush());
      }
      let group = this.batch.scopes.get(scope);
      if (!group) this.batch.scopes.set(scope, (group = { keys: [], claimKeys: [], waiters: [] }));
      for (const key of keys) group.keys.push(this.redisKey(scope, key));
      if (this.options.claims) for (const key of keys) group.claimKeys.push(this.claimKey(scope, key));
      group.waiters.push({ resolve, reject });
      this.batch.size += keys.length;
      // Redis runs a script to its end before anything else: keep each one short.
      if (this.batch.size >= MAX_KEYS_PER_COMMAND) void this.flush();
    });
  }

  /**
   * Writes the marks waiting now, one command per scope sent together; settles (never rejects) once
   * Redis answered, so shutdown can wait for it before closing the client (QUIT is not
   * auto-pipelined and would overtake the marks).
   */
  async flush(): Promise<void> {
    const batch = this.batch;
    this.batch = undefined;
    if (!batch) return;
    clearTimeout(batch.timer);
    await Promise.all(
      [...batch.scopes.values()].map(({ keys, claimKeys, waiters }) =>
        redisCall('dedup write', () => this.redis.wwsMark(keys.length + claimKeys.length, ...keys, ...claimKeys, this.options.ttlSeconds, keys.length)).then(
          () => waiters.forEach((waiter) => waiter.resolve()),
          (err: unknown) => waiters.forEach((waiter) => waiter.reject(err)),
        ),
      ),
    );
  }

  private redisKey(scope: string, key: string): string {
    return `${this.options.keyPrefix}${this.options.namespace}:{${scope}}:${key}`;
  }

  private claimKey(scope: string, key: string): string {
    return `${this.options.keyPrefix}${this.options.namespace}-claim:{${scope}}:${key}`;
  }

  private legacyKey(scope: string, key: string): string {
    return `${this.options.keyPrefix}${this.options.namespace}:${scope}:${key}`;
  }

  private legacyClaimKey(scope: string, key: string): string {
    return `${this.options.keyPrefix}${this.options.namespace}-claim:${scope}:${key}`;
  }
}
