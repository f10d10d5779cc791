import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import * as path from 'node:path';
import { DEFAULT_DTYPE } from '../../src/core/models/models';
import { InferenceClient } from '../../src/core/worker/client';
import { WORKER_SCRIPT, tempDir } from '../helpers';

/** The project's inference worker with one tiny model loaded (what the loopback model servers compute with). */
export async function workerWithModel(method: 'loadEmbedder' | 'loadReranker', model: string): Promise<{ client: InferenceClient; cleanup: () => void }> {
  const t = tempDir('sift-model-server-');
  const client = new InferenceClient(WORKER_SCRIPT);
  await client.call('configure', { cacheDir: path.join(t.dir, 'models'), allowRemote: false });
  const loaded = await client.call(method, { model, dtype: process.env.SIFT_DTYPE ?? DEFAULT_DTYPE });
  if (!loaded.ok) throw new Error(loaded.message);
  return { client, cleanup: t.cleanup };
}

/**
 * An HTTP server on 127.0.0.1 that can stop as a crashed server: requests not answered yet lose their
 * connection; answers already sent are delivered (their idle connections are closed after them), so a
 * client's view of what was answered matches the server's.
 */
export class LoopbackHttp {
  private server?: Server;
  /** Connections with a request not answered yet. */
  private readonly busy = new Set<Socket>();

  constructor(private readonly handler: (req: IncomingMessage, res: ServerResponse) => void) {}

  /** Listens (on `port`, or any free one) and resolves with the port. */
  async listen(port = 0): Promise<number> {
    const server = (this.server = createServer((req, res) => {
      this.busy.add(req.socket);
      res.on('finish', () => this.busy.delete(req.socket));
      res.on('close', () => this.busy.delete(req.socket));
      this.handler(req, res);
    }));
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  }

  /** Stops listening, drops the connections of unanswered requests and closes the idle ones. */
  async close(): Promise<void> {
    for (const s of this.busy) s.destroy();
    this.busy.clear();
    const closed = new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server?.closeIdleConnections();
    await closed;
  }
}
