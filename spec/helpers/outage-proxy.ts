import { connect, createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { after } from 'node:test';

/**
 * A TCP proxy on loopback to a server of the machine (a database the specs share, which they must never stop):
 * stopping the proxy is the server going down for the app behind it, freezing it is the server hanging.
 * Closed after the file's tests.
 */
export class OutageProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private frozen = false;
  port = 0;

  private constructor(private readonly targetPort: number) {}

  static async start(targetPort: number): Promise<OutageProxy> {
    const proxy = new OutageProxy(targetPort);
    await proxy.start();
    after(() => proxy.stop());
    return proxy;
  }

  /** Listens again, on the same port as before. */
  async start(): Promise<void> {
    const server = createServer((client) => this.relay(client));
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  private relay(client: Socket): void {
    const upstream = connect(this.targetPort, '127.0.0.1');
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
      if (this.frozen) socket.pause();
    }
    client.on('data', (chunk) => upstream.write(chunk));
    upstream.on('data', (chunk) => client.write(chunk));
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
  }

  /** Refuses new connections and drops those open: the server is down. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Relays nothing more, on open and new connections alike, until thawed: the server hangs. */
  freeze(): void {
    this.frozen = true;
    for (const socket of this.sockets) socket.pause();
  }

  /** Leaves the open connections frozen for good while new ones work: a network path that died silently. */
  freezeOpenConnections(): void {
    for (const socket of this.sockets) socket.pause();
  }

  /** Relays new connections again, while those open stay frozen (the flows of a network path that was lost). */
  admitNew(): void {
    this.frozen = false;
  }

  thaw(): void {
    this.frozen = false;
    for (const socket of this.sockets) socket.resume();
  }
}
