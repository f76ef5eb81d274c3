/**
 * Media bytes with the real signatures (magic numbers) of each format Meta sends, padded to the
 * size a test wants; enough for type sniffing, which is what the service checks.
 */
const HEADERS: Record<string, Buffer> = {
  'image/jpeg': Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01]),
  'image/png': Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    Buffer.from('0000000d49484452000000100000001008060000001ff3ff61', 'hex'),
  ]),
  'image/webp': Buffer.concat([Buffer.from('RIFF'), Buffer.from([0x24, 0x00, 0x00, 0x00]), Buffer.from('WEBPVP8 ')]),
  'image/webp;animated': Buffer.concat([
    Buffer.from('RIFF'),
    Buffer.from([0x24, 0x00, 0x00, 0x00]),
    Buffer.from('WEBPVP8X'),
    Buffer.from([0x0a, 0, 0, 0, 0x02, 0, 0, 0]),
  ]),
  'video/mp4': Buffer.concat([Buffer.from([0, 0, 0, 0x20]), Buffer.from('ftypisom'), Buffer.from([0, 0, 2, 0]), Buffer.from('isomiso2avc1mp41')]),
  'video/3gpp': Buffer.concat([Buffer.from([0, 0, 0, 0x14]), Buffer.from('ftyp3gp4'), Buffer.from([0, 0, 0, 0]), Buffer.from('3gp4')]),
  'audio/ogg': Buffer.concat([
    Buffer.from('OggS'),
    Buffer.from([0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 0, 0, 0, 0, 0x5c, 0x71, 0x8a, 0x6f, 0x01, 0x13]),
    Buffer.from('OpusHead'),
    Buffer.from([1, 1, 0x38, 1, 0x80, 0xbb, 0, 0, 0, 0, 0]),
  ]),
  'audio/mpeg': Buffer.concat([Buffer.from('ID3'), Buffer.from([3, 0, 0, 0, 0, 0, 0]), Buffer.from([0xff, 0xfb, 0x90, 0x64])]),
  'audio/aac': Buffer.from([0xff, 0xf1, 0x50, 0x80, 0x02, 0x1f, 0xfc]),
  'audio/amr': Buffer.from('#!AMR\n'),
  'audio/mp4': Buffer.concat([Buffer.from([0, 0, 0, 0x20]), Buffer.from('ftypM4A '), Buffer.from([0, 0, 2, 0]), Buffer.from('M4A mp42isom\0\0\0\0')]),
  'application/pdf': Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n', 'latin1'),
  'text/plain': Buffer.from('Plain text attachment.\n'),
};

export function sampleMedia(kind: string, size: number): Buffer {
  const header = HEADERS[kind];
  if (!header) throw new Error(`no sample for ${kind}`);
  const body = Buffer.alloc(Math.max(size, header.length));
  header.copy(body);
  for (let i = header.length; i < body.length; i++) body[i] = (i * 31 + 7) & 0xff;
  if (kind === 'text/plain') body.fill(0x61, header.length);
  return body;
}

/** A large body generated on the fly (never held whole), for the 100 MB document. */
export function largePdf(size: number): { size: number; chunk: (offset: number, length: number) => Buffer } {
  const header = HEADERS['application/pdf']!;
  return {
    size,
    chunk(offset, length) {
      const out = Buffer.alloc(length);
      for (let i = 0; i < length; i++) {
        const at = offset + i;
        out[i] = at < header.length ? header[at]! : (at * 31 + 7) & 0xff;
      }
      return out;
    },
  };
}
