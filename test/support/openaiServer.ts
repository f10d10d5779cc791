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
  | { kind: 'empty' }
  // ---- Hostile servers (test/hostile/llm-limits.test.ts): each one never ends on its own. ----
  /** `text` first (optional), then `piece` as content deltas forever, as fast as the client reads. */
  | { kind: 'endless'; piece?: string; text?: string; field?: 'content' | 'reasoning_content' | 'reasoning' | 'tool_calls' | 'refusal' }
  /**
   * `text` first (optional), then keep-alive traffic forever that carries no answer text: SSE
   * comments (`: ping`), chunks with an empty or role-only delta, blank lines, or chunks with no
   * choices. `intervalMs` 0 (default) floods; otherwise one item per interval.
   */
  | { kind: 'keepalive'; style: 'comment' | 'empty-delta' | 'role-only' | 'blank-lines' | 'no-choices'; text?: string; intervalMs?: number }
  /** Writes `text`'s SSE stream one byte every `intervalMs`, repeating forever. */
  | { kind: 'trickle'; text: string; intervalMs: number }
  /** `text` first (optional), then one SSE line (`data: …`) that never ends. */
  | { kind: 'huge-line'; text?: string }
  /** `text` first (optional), then `data:` lines forever without the blank line that ends an event. */
  | { kind: 'endless-event'; text?: string }
  /** A non-streamed JSON body (application/json) whose answer is `bytes` long (one line, or pretty-printed over many). */
  | { kind: 'huge-json'; bytes: number; pretty?: boolean }
  /** An error status whose body is `bytes` long (or never ends, with `bytes` 0). */
  | { kind: 'huge-error'; status: number; bytes: number }
  /** The whole answer and its finish reason, then the connection stays open (no `[DONE]`, no end). */
  | { kind: 'finish-then-hold'; text: string }
  /** A redirect to `location` (another origin, a same-origin path, …). */
  | { kind: 'redirect'; status: number; location: string | ((baseURL: string) => string) };

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
  /** Response body bytes written, over all requests (what a client had to read or refuse). */
  bytesSent = 0;
  /** Open interval timers of trickling / slow keep-alive replies, cleared when their client goes away or on stop(). */
  private timers = new Set<NodeJS.Timeout>();
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
    for (const t of this.timers) clearInterval(t);
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
        res.flushHeaders(); // headers go out even when no piece follows
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
      case 'endless': {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        if (behaviour.text) res.write(chunk(body.model, behaviour.text));
        const piece = behaviour.piece ?? 'more text ';
        const item = deltaChunk(body.model, behaviour.field ?? 'content', piece);
        this.flood(req, res, () => item);
        return;
      }
      case 'keepalive': {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        if (behaviour.text) res.write(chunk(body.model, behaviour.text));
        const item = keepAlive(body.model, behaviour.style);
        if (behaviour.intervalMs) this.every(req, res, behaviour.intervalMs, () => item);
        else this.flood(req, res, () => item);
        return;
      }
      case 'trickle': {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        const bytes = Buffer.from(chunk(body.model, behaviour.text));
        let i = 0;
        this.every(req, res, behaviour.intervalMs, () => {
          const at = i++ % bytes.length;
          return bytes.subarray(at, at + 1);
        });
        return;
      }
      case 'huge-line': {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        if (behaviour.text) res.write(chunk(body.model, behaviour.text));
        res.write('data: {"choices":[{"index":0,"delta":{"content":"');
        const block = 'x'.repeat(64 * 1024);
        this.flood(req, res, () => block);
        return;
      }
      case 'endless-event': {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        if (behaviour.text) res.write(chunk(body.model, behaviour.text));
        const line = `data: ${'y'.repeat(1000)}\n`;
        this.flood(req, res, () => line);
        return;
      }
      case 'huge-json': {
        res.writeHead(200, { 'content-type': 'application/json' });
        const nl = behaviour.pretty ? '\n' : '';
        res.write(`{${nl}"id":"c",${nl}"object":"chat.completion",${nl}"choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"`);
        const block = behaviour.pretty ? `${'z'.repeat(1023)}\n` : 'z'.repeat(64 * 1024);
        let left = behaviour.bytes;
        this.flood(req, res, () => {
          if (left <= 0) return null;
          left -= block.length;
          return left > 0 ? block : `${block}"}}]}`;
        });
        return;
      }
      case 'huge-error': {
        res.writeHead(behaviour.status, { 'content-type': 'application/json' });
        res.write('{"error":{"type":"test","message":"');
        const block = 'e'.repeat(64 * 1024);
        let left = behaviour.bytes || Number.POSITIVE_INFINITY;
        this.flood(req, res, () => {
          if (left <= 0) return null;
          left -= block.length;
          return left > 0 ? block : `${block}"}}`;
        });
        return;
      }
      case 'finish-then-hold':
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(chunk(body.model, behaviour.text));
        res.write(sse({ id: 'c', object: 'chat.completion.chunk', created: 0, model: body.model, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }));
        return;
      case 'redirect': {
        const location = typeof behaviour.location === 'function' ? behaviour.location(this.baseURL) : behaviour.location;
        res.writeHead(behaviour.status, { location, 'content-type': 'application/json' }).end('{}');
        return;
      }
    }
  }

  /**
   * Writes `next()` as fast as the client reads (waits for 'drain'), until the client goes away
   * or `next()` returns null (then the response ends).
   */
  private flood(req: IncomingMessage, res: ServerResponse, next: () => string | Buffer | null): void {
    let gone = false;
    req.socket.once('close', () => (gone = true));
    const pump = () => {
      while (!gone) {
        const item = next();
        if (item === null) {
          res.end();
          return;
        }
        this.bytesSent += Buffer.byteLength(item);
        if (!res.write(item)) {
          res.once('drain', pump);
          return;
        }
      }
    };
    pump();
  }

  /** Writes `next()` every `ms` until the client goes away. */
  private every(req: IncomingMessage, res: ServerResponse, ms: number, next: () => string | Buffer): void {
    const timer = setInterval(() => {
      const item = next();
      this.bytesSent += Buffer.byteLength(item);
      res.write(item);
    }, ms);
    this.timers.add(timer);
    req.socket.once('close', () => {
      clearInterval(timer);
      this.timers.delete(timer);
    });
  }
}

