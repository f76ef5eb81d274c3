import { mediaMessage } from './media-content';
import type { Processor } from './processor';

/** `video` messages: the video is copied into the object store; the event carries where it is. */
export const videoProcessor: Processor = (input) => mediaMessage(input, 'video');
