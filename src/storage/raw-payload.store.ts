import type { ObjectStore, ListedObject, StoredObject } from './object.store';

/** Failed payloads live next to the tenants' prefixes, under one of their own (for replay). */
export const FAILED_PREFIX = 'failed/';
/** Raw archives carry this tag, so their retention rule cannot reach failed payloads. */
export const RAW_TAG = { key: 'kind', value: 'raw' } as const;

export interface ArchiveRequest {
  tenantId: string;
  rawKey: string;
  body: Buffer;
  correlationId: string;
  receivedAt: string;
  /** `entry[]` indexes that belong to the tenant (kept so a replay hands off the same entries). */
  entryIndexes: number[];
}

export interface FailedRequest extends ArchiveRequest {
  error: string;
  attempts: number;
  /** Update refs that failed (absent: the whole payload). */
  only?: string[];
}

export interface FailedEntry {
  key: string;
  error: string | null;
  attempts: number | null;
  /** The update refs that failed (null: the whole payload). */
  only: string[] | null;
  failedAt: string | null;
}

/**
 * The raw bucket: every payload byte for byte at `{tenantId}/{yyyy-MM-dd}/{timestamp}-{messageId}.json`,
 * and payloads that could not be processed at `failed/` + the same path, with the error and the
 * failing updates as object metadata.
 */
export class RawPayloadStore {
  constructor(
    private readonly store: ObjectStore,
    readonly bucket: string,
  ) {}

  /** Idempotent: the key is unique to these bytes, so writing it again changes nothing. */
  async archive(request: ArchiveRequest): Promise<void> {
    await this.store.put('raw', this.bucket, request.rawKey, request.body, 'application/json', baseMetadata(request), { [RAW_TAG.key]: RAW_TAG.value });
  }

  async storeFailed(request: FailedRequest): Promise<string> {
    const key = failedKey(request.rawKey);
    await this.store.put('failed', this.bucket, key, request.body, 'application/json', {
      ...baseMetadata(request),
      'raw-key': request.rawKey,
      error: headerSafe(request.error).slice(0, 1024),
      attempts: String(request.attempts),
      ...(request.only ? { only: request.only.join(',') } : {}),
      'failed-at': new Date().toISOString(),
    });
    return key;
  }

  read(key: string): Promise<StoredObject | null> {
    return this.store.get(this.bucket, key);
  }

  exists(key: string): Promise<boolean> {
    return this.store.exists(this.bucket, key);
  }

  /** What the failed store says of a payload (error, attempts, failing updates, when), or null when it is not there. */
  async failedEntry(rawKey: string): Promise<FailedEntry | null> {
    const key = failedKey(rawKey);
    const metadata = await this.store.metadata(this.bucket, key);
    if (metadata === null) return null;
    return {
      key,
      error: metadata.error ?? null,
      attempts: metadata.attempts ? Number(metadata.attempts) : null,
      only: metadata.only ? metadata.only.split(',') : null,
      failedAt: metadata['failed-at'] ?? null,
    };
  }

  /** Archived (or failed) payloads of a tenant whose day is within [from, to] (yyyy-MM-dd, inclusive). */
  async *list(source: 'raw' | 'failed', tenantId: string, from: string, to: string): AsyncGenerator<ListedObject> {
    for (const day of days(from, to)) {
      yield* this.store.list(this.bucket, `${source === 'failed' ? FAILED_PREFIX : ''}${tenantId}/${day}/`);
    }
  }
}

export function failedKey(rawKey: string): string {
  return `${FAILED_PREFIX}${rawKey}`;
}

function baseMetadata(request: ArchiveRequest): Record<string, string> {
  return {
    'tenant-id': request.tenantId,
    'correlation-id': request.correlationId,
    'received-at': request.receivedAt,
    entries: request.entryIndexes.join(','),
  };
}

/** Object metadata travels as HTTP headers: printable ASCII only. */
function headerSafe(value: string): string {
  return value.replace(/[^\x20-\x7e]/g, '?');
}

function* days(from: string, to: string): Generator<string> {
  const end = Date.parse(`${to}T00:00:00Z`);
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= end; t += 86_400_000) yield new Date(t).toISOString().slice(0, 10);
}
