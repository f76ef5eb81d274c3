import { hasIds, idsAt, isBusinessNumber, num, obj, objects, str, type JsonObject } from '../../meta';
import type { Content, Direction, Sender } from '../../contract';
import { metaErrors } from './meta-errors';
import { partyOf } from './parties';
import { isoOrNull } from './time';

/**
 * Field `calls`: each call event (`call_created`, `connect`, `terminate`, …) with caller and
 * callee, direction, times, duration and errors; each call status (`RINGING`, `ACCEPTED`, …).
 * The customer is the side whose number is not the business's, else the callee of a
 * business-initiated call or the caller of a user-initiated one.
 */
export function callsContent(value: JsonObject): { content: Content; direction: Direction | null; customer: Sender | null } {
  const calls = objects(value.calls).map((call) => {
    const direction = directionOf(str(call.direction));
    const from = partyOf(idsAt(call, 'from'), value);
    const to = partyOf(idsAt(call, 'to'), value);
    const customerIsCaller = isBusinessNumber(to.waId, value) || (!isBusinessNumber(from.waId, value) && direction !== 'outbound');
    return {
      direction,
      customer: customerIsCaller ? from : to,
      content: {
        callId: str(call.id) ?? null,
        event: str(call.event) ?? null,
        direction,
        status: str(call.status) ?? null,
        from,
        to,
        timestamp: isoOrNull(call.timestamp),
        startedAt: isoOrNull(call.start_time),
        endedAt: isoOrNull(call.end_time),
        durationSeconds: num(call.duration) ?? null,
        sdpType: str(obj(call.session)?.sdp_type) ?? null,
        transcription: call.transcription ?? null,
        bizOpaqueCallbackData: str(call.biz_opaque_callback_data) ?? null,
        errors: metaErrors(call.errors),
      } satisfies Content,
    };
  });
  const statuses = objects(value.statuses).map((status) => {
    const recipient = { waId: str(status.recipient_id), userId: str(status.recipient_user_id) };
    return {
      callId: str(status.id) ?? null,
      type: str(status.type) ?? null,
      status: str(status.status) ?? null,
      timestamp: isoOrNull(status.timestamp),
      recipient: hasIds(recipient) ? partyOf(recipient, value) : null,
      bizOpaqueCallbackData: str(status.biz_opaque_callback_data) ?? null,
      errors: metaErrors(status.errors),
    } satisfies Content;
  });
  const first = calls[0];
  const event = first?.content.event ?? statuses[0]?.status?.toLowerCase() ?? null;
  return {
    content: { field: 'calls', event, value, calls: calls.map((c) => c.content), statuses, errors: metaErrors(value.errors) },
    direction: first?.direction ?? (statuses.length > 0 ? 'outbound' : null),
    customer: first?.customer ?? statuses[0]?.recipient ?? null,
  };
}

function directionOf(direction: string | undefined): Direction | null {
  if (direction === 'USER_INITIATED') return 'inbound';
  if (direction === 'BUSINESS_INITIATED') return 'outbound';
  return null;
}
