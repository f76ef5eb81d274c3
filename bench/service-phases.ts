import type { Child } from './processes';
import { log, round, sleep } from './processes';
import { rawArchived, type EventCounter } from './event-counter';
import { closedLoop, openLoop, percentile, type PhaseResult } from './load';
import type { PayloadMix, PlannedRequest } from './payloads';

export interface ServicePhaseSettings {
  seconds: number;
  rates: number[];
  aloneRates: number[];
  connections: number;
  smoke: boolean;
  drainTimeoutMs: number;
}

/**
 * The whole service under load: a warm-up, each open-loop rate from an idle pipeline, a closed
 * loop, then the receiver alone (worker paused). Keeps what every acknowledged webhook must
 * become (`expected` events, `acknowledged` raw archives) and when each request was due.
 */
export class ServicePhases {
  readonly phases: PhaseResult[] = [];
  readonly phaseOf = new Map<string, string>();
  readonly sentAt = new Map<string, number>();
  expected = 0;
  acknowledged = 0;

  constructor(
    private readonly urls: string[],
    private readonly worker: Child,
    private readonly counter: EventCounter,
    private readonly mix: PayloadMix,
    private readonly settings: ServicePhaseSettings,
  ) {}

  async run(): Promise<void> {
    const { seconds, rates, aloneRates, connections, smoke } = this.settings;
    const next = (): ReturnType<PayloadMix['next']> => this.mix.next();
    log('warming up');
    this.account(await openLoop(this.urls, 'warm-up', 200, smoke ? 1 : 3, next));
    for (const rate of rates) {
      // Each rate starts from an idle pipeline, so its figures are its own: the tail of one phase is
      // not slowed by the next, higher one, nor does a phase inherit the backlog of the one before.
      log(`open loop at ${rate}/s for ${seconds} s`);
      const result = this.account(await openLoop(this.urls, `${rate}/s`, rate, seconds, next));
      for (const s of result.samples) this.sentAt.set(s.request.correlationId, result.startedAt + s.at);
      log(`waiting for the ${rate}/s phase's events and raw archives`);
      this.phases.push({ ...result, settled: await this.settle() });
    }
    log(`closed loop, ${connections} clients, for ${seconds} s`);
    const closed = this.account(await closedLoop(this.urls, `max (${connections} clients)`, connections, seconds, next));
    // The worker is paused next: paused mid-backlog, Redis calls it had made time out while it
    // sleeps and their hand-offs' events are published again on resume (duplicate copies the
    // pause causes, not the load). Paused once idle, the copies counted are the service's own.
    log(`waiting for the closed loop's events and raw archives`);
    this.phases.push({ ...closed, settled: await this.settle() });

    // The receiver alone. In production receivers and workers scale on their own (k8s/); here all
    // five parts share two cores, and the worker's CPU would decide the receiver's figure. The worker
    // is paused (SIGSTOP) while the receiver is driven, then resumed: what was acknowledged meanwhile
    // waits in the broker and must still arrive as events (the zero-loss count includes it).
    if (aloneRates.length === 0) return;
    this.worker.process.kill('SIGSTOP');
    try {
      for (const rate of aloneRates) {
        log(`receiver alone (worker paused): open loop at ${rate}/s for ${seconds} s`);
        this.phases.push({ ...this.account(await openLoop(this.urls, `${rate}/s, receiver alone`, rate, seconds, next)), receiverAlone: true });
      }
      log(`receiver alone (worker paused): closed loop, ${connections} clients, for ${seconds} s`);
      this.phases.push({
        ...this.account(await closedLoop(this.urls, `max (${connections} clients), receiver alone`, connections, seconds, next)),
        receiverAlone: true,
      });
    } finally {
      this.worker.process.kill('SIGCONT');
    }
  }

  /** Every event and raw archive of what was acknowledged so far, waited for (bounded): seconds taken. */
  async settle(): Promise<{ events: number; archives: number }> {
    const start = performance.now();
    const elapsed = (): number => round((performance.now() - start) / 1000);
    const timeout = this.settings.drainTimeoutMs;
    while (this.counter.arrivals.size < this.expected && performance.now() - start < timeout) await sleep(100);
    const events = elapsed();
    while ((await rawArchived(this.worker.url)) < this.acknowledged && performance.now() - start < timeout) await sleep(100);
    return { events, archives: elapsed() };
  }

  /** End to end for each open-loop phase of the whole service: POST due → event on the queue. */
  measureEndToEnd(): void {
    for (const phase of this.phases) {
      if (phase.targetRate === null || phase.receiverAlone) continue;
      const bySecond: number[][] = [];
      const e2e = phase.samples
        .filter((s) => s.status === 200)
        .flatMap((s) =>
          (this.counter.arrivalsByRequest.get(s.request.correlationId) ?? []).map((at) => {
            const latency = at - this.sentAt.get(s.request.correlationId)!;
            (bySecond[Math.floor(s.at / 1000)] ??= []).push(latency);
            return latency;
          }),
        );
      e2e.sort((a, b) => a - b);
      const p95BySecond = Array.from(bySecond, (second = []) =>
        round(
          percentile(
            second.sort((a, b) => a - b),
            0.95,
          ),
        ),
      );
      phase.endToEnd = { events: e2e.length, p50: round(percentile(e2e, 0.5)), p95: round(percentile(e2e, 0.95)), p95BySecond };
    }
  }

  /** Counts what acknowledged webhooks sent by another phase (order) must become. */
  include(phase: string, acknowledged: readonly PlannedRequest[]): void {
    for (const request of acknowledged) {
      this.phaseOf.set(request.correlationId, phase);
      this.expected += request.updates;
      this.acknowledged += 1;
    }
  }

  /** Counts what a phase's acknowledged webhooks must become. */
  private account(result: PhaseResult): PhaseResult {
    for (const s of result.samples) {
      this.phaseOf.set(s.request.correlationId, result.name);
      if (s.status !== 200) continue;
      this.expected += s.request.updates;
      this.acknowledged += 1;
    }
    return result;
  }
}
