import type { ServerResponse } from 'node:http';
import type { ErrorRequestHandler, Request, RequestHandler } from 'express';
import { handleError, RateLimitedError, ValidationError } from '../errors';
import type { Logger } from '../observability';
import { locals } from './locals';
import { sendJson } from './send-json';

/** Errors raised by the body reader (raw-body, also under Express's body parsers), as our own. */
function fromBodyReader(err: { type?: unknown; status?: unknown }): ValidationError | undefined {
  switch (err.type) {
    case 'entity.too.large':
      return new ValidationError('payload_too_large', 'Body is larger than the limit', 413);
    case 'encoding.unsupported':
      return new ValidationError('unsupported_encoding', 'Content-Encoding is not supported; send the body as is', 415);
    case 'entity.parse.failed':
      return new ValidationError('malformed_json', 'Body is not valid JSON');
    case 'request.aborted':
    case 'request.size.invalid':
      return new ValidationError('body_incomplete', 'Body ended before Content-Length bytes arrived');
    default:
      return undefined;
  }
}

/**
 * Every failure of an HTTP request ends here: one log line (the correlation id comes from the
 * log context), and a body that says what is wrong without echoing anything sent. Returns the
 * error code, for the request log line and metrics.
 */
export function answerError(err: unknown, res: ServerResponse, logger: Logger, correlationId: string): string {
  const error = (typeof err === 'object' && err !== null && fromBodyReader(err)) || err;
  const handled = handleError(error, logger, 'http');
  if (res.headersSent) return handled.code;
  if (error instanceof RateLimitedError) res.setHeader('Retry-After', String(error.retryAfterSeconds));
  sendJson(res, handled.status, { error: { code: handled.code, message: handled.publicMessage, correlationId } });
  return handled.code;
}

/** `answerError` for Express routes. */
export function errorHandler(logger: Logger, onError?: (req: Request, code: string) => void): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    const code = answerError(err, res, logger, locals(res).correlationId);
    locals(res).errorCode = code;
    onError?.(req, code);
  };
}

export function notFound(): RequestHandler {
  return (_req, res) => {
    locals(res).errorCode = 'not_found';
    res.status(404).json({ error: { code: 'not_found', message: 'No such route', correlationId: locals(res).correlationId } });
  };
}
