/** What a handler reports about one hand-off. */
export type HandlerOutcome =
  | { status: 'done' }
  /** Some updates failed: only these refs are retried; the rest are already published. */
  | { status: 'partial'; failedRefs: string[]; error: unknown }
  | { status: 'failed'; error: unknown };
