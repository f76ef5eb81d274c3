import { objects } from '../../meta';
import type { Processor } from './processor';

/** `contacts`: the shared contact cards, as Meta sends them (names, phones, emails, org, …). */
export const contactsProcessor: Processor = ({ message }) => ({ contacts: objects(message.contacts) });
