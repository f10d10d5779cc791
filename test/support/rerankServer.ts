import type { IncomingMessage, ServerResponse } from 'node:http';
import type { InferenceClient } from '../../src/core/worker/client';
import { TINY_RERANKER } from '../helpers';
import { LoopbackHttp, workerWithModel } from './loopback';

/**
 * A real HTTP server speaking the common rerank wire format (`POST /rerank` with
 * `{model, query, documents, top_n}` → `{results: [{index, relevance_score}]}`, as text-embeddings-inference,
 * vLLM, llama.cpp, Jina, Cohere and Voyage serve it), on loopback. It scores with the tiny cross-encoder in the
 * project's own inference worker, so its ranking equals the local reranker's. Each request is recorded; the
 * next replies can be scripted with faults.
 */
export type RerankFault =
  /** 429 with a Retry-After header (seconds). */
  | { kind: 'rate-limited'; retryAfter: string }
  | { kind: 'status'; status: number }
  /** A 200 whose JSON body is cut off. */
  | { kind: 'truncated-json' }
  /** Scores for the wrong documents: one result with an index past the end. */
  | { kind: 'index-out-of-range' }
  /** Scores for only the first document (the others left out, as some servers do with top_n). */
  | { kind: 'missing-documents' }
  /** Never answers. */
  | { kind: 'hang' }
  /** A redirect to `location`. */
  | { kind: 'redirect'; location: string };

export interface RerankRequestRecord {
  url: string;
  headers: IncomingMessage['headers'];
  body: { model?: string; query: string; documents: string[]; top_n?: number };
}

export class RerankTestServer {
  /** Replies for the next requests, in order; then real scores. */
  faults: RerankFault[] = [];
  readonly requests: RerankRequestRecord[] = [];
  private readonly http = new LoopbackHttp((req, res) => void this.handle(req, res));
  private client?: InferenceClient;
  private cleanup?: () => void;
  baseURL = '';

  async start(): Promise<void> {
    ({ client: this.client, cleanup: this.cleanup } = await workerWithModel('loadReranker', TINY_RERANKER));
    this.baseURL = `http://127.0.0.1:${await this.http.listen()}`;
  }

  async stop(): Promise<void> {
    await this.http.close();
    await this.client?.dispose();
    this.cleanup?.();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let raw = '';
    for await (const piece of req) raw += String(piece);
    if (req.method !== 'POST' || !req.url?.endsWith('/rerank')) {
      res.writeHead(404).end();
      return;
    }
    const body = JSON.parse(raw) as RerankRequestRecord['body'];
    this.requests.push({ url: req.url, headers: req.headers, body });
    const fault = this.faults.shift();
    if (fault?.kind === 'hang') return;
    if (fault?.kind === 'rate-limited') return void res.writeHead(429, { 'retry-after': fault.retryAfter }).end('slow down');
    if (fault?.kind === 'status') return void res.writeHead(fault.status).end('server error');
    if (fault?.kind === 'redirect') return void res.writeHead(307, { location: fault.location }).end();
    const scores = await this.client!.call('rerank', { query: body.query, passages: body.documents });
    let results = scores.map((relevance_score, index) => ({ index, relevance_score }));
    if (fault?.kind === 'index-out-of-range') results = [{ index: body.documents.length + 3, relevance_score: 1 }];
    if (fault?.kind === 'missing-documents') results = results.slice(0, 1);
    results.sort((a, b) => b.relevance_score - a.relevance_score);
    const json = JSON.stringify({ model: body.model ?? 'tiny-reranker', results });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(fault?.kind === 'truncated-json' ? json.slice(0, Math.floor(json.length / 2)) : json);
  }
}
