import { pipeline } from 'node:stream';
import { backOff } from 'exponential-backoff';
import type pLimit from 'p-limit';
import { AppError, PermanentError, TransientError } from '../../errors';
import type { GraphApiClient, MediaInfo } from '../../integrations';
import { bool, num, str } from '../../meta';
import type { Logger, Metrics } from '../../observability';
import type { MediaStore } from '../../storage';
import type { Tenant } from '../../tenants';
import type { MediaContent } from '../../contract';
import type { MediaPort, MediaRequest } from '../processors';
import type { AccessTokens } from './access-tokens';
import { ByteMeter } from './byte-meter';
import { baseMimeType, ruleFor } from './media-policy';

export interface MediaServiceOptions {
  /** Lifetime of the presigned GET URL in the event. @default 3600 */
  urlTtlSeconds: number;
  /** A download with no bytes for this long is retried. */
  idleTimeoutMs: number;
  /** The whole copy, every attempt included; past it the media is `download_timeout` (MEDIA_DOWNLOAD_TIMEOUT_MS). */
  downloadTimeoutMs: number;
  /** Whole download attempts (a dropped connection mid-file starts over). */
  maxAttempts: number;
  retryDelayMs?: number;
}

export interface MediaServiceDeps {
  graph: GraphApiClient;
  store: MediaStore;
  tokens: AccessTokens;
  /** Bounds concurrent downloads of this worker (MEDIA_CONCURRENCY). */
  limit: pLimit.Limit;
  logger: Logger;
  metrics: Metrics;
}

type Attempt = { tenant: Tenant; token: string; info: MediaInfo; refreshedUrl: boolean; refreshedToken: boolean; deadline: AbortSignal };

/** Meta's media ids are digits; anything that would not fit an object key or a header is refused. */
const MEDIA_ID = /^[A-Za-z0-9._:=-]{1,128}$/;
/** `type/subtype` with optional parameters, printable ASCII only (it becomes the object's Content-Type). */
const MIME_TYPE = /^[\x21-\x7e]{1,100}\/[\x21-\x7e]{1,100}(?:\s*;[\x20-\x7e]{0,200})?$/;

/**
 * Copies a message's media from Meta into the media bucket at
 * `{tenantId}/{mediaType}/{yyyy-MM-dd}/{messageId}.{ext}`: URL from the webhook when it carries
 * one, else from the Graph API; bytes streamed through a meter (size limit, sha256, magic
 * number) into a multipart upload; a presigned URL for consumers.
 *
 * Never throws for Meta's side of things: expired, oversize, mislabelled, mismatched or
 * unreachable media come back as `media.error` and the message is published anyway, and so do
 * fields that could not be stored as they are (`media_field_invalid`), a URL off the allowed
 * hosts (`media_url_rejected`, after trying the Graph API lookup by id) and a copy that outlasts
 * its deadline (`download_timeout`). Only an outage of our own object store is thrown
 * (TransientError), so the update is retried and the media is not lost for a blip.
 */
export class MediaService implements MediaPort {
  constructor(
    private readonly deps: MediaServiceDeps,
    private readonly options: MediaServiceOptions,
  ) {}

  async store(request: MediaRequest): Promise<MediaContent> {
    const { media } = request;
    const declared: MediaContent = {
      id: str(media.id) ?? null,
      mimeType: str(media.mime_type) ?? null,
      sha256: str(media.sha256) ?? null,
      size: num(media.file_size) ?? null,
      bucket: null,
      key: null,
      url: null,
      urlExpiresAt: null,
    };
    try {
      return await this.deps.limit(() => this.copy(request, declared, AbortSignal.timeout(this.options.downloadTimeoutMs)));
    } catch (err) {
      if (err instanceof TransientError && err.code === 'object_store_unavailable') throw err;
      const code = err instanceof AppError ? err.code : 'internal_error';
      const message = err instanceof AppError ? err.message : 'Media could not be stored';
      this.deps.metrics.mediaFailures.inc({ tenant: request.tenantId, reason: code });
      this.deps.logger.warn('media not stored; the message is published with media.error', {
        code,
        mediaType: request.mediaType,
        messageId: request.messageId,
        cause: err instanceof AppError ? undefined : String(err),
      });
      return { ...declared, error: { code, message } };
    }
  }

