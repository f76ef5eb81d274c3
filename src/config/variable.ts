import { z } from 'zod';

/** The value types the environment schema is made of, and the documentation each variable carries. */

/** 0 picks a free port (tests). */
export const port = z.coerce.number().int().min(0).max(65535);
export const positiveInt = z.coerce.number().int().positive();
export const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'expected true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
export const url = (protocols: readonly string[]) =>
  z.string().refine(
    (v) => {
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    },
    { message: `expected a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}` },
  );
/** The nodes of one RabbitMQ broker, from RABBITMQ_URL. */
export interface AmqpNodes {
  /** The first URL: credentials, virtual host, TLS, query options. */
  url: string;
  /** `host:port` of every node, in the order given. */
  hosts: string[];
  vhost: string;
}

/** Reads one AMQP URL or several separated by commas; throws naming what is wrong. */
export function parseAmqpNodes(value: string): AmqpNodes {
  const urls = value.split(',').map((part) => {
    let url: URL;
    try {
      url = new URL(part.trim());
    } catch {
      throw new Error('expected amqp://user:password@host:port/vhost, or several separated by commas');
    }
    if (url.protocol !== 'amqp:' && url.protocol !== 'amqps:') throw new Error('expected URLs starting with amqp:// or amqps://');
    return url;
  });
  const first = urls[0]!;
  const sameBroker = (u: URL): boolean =>
    u.protocol === first.protocol && u.username === first.username && u.password === first.password && u.pathname === first.pathname;
  if (!urls.every(sameBroker)) {
    throw new Error('the URLs must differ only in host and port (same scheme, user, password and vhost): they name the nodes of one cluster');
  }
  const defaultPort = first.protocol === 'amqps:' ? 5671 : 5672;
  return {
    url: first.href,
    hosts: urls.map((u) => `${u.hostname}:${u.port || defaultPort}`),
    vhost: decodeURIComponent(first.pathname.split('/')[1] ?? '') || '/',
  };
}

export const amqpNodes = z.string().superRefine((value, ctx) => {
  try {
    parseAmqpNodes(value);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
  }
});
/** `host:port` pairs separated by commas (Redis Sentinels). */
export const hostPorts = z
  .string()
  .regex(/^[A-Za-z0-9.-]+:\d{1,5}(,[A-Za-z0-9.-]+:\d{1,5})*$/, 'expected host:port pairs separated by commas, e.g. sentinel-0:26379,sentinel-1:26379')
  .transform((v) => v.split(',').map((pair) => ({ host: pair.slice(0, pair.lastIndexOf(':')), port: Number(pair.slice(pair.lastIndexOf(':') + 1)) })));
export const httpUrl = url(['http:', 'https:']).transform((v) => v.replace(/\/+$/, ''));
/** `host`, `*.domain` or `scheme://host[:port]`. */
export const MEDIA_HOST_ENTRY = /^(?:\*\.)?[a-z0-9.-]+$|^https?:\/\/[a-z0-9.-]+(?::\d{1,5})?$/;
export const msList = z
  .string()
  .regex(/^\d+(,\d+)*$/, 'expected a comma-separated list of milliseconds, e.g. 5000,30000,300000')
  .transform((v) => v.split(',').map(Number));

export interface VariableDoc {
  /** One line for docs/configuration.md and .env.example. */
  description: string;
  /** Never printed in logs or errors. */
  secret?: boolean;
}

export function variable<T extends z.ZodType>(schema: T, doc: VariableDoc): T {
  variableDocs.set(schema, doc);
  return schema;
}
export const variableDocs = new Map<z.ZodType, VariableDoc>();
