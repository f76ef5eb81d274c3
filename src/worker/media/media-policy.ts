import type { MediaType } from '../processors';

const MiB = 1024 * 1024;

interface TypeRule {
  /** Largest accepted size in bytes. */
  maxBytes: number;
  extension: string;
  /** MIME types the magic bytes may reveal for this declared type; `null`: no signature to check (plain text). */
  sniffedAs: readonly string[] | null;
}

const OFFICE_ZIP = ['application/zip', 'application/x-zip-compressed'];
const OLE = ['application/x-cfb', 'application/msword', 'application/vnd.ms-excel', 'application/vnd.ms-powerpoint'];
const DOCUMENT = 100 * MiB;

/**
 * What Meta's Cloud API accepts per media type, by declared MIME type (parameters such as
 * `; codecs=opus` stripped): size limit, file extension of the stored object, and what the
 * file's first bytes must look like (a PDF sent as image/jpeg is caught here).
 */
export const MEDIA_RULES: Record<MediaType, Record<string, TypeRule>> = {
  image: {
    'image/jpeg': { maxBytes: 5 * MiB, extension: 'jpg', sniffedAs: ['image/jpeg'] },
    'image/png': { maxBytes: 5 * MiB, extension: 'png', sniffedAs: ['image/png'] },
  },
  video: {
    'video/mp4': { maxBytes: 16 * MiB, extension: 'mp4', sniffedAs: ['video/mp4', 'video/quicktime', 'video/3gpp', 'audio/mp4', 'video/x-m4v'] },
    'video/3gpp': { maxBytes: 16 * MiB, extension: '3gp', sniffedAs: ['video/3gpp', 'video/mp4', 'video/3gpp2'] },
  },
  audio: {
    'audio/aac': { maxBytes: 16 * MiB, extension: 'aac', sniffedAs: ['audio/aac', 'audio/x-aac'] },
    'audio/amr': { maxBytes: 16 * MiB, extension: 'amr', sniffedAs: ['audio/amr'] },
    'audio/mpeg': { maxBytes: 16 * MiB, extension: 'mp3', sniffedAs: ['audio/mpeg'] },
    'audio/mp4': { maxBytes: 16 * MiB, extension: 'm4a', sniffedAs: ['audio/mp4', 'audio/x-m4a', 'video/mp4', 'audio/aac'] },
    'audio/ogg': { maxBytes: 16 * MiB, extension: 'ogg', sniffedAs: ['audio/ogg', 'audio/opus', 'application/ogg'] },
  },
  sticker: {
    'image/webp': { maxBytes: 500 * 1024, extension: 'webp', sniffedAs: ['image/webp'] },
  },
  document: {
    'application/pdf': { maxBytes: DOCUMENT, extension: 'pdf', sniffedAs: ['application/pdf'] },
    'text/plain': { maxBytes: DOCUMENT, extension: 'txt', sniffedAs: null },
    'application/msword': { maxBytes: DOCUMENT, extension: 'doc', sniffedAs: OLE },
    'application/vnd.ms-excel': { maxBytes: DOCUMENT, extension: 'xls', sniffedAs: OLE },
    'application/vnd.ms-powerpoint': { maxBytes: DOCUMENT, extension: 'ppt', sniffedAs: OLE },
    'application/vnd.openxmlformats-officedocument.wordprocessingml.document': {
      maxBytes: DOCUMENT,
      extension: 'docx',
      sniffedAs: ['application/vnd.openxmlformats-officedocument.wordprocessingml.document', ...OFFICE_ZIP],
    },
    'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': {
      maxBytes: DOCUMENT,
      extension: 'xlsx',
      sniffedAs: ['application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', ...OFFICE_ZIP],
    },
    'application/vnd.openxmlformats-officedocument.presentationml.presentation': {
      maxBytes: DOCUMENT,
      extension: 'pptx',
      sniffedAs: ['application/vnd.openxmlformats-officedocument.presentationml.presentation', ...OFFICE_ZIP],
    },
  },
};

/** Static stickers are held to Meta's 100 KB; animated ones to 500 KB. */
export const STATIC_STICKER_MAX_BYTES = 100 * 1024;

/** `audio/ogg; codecs=opus` → `audio/ogg`. */
export function baseMimeType(mimeType: string | undefined): string | undefined {
  const base = mimeType?.split(';')[0]?.trim().toLowerCase();
  return base ? base : undefined;
}

export function ruleFor(mediaType: MediaType, mimeType: string | undefined, animated: boolean): TypeRule | undefined {
  const base = baseMimeType(mimeType);
  const rules = MEDIA_RULES[mediaType];
  // Own keys only: a MIME type spelled `constructor` or `__proto__` has no rule.
  const rule = base && Object.hasOwn(rules, base) ? rules[base] : undefined;
  if (rule && mediaType === 'sticker' && !animated) return { ...rule, maxBytes: STATIC_STICKER_MAX_BYTES };
  return rule;
}
