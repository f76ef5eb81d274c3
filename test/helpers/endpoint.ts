import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface EndpointRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

export interface EndpointAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  /** Waits this long before answering. */
  delayMs?: number;
}

/**
 * A tenant's HTTPS endpoint stand-in (a small local HTTP server, outside our system): every
 * request recorded with its headers, answers scripted per request.
 */
export class SubscriberEndpoint {
  readonly requests: EndpointRequest[] = [];
  /** TCP connections opened to it (a refused address opens none). */
  connections = 0;
  answer: (req: EndpointRequest) => EndpointAnswer = () => ({ status: 200 });
  private server: Server | undefined;
  url = '';
  port = 0;

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const request = { path: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() };
        this.requests.push(request);
        const answer = this.answer(request);
        const send = (): void => void res.writeHead(answer.status, { 'content-type': 'text/plain', ...answer.headers }).end(answer.body ?? '');
        if (answer.delayMs) setTimeout(send, answer.delayMs);
        else send();
      });
    });
    this.server.on('connection', () => (this.connections += 1));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    this.url = `http://127.0.0.1:${this.port}`;
    return this;
  }

  /** Requests for one `webhook-id`. */
  of(webhookId: string): EndpointRequest[] {
    return this.requests.filter((r) => r.headers['webhook-id'] === webhookId);
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
