import type { Json } from '../../meta';
import type { Processor } from './processor';

const ENVELOPE_KEYS = new Set(['from', 'from_user_id', 'from_parent_user_id', 'id', 'timestamp', 'type', 'context', 'referral', 'errors']);

/** A type nobody has seen yet: every field Meta sent is kept, so nothing is lost until a processor exists. */
export const unrecognizedProcessor: Processor = ({ message }) => {
  const fields: Record<string, Json> = {};
  for (const [key, value] of Object.entries(message)) if (!ENVELOPE_KEYS.has(key) && value !== undefined) fields[key] = value;
  return { fields };
};
