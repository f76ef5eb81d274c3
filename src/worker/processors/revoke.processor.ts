import { obj, str } from '../../meta';
import type { Processor } from './processor';

/** `revoke`: the customer deleted a message for everyone. */
export const revokeProcessor: Processor = ({ message }) => ({ originalMessageId: str(obj(message.revoke)?.original_message_id) ?? null });
