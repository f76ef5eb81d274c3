/**
 * Bounds the bytes of hand-off payloads a worker processes at once (a payload's parsed form and
 * its events are several times its size): work is admitted in arrival order while it fits, and
 * one payload larger than the whole budget is processed alone. Hand-offs that wait are held as
 * the bytes they arrived as, unparsed. Lets the prefetch (how many hand-offs are in the worker)
 * be large for the small payloads that make most of the traffic without a burst of 3 MB batches
 * taking all the memory.
 */
export class ByteBudget {
  private used = 0;
  private readonly waiting: Array<{ bytes: number; admit: () => void }> = [];

  constructor(readonly limitBytes: number) {}

  /** Bytes admitted and not yet released. */
  get inUse(): number {
    return this.used;
  }

  async run<T>(bytes: number, work: () => Promise<T>): Promise<T> {
    await this.acquire(bytes);
    try {
      return await work();
    } finally {
      this.release(bytes);
    }
  }

  private acquire(bytes: number): Promise<void> {
    // Nobody overtakes a waiting payload, so a large one is not starved by a stream of small ones.
    if (this.waiting.length === 0 && this.fits(bytes)) {
      this.used += bytes;
      return Promise.resolve();
    }
    return new Promise((admit) => this.waiting.push({ bytes, admit }));
  }

  private release(bytes: number): void {
    this.used -= bytes;
    while (this.waiting.length > 0 && this.fits(this.waiting[0]!.bytes)) {
      const next = this.waiting.shift()!;
      this.used += next.bytes;
      next.admit();
    }
  }

  private fits(bytes: number): boolean {
    return this.used === 0 || this.used + bytes <= this.limitBytes;
  }
}
