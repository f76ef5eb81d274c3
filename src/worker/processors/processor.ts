import type { JsonObject } from '../../meta';
import type { Tenant } from '../../tenants';
import type { Content, MediaContent } from '../../contract';

export const MEDIA_TYPES = ['image', 'video', 'audio', 'document', 'sticker'] as const;
export type MediaType = (typeof MEDIA_TYPES)[number];

export interface MediaRequest {
  tenantId: string;
  tenant: Tenant | null;
  mediaType: MediaType;
  /** The wamid: the stored object is named after it. */
  messageId: string;
  /** Receipt time of the webhook (ISO); its day is part of the object key, stable across retries. */
  receivedAt: string;
  /** Meta's media object (`id`, `mime_type`, `sha256`, maybe `url` and `file_size`). */
  media: JsonObject;
}

/**
 * Copies a message's media into the object store. Whatever goes wrong on Meta's side (or in the
 * media itself) comes back as `error`, and the message is published with it; only an outage of our
 * own object store is thrown (TransientError `object_store_unavailable`), so the update is retried.
 */
export interface MediaPort {
  store(request: MediaRequest): Promise<MediaContent>;
}

export interface ProcessorInput {
  message: JsonObject;
  messageId: string;
  receivedAt: string;
  tenantId: string;
  tenant: Tenant | null;
  media: MediaPort;
  /** Processes a message nested in this one (an edit carries the new version). */
  nested: (message: JsonObject) => Promise<{ type: string; content: Content }>;
}

/** Turns one message of its type into the event's `content`. Must not throw on odd input. */
export type Processor = (input: ProcessorInput) => Content | Promise<Content>;
