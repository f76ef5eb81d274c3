import { obj, str } from '../../meta';
import type { Processor } from './processor';

/** `button`: a quick-reply button of a template message. */
export const buttonProcessor: Processor = ({ message }) => {
  const button = obj(message.button) ?? {};
  return { text: str(button.text) ?? null, payload: str(button.payload) ?? null };
};
