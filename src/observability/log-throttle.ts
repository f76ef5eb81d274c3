/**
 * Lets a per-request warning through at most once per interval (a Redis outage at 2,500
 * requests/s must not become 2,500 log lines/s); reports how many were held back meanwhile.
 */
export class LogThrottle {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(private readonly intervalMs = 10_000) {}

  /** Calls `log(suppressed)` when the key's interval has passed; otherwise counts the call. */
  run(key: string, log: (suppressed: number) => void): void {
    const now = Date.now();
    const entry = this.last.get(key);
    if (entry && now - entry.at < this.intervalMs) {
      entry.suppressed += 1;
      return;
    }
    this.last.set(key, { at: now, suppressed: 0 });
    log(entry?.suppressed ?? 0);
  }
}
