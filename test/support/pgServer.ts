import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

/**
 * A real PostgreSQL 18 (PGlite, WebAssembly) with pgvector, served over the wire protocol on a
 * loopback port: clients use `pg` exactly as against a server. PGlite is one session: the socket
 * server runs one transaction at a time (others wait) and rolls back a transaction whose
 * connection drops.
 */
export class PgTestServer {
  private db?: PGlite;
  private server?: PGLiteSocketServer;
  port = 0;

  async start(port = 0): Promise<void> {
    this.db ??= await PGlite.create({ extensions: { vector } });
    this.server = new PGLiteSocketServer({ db: this.db, port, host: '127.0.0.1', maxConnections: 16 });
    await this.server.start();
    this.port = Number(this.server.getServerConn().split(':').pop());
  }

  get url(): string {
    return `postgres://sift:secret-pw@127.0.0.1:${this.port}/postgres?sslmode=disable`;
  }

  /** Stops listening (the database stays in memory; `start(port)` serves it again). */
  async stopListening(): Promise<void> {
    await this.server?.stop();
    this.server = undefined;
  }

  async stop(): Promise<void> {
    await this.stopListening();
    await this.db?.close();
    this.db = undefined;
  }
}
