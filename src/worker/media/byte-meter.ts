import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { fromBuffer } from 'file-type';
import { PermanentError, TransientError } from '../../errors';

/** file-type needs this many bytes to recognise every format it knows. */
const SNIFF_BYTES = 4100;

export interface MeterLimits {
  maxBytes: number;
  /** MIME types the first bytes may reveal; null to skip the check. */
  sniffedAs: readonly string[] | null;
  /** Fails the download when no byte arrives for this long. */
  idleTimeoutMs: number;
}

/**
 * Sits between the download and the upload: counts bytes (failing past the limit), hashes them
 * (sha256, compared with Meta's afterwards), and holds the first 4 KB back until their magic
 * number matches the declared type, so a mislabelled file never reaches the store. Nothing is
 * buffered beyond those first bytes.
 */
export class ByteMeter extends Transform {
  bytes = 0;
  private readonly hash = createHash('sha256');
  private head: Buffer[] = [];
  private headBytes = 0;
  private sniffed = false;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(private readonly limits: MeterLimits) {
    super();
    this.armIdleTimer();
  }

  digest(): { hex: string; base64: string } {
    const digest = this.hash.digest();
    return { hex: digest.toString('hex'), base64: digest.toString('base64') };
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.armIdleTimer();
    this.bytes += chunk.length;
    if (this.bytes > this.limits.maxBytes) {
      callback(new PermanentError('too_large', `Media is larger than ${this.limits.maxBytes} bytes`));
      return;
    }
    this.hash.update(chunk);
    if (this.sniffed) {
      callback(null, chunk);
      return;
    }
    this.head.push(chunk);
    this.headBytes += chunk.length;
    if (this.headBytes < SNIFF_BYTES) {
      callback();
      return;
    }
    this.releaseHead(callback);
  }

  override _flush(callback: TransformCallback): void {
    clearTimeout(this.idleTimer);
    if (this.sniffed) callback();
    else this.releaseHead(callback);
  }

  override _destroy(error: Error | null, callback: (error: Error | null) => void): void {
    clearTimeout(this.idleTimer);
    callback(error);
  }

  private releaseHead(callback: TransformCallback): void {
    const head = Buffer.concat(this.head);
    this.head = [];
    this.sniffed = true;
    this.check(head).then(
      () => callback(null, head),
      (err: unknown) => callback(err as Error),
    );
  }

  private async check(head: Buffer): Promise<void> {
    const expected = this.limits.sniffedAs;
    if (!expected) return;
    const found = await fromBuffer(head);
    if (!found || !expected.includes(found.mime)) {
      throw new PermanentError('type_mismatch', `Media content is ${found?.mime ?? 'unrecognised'}, not what its MIME type says`, {
        details: { sniffed: found?.mime ?? null },
      });
    }
  }

  private armIdleTimer(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      this.destroy(new TransientError('download_stalled', `No media bytes for ${this.limits.idleTimeoutMs} ms`));
    }, this.limits.idleTimeoutMs);
    this.idleTimer.unref();
  }
}
