import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import { runWithContext } from '../observability';
import { locals } from './locals';

export const CORRELATION_HEADER = 'X-Correlation-Id';
const ACCEPTABLE = /^[A-Za-z0-9._:-]{1,128}$/;

/** The caller's `X-Correlation-Id` when it is a sane token, otherwise a new one. */
export function correlationIdFrom(given: string | string[] | undefined): string {
  return typeof given === 'string' && ACCEPTABLE.test(given) ? given : randomUUID();
}

/**
 * Takes the request's correlation id (see `correlationIdFrom`), returns it in the response and
 * runs the rest of the request inside its log context.
 */
export function correlationId(): RequestHandler {
  return (req, res, next) => {
    const id = correlationIdFrom(req.headers['x-correlation-id']);
    locals(res).correlationId = id;
    res.setHeader(CORRELATION_HEADER, id);
    runWithContext({ correlationId: id }, next);
  };
}
