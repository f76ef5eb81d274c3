export { AccessTokens } from './access-tokens';
export { MEDIA_RULES, baseMimeType } from './media-policy';
export { MediaService, type MediaServiceDeps, type MediaServiceOptions } from './media.service';