function sse(obj: unknown): string {
  return `data: ${JSON.stringify(obj)}\n\n`;
}

function chunk(model: string, content: string): string {
  return sse({ id: 'c', object: 'chat.completion.chunk', created: 0, model, choices: [{ index: 0, delta: { content }, finish_reason: null }] });
}

function deltaChunk(model: string, field: 'content' | 'reasoning_content' | 'reasoning' | 'tool_calls' | 'refusal', text: string): string {
  const delta = field === 'tool_calls' ? { tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'f', arguments: text } }] } : { [field]: text };
  return sse({ id: 'c', object: 'chat.completion.chunk', created: 0, model, choices: [{ index: 0, delta, finish_reason: null }] });
}

function keepAlive(model: string, style: 'comment' | 'empty-delta' | 'role-only' | 'blank-lines' | 'no-choices'): string {
  const base = { id: 'c', object: 'chat.completion.chunk', created: 0, model };
  switch (style) {
    case 'comment':
      return ': ping\n\n';
    case 'blank-lines':
      return '\n\n\n\n';
    case 'empty-delta':
      return sse({ ...base, choices: [{ index: 0, delta: { content: '' }, finish_reason: null }] });
    case 'role-only':
      return sse({ ...base, choices: [{ index: 0, delta: { role: 'assistant' }, finish_reason: null }] });
    case 'no-choices':
      return sse({ ...base, choices: [] });
  }
}

function split(text: string, n: number): string[] {
  const size = Math.max(1, Math.ceil(text.length / n));
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}