  private async copy(request: MediaRequest, declared: MediaContent, deadline: AbortSignal): Promise<MediaContent> {
    const { tenant, mediaType } = request;
    if (!tenant) throw new PermanentError('tenant_unknown', 'No tenant record, so no access token to download with');
    checkFields(declared.id, declared.mimeType);
    const started = performance.now();
    const given = str(request.media.url);
    const inlineUrl = given && this.deps.graph.allowsMediaUrl(given) ? given : undefined;
    if (given && !inlineUrl) {
      this.deps.logger.warn('inline media URL is not on an allowed host; asking the Graph API instead', { messageId: request.messageId, mediaType });
      if (!declared.id) throw new PermanentError('media_url_rejected', 'Media URL is not on an allowed host and the message has no media id');
    }
    const attempt: Attempt = {
      tenant,
      token: await this.deps.tokens.get(tenant),
      info: { url: inlineUrl ?? '', mimeType: declared.mimeType ?? undefined, sha256: declared.sha256 ?? undefined, size: declared.size ?? undefined },
      refreshedUrl: false,
      refreshedToken: false,
      deadline,
    };
    if (!inlineUrl) attempt.info = await this.lookup(attempt, declared.id, request);
    checkFields(declared.id, attempt.info.mimeType ?? null);
    const fullMimeType = attempt.info.mimeType ?? declared.mimeType ?? undefined;
    const mimeType = baseMimeType(fullMimeType);
    const rule = ruleFor(mediaType, mimeType, bool(request.media.animated) === true) ?? documentFallback(mediaType, str(request.media.filename));
    if (!rule || !mimeType || !fullMimeType) throw new PermanentError('unsupported_type', `${mimeType ?? 'no MIME type'} is not accepted for ${mediaType}`);
    if (attempt.info.size !== undefined && attempt.info.size > rule.maxBytes) {
      throw new PermanentError('too_large', `Media is ${attempt.info.size} bytes; the limit for ${mimeType} is ${rule.maxBytes}`);
    }

    const key = `${request.tenantId}/${mediaType}/${request.receivedAt.slice(0, 10)}/${safeName(request.messageId)}.${rule.extension}`;
    const expected = attempt.info.sha256 ?? declared.sha256 ?? undefined;
    const metadata: Record<string, string> = { 'tenant-id': request.tenantId, 'media-id': declared.id ?? '' };
    if (expected && /^[0-9a-f]{64}$/i.test(expected)) metadata.sha256 = expected.toLowerCase();
    else if (expected) metadata.sha256 = Buffer.from(expected, 'base64').toString('hex');

    const meter = await backOff(() => this.transfer(attempt, request, key, fullMimeType, metadata, rule), {
      numOfAttempts: this.options.maxAttempts,
      startingDelay: this.options.retryDelayMs ?? 500,
      jitter: 'full',
      retry: (err: unknown) => err instanceof TransientError && err.code !== 'object_store_unavailable',
    });
    const digest = meter.digest();
    if (expected && expected !== digest.hex && expected.toLowerCase() !== digest.hex && expected !== digest.base64) {
      await this.deps.store.delete(key);
      throw new PermanentError('sha256_mismatch', "Downloaded bytes do not match Meta's sha256; the copy was deleted");
    }
    if (!metadata.sha256) await this.deps.store.setMetadata(key, fullMimeType, { ...metadata, sha256: digest.hex });

    this.deps.metrics.mediaDownloadDuration.observe({ media_type: mediaType }, (performance.now() - started) / 1000);
    this.deps.metrics.mediaDownloadSize.observe({ media_type: mediaType }, meter.bytes);
    const signed = await this.deps.store.presign(key, this.options.urlTtlSeconds);
    return {
      id: declared.id,
      mimeType: fullMimeType,
      sha256: digest.hex,
      size: meter.bytes,
      bucket: this.deps.store.bucket,
      key,
      url: signed.url,
      urlExpiresAt: signed.expiresAt,
    };
  }

