import type { Response } from 'express';

/** What our middleware leaves on `res.locals` for later steps of the same request. */
export interface AppLocals {
  correlationId: string;
  /** The error code of a failed request, for the request log line. */
  errorCode?: string;
}

export function locals(res: Response): AppLocals {
  return res.locals as AppLocals;
}
