import * as net from 'node:net';

/**
 * A loopback TCP proxy in front of a PostgreSQL server that can cut the connection at the moment a
 * client sends its next message (a query): the client sees the socket close mid-query, as when a
 * server restarts or a network path drops.
 */
export class DroppingProxy {
  private server?: net.Server;
  private readonly sockets = new Set<net.Socket>();
  /** Set: the next bytes any client sends close both sides instead of reaching the server. */
  dropNext = false;
  port = 0;

  constructor(private readonly target: () => number) {}

  async start(): Promise<void> {
    this.server = net.createServer((client) => {
      const upstream = net.connect(this.target(), '127.0.0.1');
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.on('data', (d) => {
        if (this.dropNext) {
          this.dropNext = false;
          client.destroy();
          upstream.destroy();
          return;
        }
        upstream.write(d);
      });
      upstream.on('data', (d) => client.write(d));
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/**
 * A loopback server that speaks the start of the PostgreSQL wire protocol the way a server with
 * password authentication does: it asks for a cleartext password, records it, and refuses it with
 * SQLSTATE 28P01 (PGlite, the engine of the other tests, accepts any password).
 */
export class RefusingAuthServer {
  private server?: net.Server;
  /** Passwords clients sent (to check where a password went). */
  readonly received: string[] = [];
  port = 0;

  async start(): Promise<void> {
    this.server = net.createServer((socket) => {
      socket.on('error', () => undefined);
      let stage = 0;
      socket.on('data', (d) => {
        if (stage === 0) {
          stage = 1; // StartupMessage → AuthenticationCleartextPassword
          const auth = Buffer.alloc(9);
          auth.write('R', 0);
          auth.writeInt32BE(8, 1);
          auth.writeInt32BE(3, 5);
          socket.write(auth);
          return;
        }
        // PasswordMessage: 'p', int32 length, password\0
        if (d[0] === 0x70) this.received.push(d.subarray(5, d.length - 1).toString('utf8'));
        const fields = Buffer.from('SFATAL\0VFATAL\0C28P01\0Mpassword authentication failed for user "sift"\0\0', 'utf8');
        const err = Buffer.alloc(5);
        err.write('E', 0);
        err.writeInt32BE(4 + fields.length, 1);
        socket.end(Buffer.concat([err, fields]));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
