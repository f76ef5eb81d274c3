import { randomUUID } from 'node:crypto';
import type { AsyncMessage } from 'rabbitmq-client';
import { PermanentError } from '../errors';
import type { OutgoingMessage } from './confirmed.publisher';

/**
 * What the receiver hands to the worker, as a versioned tagged union. The AMQP body is the exact
 * bytes Meta sent (the signature was computed over them, and the archive keeps them); the typed
 * fields travel as headers, so the message stays small besides the payload itself.
 */
export interface WebhookReceivedV1 {
  type: 'webhook.received';
  version: 1;
  handoffId: string;
  tenantId: string;
  correlationId: string;
  /** When the receiver accepted it (ISO-8601). */
  receivedAt: string;
  /** Where the raw payload is (or will be) archived in the raw bucket. */
  rawKey: string;
  /** `entry[]` indexes that belong to this tenant. */
  entryIndexes: number[];
  /** `meta` for live traffic, `replay` when an operator re-submitted it. */
  source: 'meta' | 'replay';
  /** 1 for the first processing; incremented by each retry. */
  attempt: number;
  /** Update refs to (re)process; absent means all of them. */
  only?: string[];
  /**
   * The shard it was handed off to, of how many: only the updates whose conversation is in that
   * shard are its own (meta's shardsOf with this count); absent means all of them.
   */
  shard?: Shard;
  /** Why the previous attempt failed (for operators reading a retry or dead-letter queue). */
  lastError?: string;
  /** When the first retry of this hand-off was scheduled (ISO); bounds retries through an outage. */
  retryingSince?: string;
  /** The raw payload is archived (or queued for it) already: a retry copy skips the archive. */
  archived?: boolean;
  body: Buffer;
}

export type HandoffMessage = WebhookReceivedV1;

export interface Shard {
  index: number;
  count: number;
}

/**
 * A new hand-off of a webhook (first attempt, a fresh id): the one constructor the receiver and the
 * replay both use, so that every field a worker reads is set the same way.
 */
export function webhookReceived(fields: Omit<WebhookReceivedV1, 'type' | 'version' | 'handoffId' | 'attempt'>): HandoffMessage {
  return { type: 'webhook.received', version: 1, handoffId: randomUUID(), attempt: 1, ...fields };
}

const H = {
  type: 'x-handoff-type',
  version: 'x-handoff-version',
  tenant: 'x-tenant-id',
  receivedAt: 'x-received-at',
  rawKey: 'x-raw-key',
  entries: 'x-entries',
  source: 'x-source',
  attempt: 'x-attempt',
  only: 'x-only',
  shard: 'x-shard',
  lastError: 'x-last-error',
  retryingSince: 'x-retrying-since',
  archived: 'x-archived',
} as const;

export function encodeHandoff(message: HandoffMessage, exchange: string, routingKey: string): OutgoingMessage {
  const headers: Record<string, unknown> = {
    [H.type]: message.type,
    [H.version]: message.version,
    [H.tenant]: message.tenantId,
    [H.receivedAt]: message.receivedAt,
    [H.rawKey]: message.rawKey,
    [H.entries]: message.entryIndexes.join(','),
    [H.source]: message.source,
    [H.attempt]: message.attempt,
  };
  if (message.only) headers[H.only] = message.only.join(',');
  if (message.shard) headers[H.shard] = `${message.shard.index}/${message.shard.count}`;
  if (message.lastError) headers[H.lastError] = message.lastError.slice(0, 500);
  if (message.retryingSince) headers[H.retryingSince] = message.retryingSince;
  if (message.archived) headers[H.archived] = true;
  return {
    exchange,
    routingKey,
    body: message.body,
    messageId: message.handoffId,
    correlationId: message.correlationId,
    // contentEncoding keeps rabbitmq-client from parsing the body: the exact bytes matter.
    contentType: 'application/json',
    contentEncoding: 'identity',
    headers,
  };
}

/** Reads a consumed hand-off; anything we cannot read is a PermanentError (dead-lettered). */
export function decodeHandoff(msg: AsyncMessage): HandoffMessage {
  const headers: Record<string, unknown> = msg.headers ?? {};
  const type = headers[H.type];
  const version = Number(headers[H.version]);
  if (type !== 'webhook.received' || version !== 1) {
    throw new PermanentError('unknown_handoff', `Unknown hand-off ${String(type)} v${String(headers[H.version])}`);
  }
  if (!Buffer.isBuffer(msg.body)) throw new PermanentError('unknown_handoff', 'Hand-off body is not raw bytes');
  const text = (name: string): string => {
    const value = headers[name];
    if (typeof value !== 'string' || value === '') throw new PermanentError('unknown_handoff', `Hand-off header ${name} is missing`);
    return value;
  };
  const list = (value: unknown): string[] => (typeof value === 'string' && value !== '' ? value.split(',') : []);
  const lastError = headers[H.lastError];
  const retryingSince = headers[H.retryingSince];
  return {
    type,
    version,
    handoffId: msg.messageId ?? text(H.rawKey),
    tenantId: text(H.tenant),
    correlationId: msg.correlationId ?? 'unknown',
    receivedAt: text(H.receivedAt),
    rawKey: text(H.rawKey),
    entryIndexes: list(headers[H.entries]).map(Number),
    source: headers[H.source] === 'replay' ? 'replay' : 'meta',
    attempt: Math.max(1, Number(headers[H.attempt]) || 1),
    only: headers[H.only] === undefined ? undefined : list(headers[H.only]),
    shard: headers[H.shard] === undefined ? undefined : shardFrom(headers[H.shard]),
    lastError: typeof lastError === 'string' ? lastError : undefined,
    retryingSince: typeof retryingSince === 'string' ? retryingSince : undefined,
    archived: headers[H.archived] === true ? true : undefined,
    body: msg.body,
  };
}

/** `index/count` as the header carries it; anything else is unreadable (dead-lettered as it came). */
function shardFrom(header: unknown): Shard {
  const match = typeof header === 'string' ? /^(\d{1,4})\/(\d{1,4})$/.exec(header) : null;
  const index = Number(match?.[1]);
  const count = Number(match?.[2]);
  if (!match || count < 1 || index >= count) throw new PermanentError('unknown_handoff', `Hand-off header x-shard is not index/count: ${String(header)}`);
  return { index, count };
}
