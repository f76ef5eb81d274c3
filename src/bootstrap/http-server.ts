import { createServer, type RequestListener, type Server } from 'node:http';

export interface HttpServer {
  url: string;
  /**
   * Stops accepting connections and lets requests in progress finish. Keep-alive sockets that
   * are busy when this starts get `Connection: close` on their response and are closed once
   * idle; whatever is still open after `forceAfterMs` is cut. Idempotent.
   */
  close(forceAfterMs?: number): Promise<void>;
}

/** How long a client may take, so that slow or idle ones cannot hold sockets and memory forever. */
export interface HttpTimeouts {
  /** Whole request, headers and body (HTTP_REQUEST_TIMEOUT_MS). @default 30000 */
  requestTimeoutMs: number;
  /** Headers alone (HTTP_HEADERS_TIMEOUT_MS). @default 10000 */
  headersTimeoutMs: number;
  /** An idle keep-alive connection; above the load balancer's own idle timeout (HTTP_KEEP_ALIVE_TIMEOUT_MS). @default 65000 */
  keepAliveTimeoutMs: number;
}

const DEFAULT_TIMEOUTS: HttpTimeouts = { requestTimeoutMs: 30_000, headersTimeoutMs: 10_000, keepAliveTimeoutMs: 65_000 };

export function listen(listener: RequestListener, port: number, timeouts: HttpTimeouts = DEFAULT_TIMEOUTS, host = '0.0.0.0'): Promise<HttpServer> {
  return new Promise((resolve, reject) => {
    let closing = false;
    const server: Server = createServer(
      {
        requestTimeout: timeouts.requestTimeoutMs,
        headersTimeout: Math.min(timeouts.headersTimeoutMs, timeouts.requestTimeoutMs),
        keepAliveTimeout: timeouts.keepAliveTimeoutMs,
        // Checked once a second (Node's default is 30 s): a slow client is cut close to its deadline.
        connectionsCheckingInterval: 1_000,
      },
      (req, res) => {
        if (closing) res.setHeader('Connection', 'close');
        listener(req, res);
      },
    );
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      const boundPort = typeof address === 'object' && address ? address.port : port;
      let closed: Promise<void> | undefined;
      resolve({
        url: `http://127.0.0.1:${boundPort}`,
        close: (forceAfterMs = 10_000) =>
          (closed ??= new Promise<void>((done) => {
            closing = true;
            const sweep = setInterval(() => server.closeIdleConnections(), 50);
            const force = setTimeout(() => server.closeAllConnections(), forceAfterMs);
            server.close(() => {
              clearInterval(sweep);
              clearTimeout(force);
              done();
            });
            server.closeIdleConnections();
          })),
      });
    });
  });
}
