import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A real HTTP server speaking the OpenAI chat-completions wire format (JSON and SSE streaming),
 * on loopback, for tests. Each request is recorded; the reply is chosen by a scripted behaviour.
 */
export type Behaviour =
  | { kind: 'answer'; text: string | ((body: ChatBody) => string); pieces?: number }
  | { kind: 'status'; status: number; message?: string; headers?: Record<string, string> }
  /** Sends the first pieces, then waits until the client goes away (for abort tests). */
  | { kind: 'stall-after'; text: string; pieces: number }
  /** Never answers (for timeouts). */
  | { kind: 'hang' }
  /** Sends some pieces, then destroys the socket. */
  | { kind: 'reset-after'; text: string; pieces: number }
  /** Destroys the connection before sending any status line or header. */
  | { kind: 'reset-before-headers' }
  | { kind: 'malformed' }
  | { kind: 'empty' };

export interface ChatBody {
  model: string;
  stream?: boolean;
  messages: { role: string; content: string }[];
  temperature?: number;
  max_tokens?: number;
}

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: ChatBody;
}

export class OpenAiTestServer {
  readonly requests: RecordedRequest[] = [];
  /** Behaviours used in order, one per request; the last one repeats. */
  script: Behaviour[] = [{ kind: 'answer', text: 'OK [1]' }];
  /** Resolves each time a client disconnects from a stalled stream. */
  private disconnectWaiters: (() => void)[] = [];
  private server: Server;
  private openSockets = new Set<Socket>();
  baseURL = '';

  constructor() {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (s) => {
      this.openSockets.add(s);
      s.on('close', () => this.openSockets.delete(s));
    });
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this.baseURL = `http://127.0.0.1:${port}/v1`;
    return this.baseURL;
  }

  async stop(): Promise<void> {
    for (const s of this.openSockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Resolves when a client closes a stalled stream. */
  nextDisconnect(): Promise<void> {
    return new Promise((resolve) => this.disconnectWaiters.push(resolve));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let raw = '';
    for await (const chunk of req) raw += chunk;
    let body: ChatBody;
    try {
      body = JSON.parse(raw) as ChatBody;
    } catch {
      res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'bad json' } }));
      return;
    }
    this.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
    if (req.url !== '/v1/chat/completions') {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: `no route ${req.url}` } }));
      return;
    }
    const behaviour = this.script[Math.min(this.requests.length - 1, this.script.length - 1)]!;
    switch (behaviour.kind) {
      case 'status':
        res.writeHead(behaviour.status, { 'content-type': 'application/json', ...behaviour.headers });
        res.end(JSON.stringify({ error: { message: behaviour.message ?? `status ${behaviour.status}`, type: 'test', code: null } }));
        return;
      case 'hang':
        return; // the socket stays open until the client gives up
      case 'reset-before-headers':
        req.socket.destroy();
        return;
      case 'malformed':
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end('data: {"choices": [ this is not json\n\n');
        return;
      case 'empty':
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(sse({ choices: [{ index: 0, delta: { role: 'assistant' }, finish_reason: null }] }));
        res.write(sse({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }));
        res.end('data: [DONE]\n\n');
        return;
      case 'answer': {
        const text = typeof behaviour.text === 'function' ? behaviour.text(body) : behaviour.text;
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        for (const piece of split(text, behaviour.pieces ?? 5)) res.write(chunk(body.model, piece));
        res.write(sse({ id: 'c', object: 'chat.completion.chunk', created: 0, model: body.model, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }));
        res.end('data: [DONE]\n\n');
        return;
      }
      case 'stall-after':
      case 'reset-after': {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        const pieces = split(behaviour.text, behaviour.pieces + 1);
        for (const piece of pieces.slice(0, behaviour.pieces)) res.write(chunk(body.model, piece));
        if (behaviour.kind === 'reset-after') {
          // Let the written pieces reach the client, then cut the connection.
          res.once('drain', () => req.socket.destroy());
          if (!res.writableNeedDrain) setImmediate(() => req.socket.destroy());
          return;
        }
        req.socket.once('close', () => this.disconnectWaiters.shift()?.());
        return;
      }
    }
  }
}

function sse(obj: unknown): string {
  return `data: ${JSON.stringify(obj)}\n\n`;
}

function chunk(model: string, content: string): string {
  return sse({ id: 'c', object: 'chat.completion.chunk', created: 0, model, choices: [{ index: 0, delta: { content }, finish_reason: null }] });
}

function split(text: string, n: number): string[] {
  const size = Math.max(1, Math.ceil(text.length / n));
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}
