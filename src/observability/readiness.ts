import type { Metrics } from './metrics';

export interface DependencyCheck {
  name: string;
  /** Resolves when the dependency can do work; rejects (or takes longer than the timeout) otherwise. */
  check: () => Promise<void>;
  /** When false the dependency is reported but does not make the role unready (it degrades without it). */
  required?: boolean;
}

export interface CheckResult {
  status: 'up' | 'down';
  required: boolean;
  latencyMs: number;
  error?: string;
}

export interface ReadinessReport {
  ready: boolean;
  status: 'ready' | 'not_ready' | 'shutting_down';
  checks: Record<string, CheckResult>;
}

/**
 * What `/ready` answers: every dependency of this role checked in parallel, each bounded by
 * `timeoutMs`, with its latency; not ready while shutting down. `/health` never comes here:
 * it does no I/O.
 */
export class Readiness {
  private shuttingDown = false;

  constructor(
    private readonly checks: readonly DependencyCheck[],
    private readonly metrics?: Metrics,
    private readonly timeoutMs = 500,
  ) {}

  markShuttingDown(): void {
    this.shuttingDown = true;
  }

  async report(): Promise<ReadinessReport> {
    const entries = await Promise.all(this.checks.map(async (dep) => [dep.name, await this.run(dep)] as const));
    const checks = Object.fromEntries(entries);
    for (const [name, result] of entries) this.metrics?.dependencyUp.set({ dependency: name }, result.status === 'up' ? 1 : 0);
    const allUp = entries.every(([, result]) => result.status === 'up' || !result.required);
    if (this.shuttingDown) return { ready: false, status: 'shutting_down', checks };
    return { ready: allUp, status: allUp ? 'ready' : 'not_ready', checks };
  }

  private async run(dep: DependencyCheck): Promise<CheckResult> {
    const started = performance.now();
    const required = dep.required ?? true;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        dep.check(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
        }),
      ]);
      return { status: 'up', required, latencyMs: elapsed(started) };
    } catch (err) {
      return { status: 'down', required, latencyMs: elapsed(started), error: err instanceof Error ? err.message : String(err) };
    } finally {
      clearTimeout(timer);
    }
  }
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10;
}
