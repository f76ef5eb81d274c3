import { bool, isoFromUnix, obj, str, type JsonObject } from '../../meta';
import { metaErrors, type StatusInfo } from '../event';
import { toE164 } from '../normalize/sender';

/**
 * A status update (sent, delivered, read, played, failed, or whatever Meta adds), with errors,
 * conversation and pricing. `previous` and `outOfOrder` are filled in by the status-order step.
 */
export function statusInfo(status: JsonObject): StatusInfo {
  const conversation = obj(status.conversation);
  const pricing = obj(status.pricing);
  const recipientId = str(status.recipient_id) ?? null;
  const isGroup = str(status.recipient_type) === 'group';
  return {
    state: str(status.status) ?? 'unknown',
    previous: null,
    outOfOrder: false,
    recipient: {
      waId: isGroup ? null : recipientId,
      userId: str(status.recipient_user_id) ?? null,
      phone: isGroup ? null : toE164(recipientId).phone,
      type: str(status.recipient_type) ?? null,
      participant: isGroup ? (str(status.recipient_participant_id) ?? str(status.recipient_participant_user_id) ?? null) : null,
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
