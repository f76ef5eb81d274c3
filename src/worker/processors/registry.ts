import { audioProcessor } from './audio.processor';
import { buttonProcessor } from './button.processor';
import { contactsProcessor } from './contacts.processor';
import { documentProcessor } from './document.processor';
import { editProcessor } from './edit.processor';
import { imageProcessor } from './image.processor';
import { interactiveProcessor } from './interactive.processor';
import { locationProcessor } from './location.processor';
import { mediaPlaceholderProcessor } from './media-placeholder.processor';
import { orderProcessor } from './order.processor';
import type { Processor } from './processor';
import { reactionProcessor } from './reaction.processor';
import { requestWelcomeProcessor } from './request-welcome.processor';
import { revokeProcessor } from './revoke.processor';
import { stickerProcessor } from './sticker.processor';
import { systemProcessor } from './system.processor';
import { textProcessor } from './text.processor';
import { unrecognizedProcessor } from './unrecognized.processor';
import { unsupportedProcessor } from './unsupported.processor';
import { videoProcessor } from './video.processor';

/** Every message type with a processor of its own. */
export const PROCESSORS = {
  text: textProcessor,
  image: imageProcessor,
  video: videoProcessor,
  audio: audioProcessor,
  document: documentProcessor,
  sticker: stickerProcessor,
  location: locationProcessor,
  contacts: contactsProcessor,
  interactive: interactiveProcessor,
  button: buttonProcessor,
  reaction: reactionProcessor,
  order: orderProcessor,
  system: systemProcessor,
  edit: editProcessor,
  revoke: revokeProcessor,
  request_welcome: requestWelcomeProcessor,
  media_placeholder: mediaPlaceholderProcessor,
  unsupported: unsupportedProcessor,
  unknown: unsupportedProcessor,
} satisfies Record<string, Processor>;

export type MessageType = keyof typeof PROCESSORS;

/** The processor of a type; a type without one gets the processor that keeps every field. */
export function processorFor(type: string): Processor {
  return Object.hasOwn(PROCESSORS, type) ? PROCESSORS[type as MessageType] : unrecognizedProcessor;
}
