import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { QueueAgeStore } from '../cache';
import { LogThrottle, type Logger } from '../observability';

const throttle = new LogThrottle();

/**
 * Tells the other processes, through `QueueAgeStore`, how old the oldest message is that this worker
 * holds from each queue it consumes (`worker_lag_seconds`' probes): every `everyMs`, and once more,
 * empty, when it stops. Redis being away only skips a report.
 */
export class QueueAgeReporter {
  private readonly member = `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: QueueAgeStore,
    /** Per queue consumed here, the receipt time of the oldest message in progress (undefined: none). */
    private readonly probes: ReadonlyMap<string, () => number | undefined>,
    private readonly everyMs: number,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => void this.report(), this.everyMs);
    this.timer.unref();
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.store.report(this.member, []).catch(() => undefined);
  }

  private async report(): Promise<void> {
    const held = [...this.probes].map(([queue, oldest]) => [queue, oldest()] as const);
    await this.store
      .report(this.member, held)
      .catch((err: unknown) =>
        throttle.run('queue-ages', (suppressed) => this.logger.warn('queue ages not reported (Redis unavailable?)', { cause: String(err), suppressed })),
      );
  }
}
