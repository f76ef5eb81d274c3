import { mediaMessage } from './media-content';
import type { Processor } from './processor';

/** `image` messages: the image is copied into the object store; the event carries where it is. */
export const imageProcessor: Processor = (input) => mediaMessage(input, 'image');
