import { mediaMessage } from './media-content';
import type { Processor } from './processor';

/** `audio` messages: the audio is copied into the object store; the event carries where it is. */
export const audioProcessor: Processor = (input) => mediaMessage(input, 'audio');
