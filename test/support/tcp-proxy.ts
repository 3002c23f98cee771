// A TCP proxy in front of a server (the test PostgreSQL), which a test cuts off and brings back
// the way a database that stops and starts would look to its clients: `cut()` closes the port
// (new connections are refused) and drops every open connection; `restore()` listens on the same
// port again. The shared PostgreSQL server itself is never touched.
import net, { type AddressInfo } from 'node:net';

export class TcpProxy {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  private listenPort = 0;

  private constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  static async start(targetHost: string, targetPort: number): Promise<TcpProxy> {
    const proxy = new TcpProxy(targetHost, targetPort);
    await proxy.listen();
    return proxy;
  }

  /** The port clients connect to; the same across cut() and restore(). */
  get port(): number {
    return this.listenPort;
  }

  private listen(): Promise<void> {
    const server = net.createServer((client) => {
      const upstream = net.connect(this.targetPort, this.targetHost);
      for (const s of [client, upstream]) this.sockets.add(s);
      const close = () => {
        for (const s of [client, upstream]) {
          s.destroy();
          this.sockets.delete(s);
        }
      };
      for (const s of [client, upstream]) {
        s.on('error', close);
        s.on('close', close);
      }
      client.pipe(upstream);
      upstream.pipe(client);
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.listenPort, '127.0.0.1', () => {
        this.listenPort = (server.address() as AddressInfo).port;
        resolve();
      });
    });
  }

  async cut(): Promise<void> {
    const server = this.server;
    this.server = null;
    const closed = new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await closed;
  }

  async restore(): Promise<void> {
    if (!this.server) await this.listen();
  }

  close(): Promise<void> {
    return this.cut();
  }
}