  /** One download into the store; refreshes an expired URL (404) and a refused token (401) once each. */
  private async transfer(
    attempt: Attempt,
    request: MediaRequest,
    key: string,
    mimeType: string,
    metadata: Record<string, string>,
    rule: { maxBytes: number; sniffedAs: readonly string[] | null },
  ): Promise<ByteMeter> {
    let download;
    try {
      download = await this.deps.graph.download(request.tenantId, attempt.info.url, attempt.token, attempt.deadline);
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      if (err.code === 'media_url_expired' && !attempt.refreshedUrl) {
        attempt.refreshedUrl = true;
        attempt.info = await this.lookup(attempt, str(request.media.id) ?? null, request);
        return this.transfer(attempt, request, key, mimeType, metadata, rule);
      }
      if (err.code === 'graph_unauthorized' && !attempt.refreshedToken) {
        attempt.refreshedToken = true;
        const token = await this.deps.tokens.refresh(attempt.tenant);
        if (token && token !== attempt.token) {
          attempt.token = token;
          return this.transfer(attempt, request, key, mimeType, metadata, rule);
        }
      }
      throw err;
    }
    const meter = new ByteMeter({ maxBytes: rule.maxBytes, sniffedAs: rule.sniffedAs, idleTimeoutMs: this.options.idleTimeoutMs });
    const onDeadline = (): void => void meter.destroy(timedOut());
    attempt.deadline.addEventListener('abort', onDeadline, { once: true });
    pipeline(download.stream, meter, (err) => {
      if (err && !meter.destroyed)
        meter.destroy(err instanceof AppError ? err : new TransientError('download_interrupted', 'Media download was cut off', { cause: err }));
    });
    try {
      await this.deps.store.upload(key, meter, mimeType, metadata);
    } catch (err) {
      // The deadline also aborts the HTTP request, whose stream then fails first with the client's own error.
      throw attempt.deadline.aborted ? timedOut() : err;
    } finally {
      attempt.deadline.removeEventListener('abort', onDeadline);
    }
    return meter;
  }

  /** The media's URL and facts from the Graph API; a refused token is re-read once (and kept for the download). */
  private async lookup(attempt: Attempt, mediaId: string | null, request: MediaRequest): Promise<MediaInfo> {
    if (!mediaId) throw new PermanentError('media_id_missing', 'The message has neither a media id nor a URL');
    try {
      return await this.deps.graph.mediaInfo(request.tenantId, mediaId, attempt.token, attempt.deadline);
    } catch (err) {
      if (!(err instanceof AppError) || err.code !== 'graph_unauthorized' || attempt.refreshedToken) throw err;
      attempt.refreshedToken = true;
      const fresh = await this.deps.tokens.refresh(attempt.tenant);
      if (!fresh || fresh === attempt.token) throw err;
      attempt.token = fresh;
      return this.deps.graph.mediaInfo(request.tenantId, mediaId, attempt.token, attempt.deadline);
    }
  }
}

function timedOut(): PermanentError {
  return new PermanentError('download_timeout', 'Media copy took longer than MEDIA_DOWNLOAD_TIMEOUT_MS');
}

/** Fields that become an object key, a header or a Graph API path must be plain: else a permanent media.error, never an outage. */
function checkFields(mediaId: string | null, mimeType: string | null): void {
  if (mediaId !== null && !MEDIA_ID.test(mediaId)) throw new PermanentError('media_field_invalid', 'Media id has characters a media id never has');
  if (mimeType !== null && !MIME_TYPE.test(mimeType)) throw new PermanentError('media_field_invalid', 'MIME type is not a plain type/subtype');
}

/** Documents of a type not listed by Meta are still kept (size-limited, unverified), never refused. */
function documentFallback(mediaType: string, filename: string | undefined): { maxBytes: number; extension: string; sniffedAs: null } | undefined {
  if (mediaType !== 'document') return undefined;
  const extension = /\.([A-Za-z0-9]{1,8})$/.exec(filename ?? '')?.[1]?.toLowerCase() ?? 'bin';
  return { maxBytes: 100 * 1024 * 1024, extension, sniffedAs: null };
}

function safeName(value: string): string {
  return value.replace(/[^A-Za-z0-9._=-]+/g, '_').slice(0, 160);
}
