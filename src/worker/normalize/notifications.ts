import { hasIds, num, obj, objects, str, type JsonObject, type Update } from '../../meta';
import type { Content, Conversation, Direction } from '../../contract';
import { metaErrors } from './meta-errors';
import { callsContent } from './calls';
import { GROUP_FIELDS, groupsContent } from './groups';
import { identityChange } from './identity';
import { partyOf } from './parties';

/** What a notification becomes: its content, and whom it is about when Meta says. */
export interface NotificationView {
  content: Content;
  direction: Direction | null;
  conversation: Conversation | null;
}

/**
 * Any field other than `messages` (template and account updates, user preferences, calls,
 * echoes, history, group events, fields nobody has documented yet): the change value is kept
 * whole with its `event` lifted out, and the fields Meta documents are read into typed content
 * beside it (calls, groups, handovers, usernames, history progress, identity changes).
 */
export function notificationView(update: Update): NotificationView {
  const field = update.change.field;
  const value = update.value;
  if (update.type === 'identity_changed') {
    const { content, customer } = identityChange(update);
    return { content, direction: null, conversation: { customer, groupId: null, standby: false, sequence: null, overtook: [] } };
  }
  if (field === 'calls') {
    const { content, direction, customer } = callsContent(value);
    return { content, direction, conversation: customer ? { customer, groupId: null, standby: false, sequence: null, overtook: [] } : null };
  }
  if (GROUP_FIELDS.has(field)) {
    const { content, groupId } = groupsContent(field, value);
    return { content, direction: null, conversation: groupId ? { customer: null, groupId, standby: false, sequence: null, overtook: [] } : null };
  }
  if (field === 'messaging_handovers') return handover(value);
  const base: Content = { field, event: str(value.event) ?? null, value };
  if (field === 'business_username_updates')
    return plain({ ...base, event: str(value.status) ?? null, username: str(value.username) ?? null, status: str(value.status) ?? null });
  if (field === 'history') return plain({ ...base, ...historyProgress(value) });
  return plain(base);
}

function plain(content: Content): NotificationView {
  return { content, direction: null, conversation: null };
}

/** `messaging_handovers`: who had the thread, who has it now, and why (Meta's conversation routing). */
function handover(value: JsonObject): NotificationView {
  const type = str(value.type) ?? null;
  const detail = obj(type ? value[type] : undefined);
  const sender = obj(value.sender);
  const customerId = { waId: str(sender?.phone_number) ?? str(sender?.wa_id), userId: str(sender?.user_id) };
  return {
    content: {
      field: 'messaging_handovers',
      event: type,
      value,
      handover: {
        type,
        previousOwnerRole: str(detail?.previous_owner_role) ?? null,
        newOwnerRole: str(detail?.new_owner_role) ?? null,
        metadata: str(detail?.metadata) ?? null,
        conversationContext: detail?.conversation_context ?? null,
      },
    },
    direction: null,
    conversation: hasIds(customerId) ? { customer: partyOf(customerId, value), groupId: null, standby: false, sequence: null, overtook: [] } : null,
  };
}

/** A history webhook's progress: per chunk its phase, order and percentage, how many threads and messages, and its errors. */
function historyProgress(value: JsonObject): Content {
  const chunks = objects(value.history).map((chunk) => {
    const meta = obj(chunk.metadata);
    const threads = objects(chunk.threads);
    return {
      phase: num(meta?.phase) ?? null,
      chunkOrder: num(meta?.chunk_order) ?? null,
      progress: num(meta?.progress) ?? null,
      threads: threads.length,
      messages: threads.reduce((n, thread) => n + objects(thread.messages).length, 0),
      errors: metaErrors(chunk.errors),
    };
  });
  return { chunks, messages: objects(value.messages).length, echoes: objects(value.message_echoes).length };
}
