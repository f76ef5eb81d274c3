import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StubRequest {
  method: string;
  path: string;
  body: string;
  at: number;
}

export type StubHandler = (req: StubRequest) => { status: number; body?: unknown; delayMs?: number } | undefined;

/**
 * A local HTTP server standing in for a service outside our system (Tenant Service, State
 * Manager): scripted answers, every request recorded, and `down` to refuse like a dead host.
 */
export class HttpStub {
  readonly requests: StubRequest[] = [];
  handler: StubHandler = () => undefined;
  /** When set, every request is answered with this status (an outage with a proxy in front). */
  failWith: number | undefined;
  private server: Server | undefined;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  count(pathPrefix: string): number {
    return this.requests.filter((r) => r.path.startsWith(pathPrefix)).length;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const request = { method: req.method ?? 'GET', path: req.url ?? '/', body: Buffer.concat(chunks).toString(), at: Date.now() };
    this.requests.push(request);
    if (this.failWith !== undefined) return void res.writeHead(this.failWith).end();
    const answer = this.handler(request) ?? { status: 404, body: { error: 'not found' } };
    if (answer.delayMs) await new Promise((resolve) => setTimeout(resolve, answer.delayMs));
    res.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body === undefined ? '' : JSON.stringify(answer.body));
  }
}
