import type { Json } from '../../meta';
import type { Processor } from './processor';

const ENVELOPE_KEYS = new Set(['from', 'from_user_id', 'from_parent_user_id', 'id', 'timestamp', 'type', 'context', 'referral', 'errors']);

/** A type nobody has seen yet: every field Meta sent is kept, so nothing is lost until a processor exists. */
export const unrecognizedProcessor: Processor = ({ message }) => {
  // fromEntries defines each key as it is: a field named `__proto__` stays a field.
  const kept = Object.entries(message).filter((entry): entry is [string, Json] => !ENVELOPE_KEYS.has(entry[0]) && entry[1] !== undefined);
  const fields: Record<string, Json> = Object.fromEntries(kept);
  return { fields };
};
