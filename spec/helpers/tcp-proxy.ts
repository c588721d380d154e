import { connect, createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { after } from 'node:test';

/**
 * A TCP proxy on loopback to a server of the machine (a database other specs use too), which a spec may stop
 * (its connections cut, new ones refused), freeze (bytes held in both directions: a hung server) and start
 * again on the same port, without touching the server itself. Closed after the file's tests.
 */
export class TcpProxy {
  private readonly sockets = new Set<Socket>();
  private readonly links = new Set<{ frozen: boolean; held: Array<() => void> }>();
  private server: Server | undefined;
  private freezeNew = false;
  port = 0;

  private constructor(private readonly targetPort: number) {}

  static async start(targetPort: number): Promise<TcpProxy> {
    const proxy = new TcpProxy(targetPort);
    await proxy.start();
    after(() => proxy.stop());
    return proxy;
  }

  async start(): Promise<void> {
    const server = createServer((client) => this.relay(client));
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  private relay(client: Socket): void {
    const upstream = connect(this.targetPort, '127.0.0.1');
    const link = { frozen: this.freezeNew, held: [] as Array<() => void> };
    this.links.add(link);
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on('close', () => {
        this.sockets.delete(socket);
        this.links.delete(link);
      });
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    const pipe = (from: Socket, to: Socket) => {
      from.on('data', (chunk) => {
        const forward = () => to.destroyed || to.write(chunk);
        if (link.frozen) link.held.push(forward);
        else forward();
      });
      from.on('end', () => to.end());
    };
    pipe(client, upstream);
    pipe(upstream, client);
  }

  /** Holds every byte from now on, on the connections there are and on new ones: a server that hangs. */
  freeze(): void {
    this.freezeNew = true;
    for (const link of this.links) link.frozen = true;
  }

  /** Relays new connections again, while those there are stay frozen (as flows a network lost). */
  admitNew(): void {
    this.freezeNew = false;
  }

  /** Delivers what was held, then relays again. */
  thaw(): void {
    this.freezeNew = false;
    for (const link of this.links) {
      link.frozen = false;
      for (const forward of link.held.splice(0)) forward();
    }
  }

  /** Cuts every connection and refuses new ones. */
  async stop(): Promise<void> {
    this.freezeNew = false;
    for (const socket of this.sockets) socket.destroy();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
