import type { Readable } from 'node:stream';
import axios, { type AxiosInstance, type AxiosResponse } from 'axios';
import { backOff } from 'exponential-backoff';
import { PermanentError, TransientError } from '../errors';
import type { Metrics } from '../observability';
import type { MediaHostPolicy } from './media-host.policy';

/** Redirect hops a download may take; each one is checked against the media host policy. */
const MAX_REDIRECTS = 3;

export interface MediaInfo {
  url: string;
  mimeType: string | undefined;
  /** As Meta gives it: hex from the Graph API, base64 in webhooks. */
  sha256: string | undefined;
  size: number | undefined;
}

export interface GraphApiOptions {
  baseUrl: string;
  apiVersion: string;
  /** Per request, until the response headers arrive. */
  timeoutMs: number;
  /** Attempts per call on network errors, 429 and 5xx (exponential backoff with full jitter). */
  maxAttempts: number;
  /** First backoff delay; doubles each attempt. */
  retryDelayMs?: number;
  /** Waits for the tenant's share of Meta's request rate (~80/s). */
  throttle: (tenantId: string) => Promise<void>;
  /** Hosts a download (and every redirect hop of it) may go to with the token. */
  hosts: MediaHostPolicy;
  metrics: Metrics;
}

/**
 * Meta's Graph API, for media: `GET /{version}/{media-id}` (→ url, mime_type, sha256,
 * file_size) and the download itself, both with the tenant's bearer token. Failures are
 * classified once, here: 401/403 → `graph_unauthorized`, 404 → `media_not_found` (lookup) or
 * `media_url_expired` (download: Meta's URLs live five minutes), other 4xx → `graph_rejected`,
 * 429/5xx/network after the retries → `graph_unavailable` (TransientError).
 *
 * The token goes only to the Graph API and to media hosts the policy allows: a download URL off
 * the list, or a redirect to one, is `media_url_rejected` before any connection is opened
 * (redirects are followed here, hop by hop, never by the HTTP client). A request aborted by the
 * caller's deadline is `download_timeout`.
 */
export class GraphApiClient {
  private readonly http: AxiosInstance;

  constructor(private readonly options: GraphApiOptions) {
    this.http = axios.create({ timeout: options.timeoutMs, validateStatus: () => true, maxRedirects: 0 });
  }

  /** Whether a media URL may be downloaded with the token (MEDIA_ALLOWED_HOSTS). */
  allowsMediaUrl(url: string): boolean {
    return this.options.hosts.allows(url);
  }

  async mediaInfo(tenantId: string, mediaId: string, token: string, signal?: AbortSignal): Promise<MediaInfo> {
    const url = `${this.options.baseUrl}/${this.options.apiVersion}/${encodeURIComponent(mediaId)}`;
    const response = await this.call('media_info', tenantId, signal, () => this.http.get<unknown>(url, { headers: auth(token), responseType: 'json', signal }));
    const body = response.data as Record<string, unknown> | null;
    if (typeof body?.url !== 'string') throw new PermanentError('graph_bad_response', 'Graph API media lookup returned no url');
    const size = Number(body.file_size);
    return {
      url: body.url,
      mimeType: typeof body.mime_type === 'string' ? body.mime_type : undefined,
      sha256: typeof body.sha256 === 'string' ? body.sha256 : undefined,
      size: Number.isFinite(size) && body.file_size !== undefined ? size : undefined,
    };
  }

  /** Opens the download; the caller consumes (or destroys) the stream. */
  async download(tenantId: string, url: string, token: string, signal?: AbortSignal): Promise<{ stream: Readable; contentType: string | undefined }> {
    let hop = url;
    for (let redirects = 0; ; redirects += 1) {
      if (!this.options.hosts.allows(hop)) {
        this.count('download', 'rejected_host');
        throw new PermanentError(
          'media_url_rejected',
          redirects === 0 ? 'Media URL is not on an allowed host' : 'Media download redirected to a host that is not allowed',
        );
      }
      const target = hop;
      const response = await this.call('download', tenantId, signal, () =>
        this.http.get<Readable>(target, { headers: auth(token), responseType: 'stream', signal }),
      );
      const location: unknown = response.headers.location;
      if (response.status >= 300 && response.status < 400) {
        discard(response.data);
        if (typeof location !== 'string' || redirects >= MAX_REDIRECTS)
          throw new PermanentError('graph_rejected', `Media download redirected too often or nowhere (${response.status})`);
        hop = new URL(location, target).toString();
        continue;
      }
      const contentType = response.headers['content-type'];
      return { stream: response.data, contentType: typeof contentType === 'string' ? contentType : undefined };
    }
  }

  private async call<T>(
    operation: 'media_info' | 'download',
    tenantId: string,
    signal: AbortSignal | undefined,
    request: () => Promise<AxiosResponse<T>>,
  ): Promise<AxiosResponse<T>> {
    return backOff(
      async () => {
        if (signal?.aborted) throw timedOut();
        await this.options.throttle(tenantId);
        let response: AxiosResponse<T>;
        try {
          response = await request();
        } catch (cause) {
          if (signal?.aborted) throw timedOut();
          this.count(operation, 'network_error');
          throw new TransientError('graph_unavailable', `Graph API ${operation} failed: ${describe(cause)}`, { cause });
        }
        if (operation === 'download' && response.status >= 300 && response.status < 400) return response;
        if (response.status >= 200 && response.status < 300) {
          this.count(operation, 'ok');
          return response;
        }
        discard(response.data);
        this.count(operation, statusLabel(response.status));
        throw classify(operation, response.status);
      },
      {
        numOfAttempts: this.options.maxAttempts,
        startingDelay: this.options.retryDelayMs ?? 250,
        timeMultiple: 2,
        maxDelay: 8_000,
        jitter: 'full',
        retry: (err: unknown) => err instanceof TransientError,
      },
    );
  }

  private count(operation: string, outcome: string): void {
    this.options.metrics.graphRequests.inc({ operation, outcome });
  }
}

/** A metric label from a closed set: the statuses Meta documents, else the class (`4xx`). */
function statusLabel(status: number): string {
  return [400, 401, 403, 404, 410, 429, 500, 502, 503, 504].includes(status) ? String(status) : `${Math.floor(status / 100)}xx`;
}

function timedOut(): PermanentError {
  return new PermanentError('download_timeout', 'Media copy took longer than MEDIA_DOWNLOAD_TIMEOUT_MS');
}

function classify(operation: 'media_info' | 'download', status: number): Error {
  if (status === 401 || status === 403) return new PermanentError('graph_unauthorized', `Graph API refused the access token (${status})`);
  if (status === 404) {
    return operation === 'download'
      ? new PermanentError('media_url_expired', 'Media URL has expired (404)')
      : new PermanentError('media_not_found', 'Meta no longer has this media (404)');
  }
  if (status === 429 || status >= 500) return new TransientError('graph_unavailable', `Graph API answered ${status}`, { details: { status } });
  return new PermanentError('graph_rejected', `Graph API answered ${status}`, { details: { status } });
}

function auth(token: string): Record<string, string> {
  return { Authorization: `Bearer ${token}` };
}

/** An error body that is a stream is drained so its socket can be reused. */
function discard(data: unknown): void {
  if (data && typeof (data as Readable).resume === 'function') (data as Readable).resume();
}

function describe(cause: unknown): string {
  const e = cause as { code?: string; message?: string };
  return e.code ?? e.message ?? String(cause);
}
