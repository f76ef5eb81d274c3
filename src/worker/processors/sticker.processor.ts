import { mediaMessage } from './media-content';
import type { Processor } from './processor';

/** `sticker` messages: the sticker is copied into the object store; the event carries where it is. */
export const stickerProcessor: Processor = (input) => mediaMessage(input, 'sticker');
