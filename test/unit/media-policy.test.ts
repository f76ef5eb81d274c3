import { ruleFor, STATIC_STICKER_MAX_BYTES } from '../../src/worker/media/media-policy';

describe('media policy', () => {
  it('when a MIME type carries parameters or capitals, then its base type decides the rule', () => {
    expect(ruleFor('audio', 'audio/ogg; codecs=opus', false)?.extension).toBe('ogg');
    expect(ruleFor('image', 'IMAGE/JPEG', false)?.extension).toBe('jpg');
  });

  it('when a sticker is static, then it is held to 100 KB', () => {
    expect(ruleFor('sticker', 'image/webp', false)?.maxBytes).toBe(STATIC_STICKER_MAX_BYTES);
  });

  it('when a MIME type is named like a member of every JavaScript object, then it has no rule', () => {
    for (const mimeType of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      expect(ruleFor('image', mimeType, false)).toBeUndefined();
      expect(ruleFor('document', `${mimeType}; x=1`, false)).toBeUndefined();
    }
  });
});
