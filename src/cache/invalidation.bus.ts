import type { Logger } from '../observability';
import type { Redis } from './redis.client';

export interface Invalidation {
  /** The tenant whose cached data changed; absent: every tenant. */
  tenantId?: string;
}

/**
 * Tells every instance that tenant data changed, over Redis pub/sub, so each drops what it keeps
 * in memory. Redis-held caches are deleted by whoever invalidates; this carries the rest. The
 * subscriber has its own connection, which re-subscribes by itself after a reconnect.
 */
export class InvalidationBus {
  private subscriber: Redis | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly channel: string,
    private readonly logger: Logger,
  ) {}

  async publish(message: Invalidation): Promise<number> {
    return this.redis.publish(this.channel, JSON.stringify(message));
  }

  subscribe(handler: (message: Invalidation) => void): void {
    if (this.subscriber) return;
    const subscriber = this.redis.duplicate({ enableOfflineQueue: true });
    subscriber.on('error', (err: unknown) => this.logger.debug('invalidation subscriber error', { cause: String(err) }));
    subscriber.on('message', (_channel: string, text: string) => {
      try {
        handler(JSON.parse(text) as Invalidation);
      } catch (err) {
        this.logger.warn('unreadable cache invalidation message ignored', { cause: String(err) });
      }
    });
    subscriber.subscribe(this.channel).catch((err: unknown) => this.logger.warn('cache invalidation subscription failed', { cause: String(err) }));
    this.subscriber = subscriber;
  }

  close(): void {
    this.subscriber?.disconnect();
    this.subscriber = undefined;
  }
}
