import type { HandoffMessage } from '../messaging';

/** How long the worker counts as behind after a late hand-off. */
const BEHIND_FOR_MS = 1_000;

/**
 * Whether the worker keeps up: a webhook's first hand-off that reaches it more than `lateMs` after
 * the receiver accepted it means hand-offs are queueing (the worker, or the machine it shares, is
 * short of CPU). While that lasts, the raw archive yields to the events (see inlineArchive).
 * Retries and replays carry an old `receivedAt` by design and are not counted.
 */
export class WorkerPace {
  private behindUntil = 0;

  constructor(private readonly lateMs: number) {}

  /** Notes a hand-off as it starts; true when it is late. */
  observe(handoff: HandoffMessage, now = Date.now()): boolean {
    if (handoff.source !== 'meta' || handoff.attempt > 1) return false;
    const late = now - Date.parse(handoff.receivedAt) > this.lateMs;
    if (late) this.behindUntil = now + BEHIND_FOR_MS;
    return late;
  }

  behind(now = Date.now()): boolean {
    return now < this.behindUntil;
  }
}
