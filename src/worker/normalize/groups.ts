import { bool, objects, obj, str, type JsonObject } from '../../meta';
import type { Content } from '../../contract';
import { metaErrors } from './meta-errors';
import { toE164 } from './phone-number';
import { isoOrNull } from './time';

/** Fields of Meta's Groups API webhooks: `groups[]` changes of lifecycle, participants, settings and status. */
export const GROUP_FIELDS: ReadonlySet<string> = new Set([
  'group_lifecycle_update',
  'group_participants_update',
  'group_settings_update',
  'group_status_update',
]);

/**
 * Each group change with its id, type, request, who started it, the participants added,
 * removed or failed (with their ids and errors), each setting updated (subject, description, …)
 * and the group-level errors. `event` is the first change's type (`group_create`, …).
 */
export function groupsContent(field: string, value: JsonObject): { content: Content; groupId: string | null } {
  const groups = objects(value.groups).map((group) => ({
    groupId: str(group.group_id) ?? null,
    type: str(group.type) ?? null,
    timestamp: isoOrNull(group.timestamp),
    requestId: str(group.request_id) ?? null,
    initiatedBy: str(group.initiated_by) ?? null,
    reason: str(group.reason) ?? null,
    subject: str(group.subject) ?? null,
    description: str(group.description) ?? null,
    inviteLink: str(group.invite_link) ?? null,
    joinApprovalMode: str(group.join_approval_mode) ?? null,
    added: participants(group.added_participants),
    removed: participants(group.removed_participants),
    failed: objects(group.failed_participants).map((p) => ({ ...participant(p), errors: metaErrors(p.errors) })),
    settings: settings(group),
    errors: metaErrors(group.errors),
  }));
  const ids = new Set(groups.map((g) => g.groupId));
  return {
    content: { field, event: groups[0]?.type ?? null, value, groups },
    groupId: ids.size === 1 ? (groups[0]?.groupId ?? null) : null,
  };
}

type Participant = { waId: string | null; userId: string | null; parentUserId: string | null; phone: string | null; input: string | null };

function participants(list: JsonObject[keyof JsonObject]): Participant[] {
  return objects(list).map(participant);
}

/** A participant as Meta names it: `wa_id`, `user_id`, or the `input` the business sent (a phone number or user id). */
function participant(p: JsonObject): Participant {
  const input = str(p.input) ?? null;
  const waId = str(p.wa_id) ?? null;
  return {
    waId,
    userId: str(p.user_id) ?? null,
    parentUserId: str(p.parent_user_id) ?? null,
    phone: toE164(waId ?? input).phone,
    input,
  };
}

/** `group_subject`, `group_description` and any other `group_*` setting: its new text, whether it took, and why not. */
function settings(group: JsonObject): Content {
  const updated = Object.entries(group).flatMap(([key, raw]): Array<[string, Content]> => {
    const setting = obj(raw);
    if (!key.startsWith('group_') || key === 'group_id' || !setting) return [];
    return [
      [key.slice('group_'.length), { text: str(setting.text) ?? null, updated: bool(setting.update_successful) ?? null, errors: metaErrors(setting.errors) }],
    ];
  });
  // fromEntries defines each key as it is: a setting named `group___proto__` stays a field.
  return Object.fromEntries(updated);
}
