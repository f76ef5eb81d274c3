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

export function listen(listener: RequestListener, port: number, host = '0.0.0.0'): Promise<HttpServer> {
  return new Promise((resolve, reject) => {
    let closing = false;
    const server: Server = createServer((req, res) => {
      if (closing) res.setHeader('Connection', 'close');
      listener(req, res);
    });
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
    // Keep-alive longer than a typical load balancer's idle timeout (60 s), so it closes first.
    server.keepAliveTimeout = 65_000;
    server.headersTimeout = 66_000;
  });
}
