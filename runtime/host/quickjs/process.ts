// A `process` object for ink (and the few other libraries that peek at it), over std/os.
// It deliberately has no kill/reallyExit: signal-exit then sees no real process and
// installs nothing, which is right for PID 1.
import { EventEmitter } from "events";
import * as os from "os";
import * as std from "std";
import { subscribeStdin } from "./stdin-reader.ts";
import { enterRawMode, leaveRawMode } from "./tty-mode.ts";

function winSize(fd: number): [number, number] | null {
  try {
    return os.isatty(fd) ? os.ttyGetWinSize(fd) : null;
  } catch {
    return null;
  }
}

class OutputStream extends EventEmitter {
  readonly writable = true;
  readonly writableEnded = false;
  readonly destroyed = false;
  readonly writableLength = 0;
  private readonly encoder = new TextEncoder();

  constructor(
    readonly fd: number,
    private readonly file: std.FILE,
  ) {
    super();
  }

  get isTTY(): boolean {
    return os.isatty(this.fd);
  }

  get columns(): number {
    return winSize(this.fd)?.[0] || 80;
  }

  get rows(): number {
    return winSize(this.fd)?.[1] || 24;
  }

  write(chunk: string | Uint8Array, encodingOrCallback?: unknown, callback?: unknown): boolean {
    const bytes = typeof chunk === "string" ? this.encoder.encode(chunk) : chunk;
    const copy = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes.buffer : bytes.slice().buffer;
    this.file.write(copy as ArrayBuffer, 0, bytes.byteLength);
    this.file.flush();
    const done = typeof encodingOrCallback === "function" ? encodingOrCallback : callback;
    if (typeof done === "function") queueMicrotask(() => (done as () => void)());
    return true;
  }

  end(): void {}

  getColorDepth(): number {
    return this.isTTY ? 8 : 1;
  }

  hasColors(): boolean {
    return this.isTTY;
  }
}

class InputStream extends EventEmitter {
  readonly fd = 0;
  private readonly queue: Uint8Array[] = [];
  private encoding: string | null = null;
  private unsubscribe: (() => void) | null = null;
  private referenced = true;
  private ended = false;
  private readonly decoder = new TextDecoder();

  constructor() {
    super();
    this.on("newListener", (event: string) => {
      if (event === "readable" || event === "data") queueMicrotask(() => this.sync());
    });
    this.on("removeListener", () => queueMicrotask(() => this.sync()));
  }

  get isTTY(): boolean {
    return os.isatty(0);
  }

  /** Reads fd 0 only while someone listens and the stream is referenced. */
  private sync(): void {
    const wanted = this.referenced && !this.ended && (this.listenerCount("readable") > 0 || this.listenerCount("data") > 0);
    if (wanted && !this.unsubscribe) this.unsubscribe = subscribeStdin((bytes) => this.receive(bytes));
    if (!wanted && this.unsubscribe) {
      this.unsubscribe();
      this.unsubscribe = null;
    }
  }

  private receive(bytes: Uint8Array | null): void {
    if (!bytes) {
      this.ended = true;
      this.sync();
      this.emit("end");
      return;
    }
    if (this.listenerCount("data") > 0) this.emit("data", this.encoding ? this.decoder.decode(bytes, { stream: true }) : bytes);
    if (this.listenerCount("readable") > 0) {
      this.queue.push(bytes);
      this.emit("readable");
    }
  }

  read(): string | Uint8Array | null {
    const chunk = this.queue.shift();
    if (!chunk) return null;
    return this.encoding ? this.decoder.decode(chunk, { stream: true }) : chunk;
  }

  unshift(chunk: string | Uint8Array): void {
    this.queue.unshift(typeof chunk === "string" ? new TextEncoder().encode(chunk) : chunk);
  }

  setEncoding(encoding: string): this {
    this.encoding = encoding;
    return this;
  }

  setRawMode(raw: boolean): this {
    if (raw) enterRawMode();
    else leaveRawMode();
    return this;
  }

  ref(): this {
    this.referenced = true;
    this.sync();
    return this;
  }

  unref(): this {
    this.referenced = false;
    this.sync();
    return this;
  }

  pause(): this {
    return this;
  }

  resume(): this {
    return this;
  }
}

function environment(): Record<string, string> {
  try {
    return { ...std.getenviron() };
  } catch {
    return {};
  }
}

class ProcessShim extends EventEmitter {
  readonly platform = "linux";
  readonly version = "";
  readonly versions: Record<string, string> = {};
  readonly argv: string[] = ["bootward", ...(typeof scriptArgs !== "undefined" && scriptArgs ? scriptArgs.slice(1) : [])];
  readonly env = environment();
  readonly stdout = new OutputStream(1, std.out);
  readonly stderr = new OutputStream(2, std.err);
  readonly stdin = new InputStream();
  exitCode: number | undefined = undefined;

  cwd(): string {
    const [dir, err] = os.getcwd();
    return err ? "/" : dir;
  }

  nextTick(callback: (...args: unknown[]) => void, ...args: unknown[]): void {
    queueMicrotask(() => callback(...args));
  }

  exit(code?: number): never {
    return std.exit(code ?? this.exitCode ?? 0);
  }
}

export function createProcess(): EventEmitter {
  return new ProcessShim();
}
