import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { storableText } from './database';
import { isLoopbackAddress, isPrivateAddress, type EndpointRules } from './endpoint-policy';

/** How much of an endpoint's answer is kept in the delivery log. */
export const RESPONSE_SNIPPET_BYTES = 1024;

export interface EndpointAnswer {
  statusCode: number;
  headers: http.IncomingHttpHeaders;
  /** The first KB of the body. */
  body: string;
}

/** Why no answer came: the address was refused, the deadline passed, or the network failed. */
export class EndpointError extends Error {
  constructor(
    readonly code: 'endpoint_address_refused' | 'endpoint_timeout' | 'endpoint_unreachable',
    message: string,
  ) {
    super(message);
  }
}

/**
 * POSTs deliveries to tenants' endpoints: one deadline for the whole attempt (connect, send,
 * answer), redirects never followed (a 3xx is an answer like any other), at most the first KB of
 * the answer read. The address a host name resolves to is checked at connection time, every time
 * (so a name that resolves to our own network is refused, and DNS rebinding after registration
 * does not help), unless the rules allow it.
 */
export class EndpointClient {
  private readonly agents: { http: http.Agent; https: https.Agent };

  constructor(
    private readonly rules: EndpointRules,
    private readonly timeoutMs: number,
  ) {
    const lookup = guardedLookup(rules);
    this.agents = {
      // No per-host socket cap: the dispatcher bounds attempts per subscription, and a cap per host would let
      // two slow subscriptions on one shared webhook host hold up every other tenant's on that host.
      http: new http.Agent({ keepAlive: true, maxSockets: Infinity, lookup }),
      https: new https.Agent({ keepAlive: true, maxSockets: Infinity, lookup }),
    };
  }

  post(url: string, payload: string, headers: Record<string, string>): Promise<EndpointAnswer> {
    const target = new URL(url);
    const host = target.hostname.replace(/^\[|\]$/g, '');
    if (isIP(host) !== 0 && !allowed(host, this.rules)) {
      return Promise.reject(new EndpointError('endpoint_address_refused', `${host} is not a public address`));
    }
    const secure = target.protocol === 'https:';
    const body = Buffer.from(payload);
    return new Promise((resolve, reject) => {
      const req = (secure ? https : http).request(
        target,
        {
          method: 'POST',
          agent: secure ? this.agents.https : this.agents.http,
          headers: { ...headers, 'content-type': 'application/json', 'content-length': String(body.length), 'user-agent': 'whatsapp-webhook-service' },
          signal: AbortSignal.timeout(this.timeoutMs),
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          const done = (): void => {
            resolve({
              statusCode: res.statusCode ?? 0,
              headers: res.headers,
              // PostgreSQL's text holds no NUL: a hostile endpoint's answer must not make its record refused.
              body: storableText(Buffer.concat(chunks).subarray(0, RESPONSE_SNIPPET_BYTES).toString('utf8')),
            });
            res.destroy();
          };
          res.on('data', (chunk: Buffer) => {
            if (size < RESPONSE_SNIPPET_BYTES) chunks.push(chunk);
            size += chunk.length;
            if (size >= RESPONSE_SNIPPET_BYTES) done();
          });
          res.on('end', done);
          res.on('error', done);
        },
      );
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (err instanceof EndpointError) return reject(err);
        if (err.name === 'AbortError' || err.name === 'TimeoutError')
          return reject(new EndpointError('endpoint_timeout', `no answer within ${this.timeoutMs} ms`));
        reject(new EndpointError('endpoint_unreachable', `${err.code ?? err.name}: ${err.message}`.slice(0, 300)));
      });
      req.end(body);
    });
  }

  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }
}

function allowed(address: string, rules: EndpointRules): boolean {
  if (!isPrivateAddress(address)) return true;
  return rules.allowPrivate || (rules.allowInsecure && isLoopbackAddress(address));
}

/** dns.lookup, refusing an address the rules do not allow (before any connection is opened). */
function guardedLookup(rules: EndpointRules): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 0);
      const refused = addresses.find((a) => !allowed(a.address, rules));
      // Which address is not said: the log a tenant reads must not map our network for it.
      if (refused) return callback(new EndpointError('endpoint_address_refused', `${hostname} resolves to an address that is not public`), '', 0);
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}
