import { createHash, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { ShardLeaseStore } from '../cache';
import { shardQueueName, everyShard, type Shard } from '../messaging';
import { LogThrottle, type Logger } from '../observability';

/** A consumer of one shard queue, started when its lease is won and closed when it is let go. */
export interface ShardConsumer {
  start(): void;
  /** Stops taking messages and waits for those in progress to settle. */
  close(): Promise<void>;
  /** Messages in progress. */
  readonly busy: number;
}

export interface ShardOwnerDeps {
  leases: ShardLeaseStore;
  consumerFor(shard: Shard): ShardConsumer;
  /** Messages ready in a shard's queue (for the drain of an earlier generation). */
  depth(shard: Shard): Promise<number>;
  /** HANDOFF_SHARDS. */
  count: number;
  /** HANDOFF_SHARDS_PREVIOUS, while the count changes: that generation is finished first. */
  previousCount?: number;
  /** SHARD_LEASE_MS. */
  leaseMs: number;
  logger: Logger;
}

type State = { phase: 'consuming'; consumer: ShardConsumer } | { phase: 'stopping'; done: Promise<void> };

const throttle = new LogThrottle();

/**
 * Shares the hand-off shards among the workers alive, each shard consumed by one worker at a time:
 * every worker beats in Redis every third of SHARD_LEASE_MS, and the shards are dealt out evenly
 * among the workers alive (assignShards: few move when a worker joins or leaves).
 * A worker consumes a shard only while it holds its lease; one that should no longer have it
 * stops its consumer, waits for the hand-offs in progress, and only then lets the lease go, so the
 * next owner starts after them and a conversation's order holds through the move. A worker killed
 * without a goodbye keeps its leases until they lapse (SHARD_LEASE_MS); the broker has put its
 * unacknowledged hand-offs back, in order, for the next owner.
 *
 * While Redis cannot be reached the worker keeps what it consumes (the queues' single active
 * consumer stops a second worker from getting anything should leases lapse meanwhile).
 *
 * While HANDOFF_SHARDS changes (HANDOFF_SHARDS_PREVIOUS set), the previous generation's shards are
 * consumed first: the new generation's only once every previous shard was seen empty with nothing in
 * progress (recorded in Redis), so a conversation whose shard moved is not reordered. The previous
 * generation is consumed after that too, for retries coming back to it.
 */
export class ShardOwner {
  readonly member = `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
  private readonly states = new Map<string, State>();
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private closed = false;
  private previousDrained: boolean;

  constructor(private readonly deps: ShardOwnerDeps) {
    this.previousDrained = deps.previousCount === undefined;
  }

  start(): void {
    if (this.timer || this.closed) return;
    void this.tick();
    this.timer = setInterval(() => void this.tick(), Math.max(100, Math.floor(this.deps.leaseMs / 3)));
  }

  /** Stops every consumer (waiting for what is in progress), lets the leases go and leaves. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await this.ticking;
    const names = [...this.states.keys()];
    await Promise.all(names.map((name) => this.stop(name)));
    await this.deps.leases.letGo(names, this.member, true).catch((err: unknown) => {
      this.deps.logger.warn('shard leases not let go; the other workers take the shards over once they lapse', { cause: String(err) });
    });
  }

  /** One round: beat, work out this worker's share, win or renew its leases, hand over the rest. Never rejects. */
  private tick(): Promise<void> {
    if (this.ticking || this.closed) return this.ticking ?? Promise.resolve();
    this.ticking = this.round()
      .catch((err: unknown) =>
        throttle.run('shard-tick', (suppressed) =>
          this.deps.logger.warn('shard leases not renewed (Redis unavailable?); consuming the same shards meanwhile', { cause: String(err), suppressed }),
        ),
      )
      .finally(() => (this.ticking = undefined));
    return this.ticking;
  }

  private async round(): Promise<void> {
    const members = await this.deps.leases.heartbeat(this.member, this.deps.leaseMs);
    if (!this.previousDrained) await this.checkDrained();
    const active = this.activeShards();
    const owners = assignShards(active, members);
    const share = new Map<string, Shard>(
      active.filter((shard) => owners.get(shardQueueName(shard)) === this.member).map((shard) => [shardQueueName(shard), shard]),
    );
    // Renewed while consumed, and while being handed over: the next owner must not start before the hand-offs in progress are done.
    const names = [...new Set([...share.keys(), ...this.states.keys()])];
    const held = await this.deps.leases.hold(names, this.member, this.deps.leaseMs);
    if (this.closed) return;
    const handOver: string[] = [];
    names.forEach((name, i) => {
      const state = this.states.get(name);
      const shard = share.get(name);
      if (!held[i]) {
        if (state?.phase === 'consuming') {
          this.deps.logger.warn('shard lease lost to another worker; stopping its consumer', { queue: name });
          void this.stop(name);
        }
        return;
      }
      if (shard && !state) {
        const consumer = this.deps.consumerFor(shard);
        consumer.start();
        this.states.set(name, { phase: 'consuming', consumer });
        this.deps.logger.info('consuming shard', { queue: name, workers: members.length });
      } else if (!shard && state?.phase === 'consuming') {
        handOver.push(name);
      }
    });
    for (const name of handOver) {
      void this.stop(name).then(() => this.deps.leases.letGo([name], this.member).catch(() => undefined));
      this.deps.logger.info('handing shard over to another worker', { queue: name, workers: members.length });
    }
  }

  /** Shards this worker may take now: the previous generation's, and the current one's once that is drained. */
  private activeShards(): Shard[] {
    const current = everyShard(this.deps.count);
    if (this.deps.previousCount === undefined) return current;
    const previous = everyShard(this.deps.previousCount);
    return this.previousDrained ? [...previous, ...current] : previous;
  }

  /** Records the previous generation's shards this worker saw empty and idle; drained once all are. */
  private async checkDrained(): Promise<void> {
    const previous = this.deps.previousCount!;
    const generation = `${previous}-to-${this.deps.count}`;
    for (const shard of everyShard(previous)) {
      const state = this.states.get(shardQueueName(shard));
      if (state?.phase !== 'consuming' || state.consumer.busy > 0) continue;
      if ((await this.deps.depth(shard)) === 0) await this.deps.leases.markDrained(generation, String(shard.index));
    }
    if ((await this.deps.leases.drained(generation)) >= previous) {
      this.previousDrained = true;
      this.deps.logger.info('previous generation of shards drained; consuming the new one', { previous, count: this.deps.count });
    }
  }

  private stop(name: string): Promise<void> {
    const state = this.states.get(name);
    if (!state) return Promise.resolve();
    if (state.phase === 'stopping') return state.done;
    const done = state.consumer.close().finally(() => {
      if (this.states.get(name)?.phase === 'stopping') this.states.delete(name);
    });
    this.states.set(name, { phase: 'stopping', done });
    return done;
  }
}

/**
 * Which member consumes each shard: shards in order, each to the member ranked first for it by
 * rendezvous hashing among those below their fair share (shards / members, the remainder going one
 * each to the first members to reach it), so the work is spread evenly (no member idle while another
 * has two) and a member joining or leaving moves few shards. Every worker computes the
 * same from the same members.
 */
export function assignShards(shards: readonly Shard[], members: readonly string[]): Map<string, string> {
  const owners = new Map<string, string>();
  if (members.length === 0) return owners;
  // Each member takes `base` shards, and `extra` of them one more.
  const base = Math.floor(shards.length / members.length);
  let extra = shards.length % members.length;
  const load = new Map(members.map((member) => [member, 0]));
  for (const shard of shards) {
    const queue = shardQueueName(shard);
    const score = (member: string): number => createHash('sha256').update(`${member}/${queue}`).digest().readUIntBE(0, 6);
    const ranked = [...members].sort((a, b) => score(b) - score(a) || (a < b ? -1 : 1));
    const owner = ranked.find((member) => load.get(member)! < base || (load.get(member) === base && extra > 0))!;
    if (load.get(owner) === base) extra -= 1;
    load.set(owner, load.get(owner)! + 1);
    owners.set(queue, owner);
  }
  return owners;
}
