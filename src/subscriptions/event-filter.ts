import { ValidationError } from '../errors';

/** One word of a routing key (`message`, `text`, `echo`), `*` (exactly one word) or `#` (zero or more words). */
const WORD = /^(?:[a-z0-9_]{1,64}|\*|#)$/;
export const MAX_FILTER_PATTERNS = 32;

/**
 * Checks and normalises an event filter: RabbitMQ topic patterns over the events' routing keys
 * (`message.text`, `status.read`, `notification.history`): `message.*`, `status.read`,
 * `notification.#`, `#` for everything. Refused with 400 naming the first bad pattern.
 */
export function parseEventFilter(patterns: readonly string[]): string[] {
  if (patterns.length === 0) throw new ValidationError('invalid_filter', 'filter: at least one pattern (use "#" for every event)');
  if (patterns.length > MAX_FILTER_PATTERNS) throw new ValidationError('invalid_filter', `filter: at most ${MAX_FILTER_PATTERNS} patterns`);
  for (const pattern of patterns) {
    const words = pattern.split('.');
    if (pattern.length > 256 || !words.every((word) => WORD.test(word))) {
      throw new ValidationError(
        'invalid_filter',
        `filter: "${pattern.slice(0, 64)}" is not a routing-key pattern (words of a-z, 0-9 and _, or * for one word, # for any number, joined by dots)`,
      );
    }
  }
  return [...new Set(patterns)];
}

/** Whether `routingKey` matches any of `patterns`, as a RabbitMQ topic binding would. */
export function matchesFilter(patterns: readonly string[], routingKey: string): boolean {
  const words = routingKey.split('.');
  return patterns.some((pattern) => matchWords(pattern.split('.'), 0, words, 0));
}

function matchWords(pattern: readonly string[], p: number, words: readonly string[], w: number): boolean {
  if (p === pattern.length) return w === words.length;
  const head = pattern[p];
  if (head === '#') {
    // Zero words, or one more and stay on the '#'.
    return matchWords(pattern, p + 1, words, w) || (w < words.length && matchWords(pattern, p, words, w + 1));
  }
  if (w === words.length) return false;
  return (head === '*' || head === words[w]) && matchWords(pattern, p + 1, words, w + 1);
}
