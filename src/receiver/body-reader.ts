import type { IncomingMessage } from 'node:http';
import { ValidationError } from '../errors';

/**
 * The exact bytes of a webhook body, as sent: no decompression (a compressed body is refused: Meta
 * signs what it sends, uncompressed), at most `limit` bytes. On failure the rest of the body is
 * read off before the answer, so the client is not cut while it is still sending.
 *
 * A body that declares its length (Meta's always do) is copied into one buffer of that size as
 * its chunks arrive, each chunk free as soon as it is copied: a 3 MB body costs 3 MB, not its
 * chunks and then their concatenation (raw-body's way). Under a flood of large unsigned bodies
 * that halves what the receiver holds (hostile-input.test.ts measures the flood).
 */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  try {
    const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
    if (encoding !== 'identity') throw new ValidationError('unsupported_encoding', 'Content-Encoding is not supported; send the body as is', 415);
    const declared = req.headers['content-length'] === undefined ? undefined : Number(req.headers['content-length']);
    if (declared !== undefined && declared > limit) throw tooLarge();
    return await collect(req, limit, declared);
  } catch (err) {
    await drain(req);
    throw err;
  }
}

function collect(req: IncomingMessage, limit: number, declared: number | undefined): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sized = declared === undefined ? undefined : Buffer.allocUnsafe(declared);
    const chunks: Buffer[] = [];
    let received = 0;
    const fail = (err: Error): void => {
      cleanup();
      reject(err);
    };
    const onData = (chunk: Buffer): void => {
      if (received + chunk.length > (sized?.length ?? limit)) {
        fail(sized ? incomplete() : tooLarge());
        return;
      }
      if (sized) chunk.copy(sized, received);
      else chunks.push(chunk);
      received += chunk.length;
    };
    const onEnd = (): void => {
      cleanup();
      if (sized && received !== sized.length) reject(incomplete());
      else resolve(sized ?? Buffer.concat(chunks, received));
    };
    const onAborted = (): void => fail(incomplete());
    const onError = (err: Error): void => fail(err);
    const cleanup = (): void => {
      req.off('data', onData).off('end', onEnd).off('aborted', onAborted).off('close', onClose).off('error', onError);
    };
    // 'close' before 'end': the client went away mid-body.
    const onClose = (): void => (req.complete ? undefined : fail(incomplete()));
    req.on('data', onData).on('end', onEnd).on('aborted', onAborted).on('close', onClose).on('error', onError);
  });
}

function drain(req: IncomingMessage): Promise<void> {
  if (req.readableEnded || req.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    req.once('end', resolve).once('close', resolve).once('error', resolve);
    req.resume();
  });
}

function tooLarge(): ValidationError {
  return new ValidationError('payload_too_large', 'Body is larger than the limit', 413);
}

function incomplete(): ValidationError {
  return new ValidationError('body_incomplete', 'Body ended before Content-Length bytes arrived');
}
