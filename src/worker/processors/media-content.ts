import { bool, obj, str, type JsonObject } from '../../meta';
import type { Content } from '../../contract';
import type { MediaType, ProcessorInput } from './processor';

/** Shared by the five media processors: the stored media plus the fields Meta sends beside it. */
export async function mediaMessage(input: ProcessorInput, mediaType: MediaType): Promise<Content> {
  const media = obj(input.message[mediaType]) ?? {};
  const content: Content = {
    media: await input.media.store({
      tenantId: input.tenantId,
      tenant: input.tenant,
      mediaType,
      messageId: input.messageId,
      receivedAt: input.receivedAt,
      media,
    }),
  };
  const caption = str(media.caption);
  if (caption !== undefined) content.caption = caption;
  return { ...content, ...extras(mediaType, media) };
}

function extras(mediaType: MediaType, media: JsonObject): Content {
  switch (mediaType) {
    case 'document':
      return { filename: str(media.filename) ?? null };
    case 'audio':
      return { voice: bool(media.voice) ?? false };
    case 'sticker':
      return { animated: bool(media.animated) ?? false };
    default:
      return {};
  }
}
