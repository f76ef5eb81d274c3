import type { ErrorRequestHandler, Request, RequestHandler } from 'express';
import { handleError, RateLimitedError, ValidationError } from '../errors';
import type { Logger } from '../observability';
import { locals } from './locals';

/** Errors raised by Express's body reader, as our own. */
function fromBodyReader(err: { type?: unknown; status?: unknown }): ValidationError | undefined {
  switch (err.type) {
    case 'entity.too.large':
      return new ValidationError('payload_too_large', 'Body is larger than the limit', 413);
    case 'encoding.unsupported':
      return new ValidationError('unsupported_encoding', 'Content-Encoding is not supported; send the body as is', 415);
    case 'request.aborted':
    case 'request.size.invalid':
      return new ValidationError('body_incomplete', 'Body ended before Content-Length bytes arrived');
    default:
      return undefined;
  }
}

/**
 * Every failure of an HTTP request ends here: one log line with the correlation id (from the
 * context), and a body that says what is wrong without echoing anything sent.
 */
export function errorHandler(logger: Logger, onError?: (req: Request, code: string) => void): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    const error = (typeof err === 'object' && err !== null && fromBodyReader(err)) || err;
    const handled = handleError(error, logger, 'http');
    onError?.(req, handled.code);
    locals(res).errorCode = handled.code;
    if (error instanceof RateLimitedError) res.setHeader('Retry-After', String(error.retryAfterSeconds));
    if (res.headersSent) return;
    res.status(handled.status).json({ error: { code: handled.code, message: handled.publicMessage, correlationId: locals(res).correlationId } });
  };
}

export function notFound(): RequestHandler {
  return (_req, res) => {
    locals(res).errorCode = 'not_found';
    res.status(404).json({ error: { code: 'not_found', message: 'No such route', correlationId: locals(res).correlationId } });
  };
}
