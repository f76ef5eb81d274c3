import type { Server } from 'node:http';
import type { Express } from 'express';

export interface HttpServer {
  url: string;
  /** Stops accepting, lets in-flight requests finish (idle keep-alive sockets are closed); idempotent. */
  close(): Promise<void>;
}

export function listen(app: Express, port: number, host = '0.0.0.0'): Promise<HttpServer> {
  return new Promise((resolve, reject) => {
    const server: Server = app.listen(port, host, (err?: Error) => {
      if (err) return reject(err);
      const address = server.address();
      const boundPort = typeof address === 'object' && address ? address.port : port;
      let closing: Promise<void> | undefined;
      resolve({
        url: `http://127.0.0.1:${boundPort}`,
        close: () =>
          (closing ??= new Promise<void>((done) => {
            server.close(() => done());
            server.closeIdleConnections();
          })),
      });
    });
    // Keep-alive longer than a typical load balancer's idle timeout (60 s), so it closes first.
    server.keepAliveTimeout = 65_000;
    server.headersTimeout = 66_000;
  });
}
