import { bool, groupParticipantOf, hasIds, isoFromUnix, obj, str, type Ids, type JsonObject } from '../../meta';
import type { Sender, StatusInfo } from '../../contract';
import { metaErrors } from './meta-errors';
import { toE164 } from './phone-number';
import { partyOf } from './parties';

/**
 * A status update (sent, delivered, read, played, failed, or whatever Meta adds), with errors,
 * conversation and pricing. `previous` and `outOfOrder` are filled in by the status-order step.
 * Meta has spelt the recipient's parent user id two ways (`recipient_parent_user_id`, and
 * `parent_recipient_user_id` before its 2026-05 fix): both are read.
 */
export function statusInfo(status: JsonObject, value: JsonObject = {}): StatusInfo {
  const conversation = obj(status.conversation);
  const pricing = obj(status.pricing);
  const recipientId = str(status.recipient_id) ?? null;
  const isGroup = str(status.recipient_type) === 'group';
  const recipient = isGroup ? undefined : partyOf(recipientIds(status), value);
  const participant = participantIds(status);
  return {
    state: stateOf(status),
    previous: null,
    outOfOrder: false,
    recipient: {
      waId: isGroup ? null : recipientId,
      userId: str(status.recipient_user_id) ?? null,
      parentUserId: recipient?.parentUserId ?? null,
      username: recipient?.username ?? null,
      phone: isGroup ? null : toE164(recipientId).phone,
      type: str(status.recipient_type) ?? null,
      groupId: isGroup ? recipientId : null,
      participant: participantOf(status),
      participantWaId: isGroup ? (participant.waId ?? null) : null,
      participantUserId: isGroup ? (participant.userId ?? null) : null,
      participantParentUserId: isGroup ? (participant.parentUserId ?? null) : null,
    },
    errors: metaErrors(status.errors),
    conversation: conversation
      ? {
          id: str(conversation.id) ?? null,
          originType: str(obj(conversation.origin)?.type) ?? null,
          expiresAt: isoFromUnix(conversation.expiration_timestamp) ?? null,
        }
      : null,
    pricing: pricing
      ? {
          billable: bool(pricing.billable) ?? null,
          pricingModel: str(pricing.pricing_model) ?? null,
          category: str(pricing.category) ?? null,
          type: str(pricing.type) ?? null,
        }
      : null,
    bizOpaqueCallbackData: str(status.biz_opaque_callback_data) ?? null,
  };
}

/** The state Meta reports (`sent`, `read`, …): what the status order records. */
export function stateOf(status: JsonObject): string {
  return str(status.status) ?? 'unknown';
}

/** In a group, the participant a status is for (the same one its dedup key names); null outside groups. */
export function participantOf(status: JsonObject): string | null {
  return groupParticipantOf(status) ?? null;
}

/** The customer a status is about: the recipient, or in a group the participant it went to. */
export function statusCustomer(status: JsonObject, value: JsonObject): Sender | null {
  const ids = str(status.recipient_type) === 'group' ? participantIds(status) : recipientIds(status);
  return hasIds(ids) ? partyOf(ids, value) : null;
}

function recipientIds(status: JsonObject): Ids {
  return {
    waId: str(status.recipient_id),
    userId: str(status.recipient_user_id),
    parentUserId: str(status.recipient_parent_user_id) ?? str(status.parent_recipient_user_id),
  };
}

function participantIds(status: JsonObject): Ids {
  return {
    waId: str(status.recipient_participant_id),
    userId: str(status.recipient_participant_user_id),
    parentUserId: str(status.recipient_participant_parent_user_id) ?? str(status.parent_recipient_participant_user_id),
  };
}
