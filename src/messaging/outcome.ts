/** What a handler reports about one message. */
export type HandlerOutcome =
  | { status: 'done' }
  /** Some updates failed: only these refs are retried; the rest are already published. */
  | { status: 'partial'; failedRefs: string[]; error: unknown }
  | { status: 'failed'; error: unknown };

export type FailedOutcome = Exclude<HandlerOutcome, { status: 'done' }>;
