import { Connection } from 'rabbitmq-client';
import type { Logger } from '../observability';

/** A broker: the URL of its first node (credentials, vhost, TLS) and `host:port` of every node. */
export interface RabbitTarget {
  url: string;
  hosts?: string[];
}

/**
 * One AMQP connection per process; rabbitmq-client re-establishes it (and every publisher's and
 * consumer's channel) by itself after a broker restart, with exponential backoff, on the next of
 * the cluster's nodes each time (round robin).
 */
export function createRabbit(target: string | RabbitTarget, logger: Logger, name: string): Connection {
  const { url, hosts } = typeof target === 'string' ? { url: target, hosts: undefined } : target;
  const rabbit = new Connection({
    url,
    hosts,
    connectionName: name,
    // 128 KiB frames: a 3 MB webhook travels in 24 frames instead of 380.
    frameMax: 131_072,
    // A publish never waits long for a channel while the broker is away; callers time out anyway.
    acquireTimeout: 5_000,
    connectionTimeout: 5_000,
    retryLow: 200,
    retryHigh: 5_000,
    heartbeat: 30,
    noDelay: true,
  });
  rabbit.on('error', (err: unknown) => logger.warn('RabbitMQ connection error', { cause: String(err) }));
  rabbit.on('connection', () => logger.info('RabbitMQ connection established'));
  rabbit.on('connection.blocked', (reason: string) => logger.warn('RabbitMQ blocked publishing', { reason }));
  rabbit.on('connection.unblocked', () => logger.info('RabbitMQ unblocked publishing'));
  return rabbit;
}
