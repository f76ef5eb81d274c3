import { obj, str, type JsonObject } from '../../meta';
import type { MessageContext, Referral } from '../../contract';

/** Reply, forward and ad/product context of a message, or null when it has none. */
export function contextOf(message: JsonObject): MessageContext | null {
  const context = obj(message.context);
  const referral = obj(message.referral);
  if (!context && !referral) return null;
  const product = obj(context?.referred_product);
  const repliedId = str(context?.id);
  const repliedFrom = str(context?.from);
  return {
    repliedTo: repliedId || repliedFrom ? { messageId: repliedId ?? null, from: repliedFrom ?? null } : null,
    forwarded: context?.forwarded === true || context?.frequently_forwarded === true,
    frequentlyForwarded: context?.frequently_forwarded === true,
    product: product ? { catalogId: str(product.catalog_id) ?? null, productRetailerId: str(product.product_retailer_id) ?? null } : null,
    referral: referral ? referralOf(referral) : null,
  };
}

function referralOf(r: JsonObject): Referral {
  const s = (key: string): string | null => str(r[key]) ?? null;
  return {
    sourceUrl: s('source_url'),
    sourceId: s('source_id'),
    sourceType: s('source_type'),
    headline: s('headline'),
    body: s('body'),
    mediaType: s('media_type'),
    imageUrl: s('image_url'),
    videoUrl: s('video_url'),
    thumbnailUrl: s('thumbnail_url'),
    ctwaClid: s('ctwa_clid'),
  };
}
