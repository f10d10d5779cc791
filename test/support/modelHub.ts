import { createReadStream, promises as fsp } from 'node:fs';
import { type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';

/**
 * A local HTTP server laid out like the Hugging Face hub (`/<org>/<name>/resolve/<rev>/<file>`),
 * serving model folders from disk: transformers.js downloads from it when `remoteHost` points here.
 */
export class ModelHubServer {
  readonly requests: string[] = [];
  private server: Server;
  url = '';

  constructor(private readonly models: Record<string, string>) {
    this.server = createServer((req, res) => void this.handle(req.url ?? '', req.method ?? 'GET', res));
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/`;
    return this.url;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(url: string, method: string, res: ServerResponse): Promise<void> {
    this.requests.push(url);
    const m = /^\/([^/]+\/[^/]+)\/resolve\/[^/]+\/(.+)$/.exec(decodeURIComponent(url.split('?')[0]!));
    const folder = m && this.models[m[1]!];
    const rel = m?.[2] ?? '';
    if (!folder || rel.split('/').includes('..')) {
      res.writeHead(404).end('not found');
      return;
    }
    const file = path.join(folder, ...rel.split('/'));
    const stat = await fsp.stat(file).catch(() => undefined);
    if (!stat?.isFile()) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-length': String(stat.size), 'content-type': 'application/octet-stream' });
    if (method === 'HEAD') res.end();
    else createReadStream(file).pipe(res);
  }
}
