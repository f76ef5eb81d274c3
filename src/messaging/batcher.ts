import { setTimeout as sleep } from 'node:timers/promises';

export interface BatcherOptions {
  /** Most items in one batch. */
  size: number;
  /** Longest an item waits for its batch to fill. */
  waitMs: number;
  /** Batches written at once (one fills while the others are written). */
  writers: number;
  /**
   * Whether a failure is the items' own (a value the store refuses, every time) rather than the
   * store's (away, busy): such a batch is split until the item refused is alone, and only that one
   * is refused. Without it every failure is the store's.
   */
  refusesItems?: (err: unknown) => boolean;
}

/** What became of an item: written; refused by the store (for the caller to dead-letter); given back (closed before). */
export type BatchOutcome = 'written' | 'refused' | 'returned';

interface Waiting<T> {
  item: T;
  done: (outcome: BatchOutcome) => void;
}

/** Longest pause between two tries of a failed batch. */
const MAX_BACKOFF_MS = 5000;

/**
 * Gathers items into batches (at most `size`, or what came within `waitMs`) and hands each batch
 * to `write`, `writers` at a time. `add` resolves `written` once the batch holding the item is
 * written, `returned` when the batcher closed before (the caller gives the item back: requeue, retry
 * later). A failed write is tried again with backoff until it succeeds or the batcher closes, never
 * dropped; `onFailure` hears of each failure (to log it). A failure `refusesItems` blames on the
 * items splits the batch in halves, written apart, until the item at fault is alone: it resolves
 * `refused` and `onRefused` hears why (one poison item must not hold its batch, and every batch after it, forever).
 */
export class Batcher<T> {
  private waiting: Array<Waiting<T>> = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly writes = new Set<Promise<void>>();
  private readonly inWrite = new Set<readonly T[]>();
  private readonly closing = new AbortController();

  constructor(
    private readonly options: BatcherOptions,
    private readonly write: (items: readonly T[]) => Promise<void>,
    private readonly onFailure: (err: unknown, items: readonly T[], failures: number) => void,
    private readonly onRefused: (err: unknown, item: T) => void = () => undefined,
  ) {}

  add(item: T): Promise<BatchOutcome> {
    if (this.closing.signal.aborted) return Promise.resolve('returned');
    return new Promise((done) => {
      this.waiting.push({ item, done });
      if (this.waiting.length >= this.options.size) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.options.waitMs);
    });
  }

  /** Items held and not yet written: waiting for a batch, and in batches being written. */
  held(): T[] {
    return [...[...this.inWrite].flat(), ...this.waiting.map((w) => w.item)];
  }

  /** What waits for a batch is given back (`returned`); the batches being written end (or, failing, are given back). Idempotent. */
  async close(): Promise<void> {
    this.closing.abort();
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const w of this.waiting.splice(0)) w.done('returned');
    await Promise.all(this.writes);
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.waiting.length > 0 && this.writes.size < this.options.writers && !this.closing.signal.aborted) {
      const batch = this.waiting.splice(0, this.options.size);
      const write = this.writeBatch(batch).finally(() => {
        this.writes.delete(write);
        // A full batch goes at once; part of one once it has waited its time.
        if (this.waiting.length >= this.options.size) this.flush();
        else if (this.waiting.length > 0) this.timer ??= setTimeout(() => this.flush(), this.options.waitMs);
      });
      this.writes.add(write);
    }
  }

  private async writeBatch(batch: Array<Waiting<T>>): Promise<void> {
    const items = batch.map((w) => w.item);
    this.inWrite.add(items);
    try {
      await this.settle(batch);
    } finally {
      this.inWrite.delete(items);
    }
  }

  /** Writes `batch` (or, when the store refuses an item of it, each half apart) until written or closed. */
  private async settle(batch: Array<Waiting<T>>): Promise<void> {
    const items = batch.map((w) => w.item);
    for (let failures = 0; ; failures++) {
      try {
        await this.write(items);
        for (const w of batch) w.done('written');
        return;
      } catch (err) {
        if (this.options.refusesItems?.(err)) {
          if (batch.length === 1) {
            this.onRefused(err, batch[0]!.item);
            batch[0]!.done('refused');
            return;
          }
          const half = Math.ceil(batch.length / 2);
          await this.settle(batch.slice(0, half));
          await this.settle(batch.slice(half));
          return;
        }
        this.onFailure(err, items, failures);
        const waited = await sleep(Math.min(250 * 2 ** failures, MAX_BACKOFF_MS), true, { signal: this.closing.signal }).catch(() => false);
        if (!waited) {
          for (const w of batch) w.done('returned');
          return;
        }
      }
    }
  }
}
