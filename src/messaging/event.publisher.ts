import { routingKeyOf, type InboundEvent } from '../contract';
import type { ConfirmedPublisher } from './confirmed.publisher';
import { EXCHANGES } from './topology';

/** The fields of an event the broker envelope is made from (the body is the whole event). */
export type PublishableEvent = Pick<
  InboundEvent,
  'schemaVersion' | 'schemaMinorVersion' | 'eventId' | 'correlationId' | 'kind' | 'type' | 'tenantId' | 'direction' | 'origin'
>;

/** Which attempt of its hand-off published an event (for the ledger's trace: 2 and more after a retry). */
export interface PublishedBy {
  attempt: number;
  /** Why the attempt before failed. */
  lastError?: string;
}

/** Longest `x-handoff-last-error` header (an error message, not a payload). */
const MAX_LAST_ERROR = 300;

/**
 * Publishes normalized events to `whatsapp.inbound` with the routing key of `routingKeyOf`:
 * persistent, mandatory, confirmed; `messageId` = eventId (stable, so consumers can dedup),
 * `correlationId`, `contentType: application/json`, and the tenant, schema version, direction
 * and origin as headers for routing; `x-handoff-attempt` (and `x-handoff-last-error` after a
 * retry) say which attempt of the hand-off published it.
 */
export class EventPublisher {
  constructor(private readonly publisher: ConfirmedPublisher) {}

  /** `onSent`: see ConfirmedPublisher.publish (the next event of a conversation may go from then on). */
  publish(event: PublishableEvent, onSent?: () => void, by?: PublishedBy): Promise<void> {
    return this.publisher.publish(
      {
        exchange: EXCHANGES.events,
        routingKey: routingKeyOf(event),
        body: Buffer.from(JSON.stringify(event)),
        messageId: event.eventId,
        correlationId: event.correlationId,
        contentType: 'application/json',
        headers: {
          'x-tenant-id': event.tenantId,
          'x-schema-version': event.schemaVersion,
          'x-schema-minor-version': event.schemaMinorVersion,
          ...(event.direction ? { 'x-direction': event.direction } : {}),
          ...(event.origin ? { 'x-origin': event.origin } : {}),
          ...(by ? { 'x-handoff-attempt': by.attempt } : {}),
          ...(by?.lastError ? { 'x-handoff-last-error': by.lastError.slice(0, MAX_LAST_ERROR) } : {}),
        },
      },
      onSent,
    );
  }

  close(): Promise<void> {
    return this.publisher.close();
  }
}
