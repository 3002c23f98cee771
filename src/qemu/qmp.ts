/**
 * A QMP client: the QEMU Machine Protocol over a Unix socket, one JSON object a line
 * (docs/interop/qmp-spec.rst). No maintained npm package speaks QMP (the registry has none that is
 * more than a stub), and the protocol is small: a greeting, `qmp_capabilities` to leave
 * negotiation mode, then commands answered in order with the `id` they were sent with, and
 * asynchronous events interleaved with the answers.
 *
 * A closed socket (QEMU quit or crashed) rejects every command in flight and every later one with
 * QmpClosedError, so a block job waited on through this client cannot hang on a dead QEMU.
 */
import { EventEmitter } from 'node:events';
import { connect, type Socket } from 'node:net';
import { createInterface } from 'node:readline';

export interface QmpEvent {
  event: string;
  data?: Record<string, unknown>;
  timestamp?: { seconds: number; microseconds: number };
}

/** QEMU refused a command: its error class and description. */
export class QmpCommandError extends Error {
  constructor(
    readonly command: string,
    readonly errorClass: string,
    readonly desc: string,
  ) {
    super(`QMP ${command}: ${errorClass}: ${desc}`);
    this.name = 'QmpCommandError';
  }
}

/** The connection ended (QEMU quit, crashed, or the client closed it). */
export class QmpClosedError extends Error {
  constructor(message = 'the QMP connection is closed') {
    super(message);
    this.name = 'QmpClosedError';
  }
}

interface Pending {
  command: string;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
}

export class QmpClient {
  private readonly pending = new Map<string, Pending>();
  private readonly events = new EventEmitter();
  private nextId = 1;
  private closedError: QmpClosedError | null = null;
  /** Resolves once the socket has ended, for whatever reason. */
  readonly closed: Promise<void>;

  private constructor(private readonly socket: Socket) {
    this.events.setMaxListeners(0);
    let markClosed!: () => void;
    this.closed = new Promise((resolve) => (markClosed = resolve));
    const lines = createInterface({ input: socket });
    lines.on('error', () => undefined);
    lines.on('line', (line) => this.onLine(line));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closedError ??= new QmpClosedError('QEMU closed the QMP connection');
      for (const p of this.pending.values()) p.reject(this.closedError);
      this.pending.clear();
      this.events.emit('close');
      markClosed();
    });
  }

  /**
   * Connects to a QMP server socket (`-qmp unix:<path>,server=on,wait=off`), reads the greeting
   * and negotiates capabilities. Rejects within `timeoutMs` when nobody answers.
   */
  static async connect(socketPath: string, timeoutMs = 10_000): Promise<QmpClient> {
    const socket = connect(socketPath);
    // A refused or missing socket is answered by the rejection below; readline re-emits the
    // socket's error on its interface, which must not become an uncaught exception.
    socket.on('error', () => undefined);
    let timer: NodeJS.Timeout | undefined;
    try {
      const greeting = await Promise.race([
        new Promise<string>((resolve, reject) => {
          socket.once('error', reject);
          const lines = createInterface({ input: socket });
          lines.on('error', () => undefined);
          lines.once('line', (line) => {
            lines.close();
            socket.removeListener('error', reject);
            resolve(line);
          });
          socket.once('close', () => reject(new QmpClosedError('QEMU closed the QMP socket before its greeting')));
        }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new QmpClosedError(`no QMP greeting on ${socketPath} within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
      if (!('QMP' in (JSON.parse(greeting) as object))) throw new Error(`not a QMP greeting: ${greeting}`);
    } catch (err) {
      socket.destroy();
      throw err;
    } finally {
      clearTimeout(timer);
    }
    const client = new QmpClient(socket);
    await client.execute('qmp_capabilities');
    return client;
  }

  get isClosed(): boolean {
    return this.closedError !== null;
  }

  async execute<T = unknown>(command: string, args?: Record<string, unknown>): Promise<T> {
    if (this.closedError) throw this.closedError;
    const id = `c${this.nextId++}`;
    const answer = new Promise<unknown>((resolve, reject) => this.pending.set(id, { command, resolve, reject }));
    this.socket.write(`${JSON.stringify(args ? { execute: command, arguments: args, id } : { execute: command, id })}\n`);
    return (await answer) as T;
  }

  /** Every event QEMU sends from now on; returns the unsubscribe function. */
  onEvent(listener: (e: QmpEvent) => void): () => void {
    this.events.on('event', listener);
    return () => this.events.off('event', listener);
  }

  /**
   * Resolves with the first event `match` accepts. Subscribe before sending the command that
   * causes it, so an event that arrives with the answer is not missed. Rejects with
   * QmpClosedError if the connection ends first.
   */
  waitForEvent(match: (e: QmpEvent) => boolean): { event: Promise<QmpEvent>; cancel: () => void } {
    let cancel = () => {};
    const event = new Promise<QmpEvent>((resolve, reject) => {
      if (this.closedError) return reject(this.closedError);
      const onEvent = (e: QmpEvent) => {
        if (!match(e)) return;
        cancel();
        resolve(e);
      };
      const onClose = () => {
        cancel();
        reject(this.closedError ?? new QmpClosedError());
      };
      this.events.on('event', onEvent);
      this.events.once('close', onClose);
      cancel = () => {
        this.events.off('event', onEvent);
        this.events.off('close', onClose);
      };
    });
    return { event, cancel };
  }

  /** Ends the connection; QEMU keeps running (it listens for the next client). */
  close(): Promise<void> {
    this.closedError ??= new QmpClosedError('the QMP client was closed');
    this.socket.end();
    this.socket.destroy();
    return this.closed;
  }

  private onLine(line: string): void {
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    if (typeof message.event === 'string') {
      this.events.emit('event', message as unknown as QmpEvent);
      return;
    }
    const id = typeof message.id === 'string' ? message.id : undefined;
    const pending = id ? this.pending.get(id) : undefined;
    if (!pending || !id) return;
    this.pending.delete(id);
    if ('error' in message) {
      const error = message.error as { class?: string; desc?: string };
      pending.reject(new QmpCommandError(pending.command, error.class ?? 'GenericError', error.desc ?? JSON.stringify(error)));
    } else {
      pending.resolve(message.return);
    }
  }
}
