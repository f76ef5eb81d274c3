import type { StatusOrderStore, StatusTransition } from '../../cache';
import { isoFromUnix, messageType, obj, phoneNumberIdOf, str, type JsonObject, type Update } from '../../meta';
import type { Tenant } from '../../tenants';
import { eventIdOf, SCHEMA_MINOR_VERSION, SCHEMA_VERSION, type Content, type InboundEvent } from '../../contract';
import { metaErrors } from './meta-errors';
import { processorFor, type MediaPort, type ProcessorInput } from '../processors';
import { contextOf } from './context';
import { messageParties } from './message-parties';
import { notificationView } from './notifications';
import { participantOf, stateOf, statusCustomer, statusInfo } from './status';

export interface BuildContext {
  tenantId: string;
  /** Null when the tenant record is gone (the event is still produced, without its metadata). */
  tenant: Tenant | null;
  correlationId: string;
  receivedAt: string;
  source: 'meta' | 'replay';
  raw: { bucket: string; key: string };
  media: MediaPort;
  statusOrder: StatusOrderStore;
  /** Status-order records already under way, by update ref (see recordStatus). */
  statusRecords?: ReadonlyMap<string, Promise<StatusTransition>>;
}

/**
 * Records a status update's state for its message (invariant 6). Recording the same state again
 * changes nothing, so the caller may start it before knowing whether the event is already published.
 */
export function recordStatus(update: Update, ctx: Pick<BuildContext, 'tenantId' | 'statusOrder'>): Promise<StatusTransition> {
  const participant = participantOf(update.item);
  const messageKey = `${update.messageId ?? eventIdOf(ctx.tenantId, update.kind, update.key)}${participant ? `:${participant}` : ''}`;
  return ctx.statusOrder.record(ctx.tenantId, messageKey, stateOf(update.item));
}

/** One update → one event of the contract. Odd input gives nulls, never an exception. */
export async function buildEvent(update: Update, ctx: BuildContext, eventId = eventIdOf(ctx.tenantId, update.kind, update.key)): Promise<InboundEvent> {
  const metadata = obj(update.value.metadata) ?? obj(update.value.recipient);
  const event: InboundEvent = {
    schemaVersion: SCHEMA_VERSION,
    schemaMinorVersion: SCHEMA_MINOR_VERSION,
    eventId,
    correlationId: ctx.correlationId,
    kind: update.kind,
    type: update.type,
    tenantId: ctx.tenantId,
    businessAccountId: update.accountId,
    phoneNumberId: phoneNumberIdOf(update.value) ?? null,
    messageId: update.messageId,
    timestamp: isoFromUnix(update.item.timestamp) ?? isoFromUnix(update.entryTime) ?? ctx.receivedAt,
    receivedAt: ctx.receivedAt,
    direction: null,
    origin: null,
    from: null,
    to: null,
    conversation: null,
    history: null,
    context: null,
    content: null,
    status: null,
    raw: { ...ctx.raw, ref: update.ref },
    metadata: {
      tenantName: ctx.tenant?.name ?? null,
      displayPhoneNumber: str(metadata?.display_phone_number) ?? str(update.value.display_phone_number) ?? null,
      source: ctx.source,
      conversation: null,
      degraded: [],
    },
  };
  switch (update.kind) {
    case 'message': {
      const parties = messageParties(update);
      Object.assign(event, parties, { origin: update.origin });
      if (update.history) event.history = { ...update.history, status: str(obj(update.item.history_context)?.status) ?? null };
      event.context = contextOf(update.item);
      event.content = await messageContent(update.type, update.item, update.value, input(update, event.eventId, ctx));
      break;
    }
    case 'status': {
      const transition = await (ctx.statusRecords?.get(update.ref) ?? recordStatus(update, ctx));
      event.status = { ...statusInfo(update.item, update.value), ...transition };
      event.direction = 'outbound';
      event.conversation = {
        customer: statusCustomer(update.item, update.value),
        groupId: event.status.recipient.groupId,
        standby: update.standby,
        sequence: null,
        overtook: [],
      };
      break;
    }
    case 'notification': {
      const view = notificationView(update);
      event.content = view.content;
      event.direction = view.direction;
      event.conversation = view.conversation;
      break;
    }
  }
  return event;
}

function input(update: Update, eventId: string, ctx: BuildContext): Omit<ProcessorInput, 'message'> {
  const base = { messageId: update.messageId ?? eventId, receivedAt: ctx.receivedAt, tenantId: ctx.tenantId, tenant: ctx.tenant, media: ctx.media };
  const nested = async (message: JsonObject): Promise<{ type: string; content: Content }> => {
    const type = messageType(message);
    return { type, content: await processorFor(type)({ ...base, message, nested: () => Promise.resolve({ type: 'unknown', content: {} }) }) };
  };
  return { ...base, nested };
}

async function messageContent(type: string, message: JsonObject, value: JsonObject, rest: Omit<ProcessorInput, 'message'>): Promise<Content> {
  const content = await processorFor(type)({ ...rest, message });
  const errors = [...metaErrors(message.errors), ...metaErrors(value.errors)];
  return errors.length > 0 ? { ...content, errors } : content;
}
