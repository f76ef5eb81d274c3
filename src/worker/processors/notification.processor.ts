import { str, type JsonObject } from '../../meta';
import type { Content } from '../event';

/**
 * Any field other than `messages` (template and account updates, user preferences, calls,
 * message echoes, group events, fields nobody has documented yet): the change value is kept
 * whole, with its `event` lifted out when there is one.
 */
export function notificationContent(field: string, value: JsonObject): Content {
  return { field, event: str(value.event) ?? null, value };
}
