import type { ServerResponse } from 'node:http';
import type { RateDecision, TenantRateLimiter } from '../cache';
import { RateLimitedError } from '../errors';
import type { Logger, Metrics } from '../observability';
import type { Tenant } from '../tenants';

/**
 * Per-tenant requests per minute on `POST /webhook` (the tenant's `rateLimitPerMinute`, else
 * RATE_LIMIT_PER_MINUTE). Sets `X-RateLimit-Limit`, `X-RateLimit-Remaining` and
 * `X-RateLimit-Reset` (epoch seconds) on the answer; past the limit, 429 with `Retry-After`
 * (Meta retries later, so nothing is lost). A payload for several tenants is charged to each.
 */
export class WebhookRateLimit {
  constructor(
    private readonly limiter: TenantRateLimiter,
    private readonly defaultPerMinute: number,
    private readonly logger: Logger,
    private readonly metrics: Metrics,
  ) {}

  async check(tenants: readonly Tenant[], res: ServerResponse): Promise<void> {
    const decisions = await Promise.all(tenants.map(async (tenant) => ({ tenant, decision: await this.consume(tenant) })));
    const tightest = decisions.reduce((a, b) => (b.decision.remaining < a.decision.remaining ? b : a));
    res.setHeader('X-RateLimit-Limit', String(tightest.decision.limit));
    res.setHeader('X-RateLimit-Remaining', String(tightest.decision.remaining));
    res.setHeader('X-RateLimit-Reset', String(Math.ceil(Date.now() / 1000) + tightest.decision.resetSeconds));
    const refused = decisions.find((d) => !d.decision.allowed);
    if (refused) {
      this.metrics.rateLimited.inc({ tenant: refused.tenant.id });
      throw new RateLimitedError(refused.decision.resetSeconds, { details: { tenantId: refused.tenant.id, limitPerMinute: refused.decision.limit } });
    }
  }

  private async consume(tenant: Tenant): Promise<RateDecision> {
    const decision = await this.limiter.consume(tenant.id, tenant.rateLimitPerMinute ?? this.defaultPerMinute);
    if (!decision.shared) {
      this.metrics.dependencyDegraded.inc({ dependency: 'redis', feature: 'rate_limit' });
      this.logger.debug('rate limit counted by this instance alone while Redis is unavailable', { tenantId: tenant.id });
    }
    return decision;
  }
}
