import type { ConfirmedPublisher } from './confirmed.publisher';
import { EXCHANGES } from './topology';

/** The fields of an event the broker envelope is made from (the body is the whole event). */
export interface PublishableEvent {
  schemaVersion: number;
  eventId: string;
  correlationId: string;
  kind: string;
  type: string;
  tenantId: string;
}

/**
 * Publishes normalized events to `whatsapp.inbound` with routing key `{kind}.{type}`:
 * persistent, mandatory, confirmed; `messageId` = eventId (stable, so consumers can dedup),
 * `correlationId`, `contentType: application/json`, and the tenant as a header for routing.
 */
export class EventPublisher {
  constructor(private readonly publisher: ConfirmedPublisher) {}

  publish(event: PublishableEvent): Promise<void> {
    return this.publisher.publish({
      exchange: EXCHANGES.events,
      routingKey: `${event.kind}.${event.type}`,
      body: Buffer.from(JSON.stringify(event)),
      messageId: event.eventId,
      correlationId: event.correlationId,
      contentType: 'application/json',
      headers: { 'x-tenant-id': event.tenantId, 'x-schema-version': event.schemaVersion },
    });
  }

  close(): Promise<void> {
    return this.publisher.close();
  }
}
