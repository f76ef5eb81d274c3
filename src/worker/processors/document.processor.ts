import { mediaMessage } from './media-content';
import type { Processor } from './processor';

/** `document` messages: the document is copied into the object store; the event carries where it is. */
export const documentProcessor: Processor = (input) => mediaMessage(input, 'document');
