import type { Gauge } from 'prom-client';

/**
 * Request-body bytes a receiver process holds at once for webhooks it is reading and checking.
 * A request reserves its Content-Length (or the body limit, when it does not say) before its
 * body is read, and gives it back when its answer is sent; a request that does not fit is shed
 * with 503 before anything is read, so a crowd of large bodies (signed or not) cannot run the
 * process out of memory. Each reserved byte costs about three at the peak (the raw bytes, the
 * decoded text and the parsed payload): size it in docs/capacity.md.
 */
export class BodyBudget {
  private reserved = 0;

  constructor(
    readonly limitBytes: number,
    private readonly gauge?: Gauge,
  ) {}

  /** Reserves `bytes`; false (and nothing reserved) when they do not fit. One request alone always fits. */
  tryReserve(bytes: number): boolean {
    if (this.reserved > 0 && this.reserved + bytes > this.limitBytes) return false;
    this.reserved += bytes;
    this.gauge?.set(this.reserved);
    return true;
  }

  release(bytes: number): void {
    this.reserved = Math.max(0, this.reserved - bytes);
    this.gauge?.set(this.reserved);
  }

  get inUse(): number {
    return this.reserved;
  }
}
