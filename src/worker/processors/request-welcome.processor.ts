import type { Processor } from './processor';

/** `request_welcome`: the customer opened the chat for the first time; there is no content. */
export const requestWelcomeProcessor: Processor = () => ({});
