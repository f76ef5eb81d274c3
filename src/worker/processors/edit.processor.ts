import { obj, str } from '../../meta';
import type { Processor } from './processor';

/** `edit`: the customer edited a message; the new version is processed like any message. */
export const editProcessor: Processor = async ({ message, nested }) => {
  const edit = obj(message.edit) ?? {};
  const edited = obj(edit.message);
  return { originalMessageId: str(edit.original_message_id) ?? null, message: edited ? await nested(edited) : null };
};
