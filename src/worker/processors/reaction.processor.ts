import { obj, str } from '../../meta';
import type { Processor } from './processor';

/** `reaction`: an emoji on one of our messages; no emoji (missing or empty) means it was removed. */
export const reactionProcessor: Processor = ({ message }) => {
  const reaction = obj(message.reaction) ?? {};
  const emoji = str(reaction.emoji);
  return { messageId: str(reaction.message_id) ?? null, emoji: emoji ? emoji : null, removed: !emoji };
};
