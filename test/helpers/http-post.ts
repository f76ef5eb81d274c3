import { request as httpRequest } from 'node:http';

export interface RawAnswer {
  status: number;
  body: string;
  headers: Record<string, unknown>;
}

/**
 * POSTs exact bytes to `{url}/webhook` (any bytes: not UTF-8, truncated, huge), with a signature
 * header that is well formed and wrong unless one is given. A connection the server closes once
 * it has answered (a shed request) still resolves with that answer.
 */
export function postRaw(url: string, body: Buffer | string, headers: Record<string, string> = {}): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body);
    const req = httpRequest(`${url}/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': WRONG_SIGNATURE, 'content-length': String(bytes.length), ...headers },
    });
    let answered = false;
    req.on('response', (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res
        .on('data', (c: Buffer) => chunks.push(c))
        .on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), headers: res.headers }));
    });
    req.on('error', (err) => (answered ? undefined : reject(err)));
    req.end(bytes);
  });
}

export const WRONG_SIGNATURE = `sha256=${'0'.repeat(64)}`;
