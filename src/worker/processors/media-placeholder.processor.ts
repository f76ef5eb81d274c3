import type { Processor } from './processor';

/**
 * `media_placeholder` (history threads): a media message whose contents Meta sends later, in a
 * history webhook of its own with the same wamid, and only for media sent in the two weeks before
 * onboarding. There is nothing to download yet; the contents become their own message event.
 */
export const mediaPlaceholderProcessor: Processor = () => ({ placeholder: true });
