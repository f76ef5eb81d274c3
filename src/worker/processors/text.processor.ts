import { obj, str } from '../../meta';
import type { Processor } from './processor';

/** `text`: the body as sent. */
export const textProcessor: Processor = ({ message }) => ({ body: str(obj(message.text)?.body) ?? null });
