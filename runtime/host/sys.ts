// The one door between bootward and the machine. Everything outside runtime/host/
// reaches files, processes, devices, the console and the clock through a Sys, so the
// same flows run on native QuickJS (the firmware), in QuickJS-in-WebAssembly and on Node.

export interface FileStat {
  kind: "file" | "dir" | "symlink" | "other";
  size: number;
  mode: number;
  mtimeMs: number;
}

export interface ExecOptions {
  /** Bytes written to the child's stdin; without it stdin is /dev/null. */
  input?: Uint8Array;
  /** Extra environment variables on top of the inherited ones. */
  env?: Record<string, string>;
  cwd?: string;
  /** Let the child use our terminal directly (an interactive tool, the recovery shell). */
  inheritStdio?: boolean;
}

export interface ExecResult {
  /** Exit status, or 128 + signal number when the child was killed. */
  status: number;
  stdout: Uint8Array;
  stderr: Uint8Array;
}

/** An open device or file descriptor, as the kernel gives it (a TPM character device, a tty). */
export interface Device {
  read(max: number): Uint8Array;
  write(data: Uint8Array): void;
  close(): void;
}

export type KeyHandler = (bytes: Uint8Array) => void;

/**
 * A terminal other than the console that the screen is also drawn on and typed on: tty1,
 * the framebuffer console with a USB or PS/2 keyboard, while /dev/console is the serial line.
 */
export interface Terminal {
  write(text: string): void;
  /** As Console.setRaw, for this terminal. */
  setRaw(raw: boolean): void;
  /** Deliver input bytes as they arrive; returns a function that stops delivery. */
  onKeys(handler: KeyHandler): () => void;
  /** Stops reading, leaves raw mode and closes the device. */
  close(): void;
}

export interface Console {
  /** Columns and rows of the terminal, or 80×24 when it cannot tell (a serial line). */
  size(): { columns: number; rows: number };
  write(text: string): void;
  writeError(text: string): void;
  /** Raw mode: no echo, no line buffering; each key press reaches onKeys at once. */
  setRaw(raw: boolean): void;
  /** Deliver input bytes as they arrive; returns a function that stops delivery. */
  onKeys(handler: KeyHandler): () => void;
  isTerminal(): boolean;
}

export interface Sys {
  readonly engine: "quickjs" | "node";

  /**
   * The name a program started by exec knows `path` by. The same path on the firmware; under
   * `--root DIR` (host/rooted.ts) DIR joined with it. A file path read or written through this
   * Sys goes through hostPath before it enters an argv.
   */
  hostPath(path: string): string;

  readFile(path: string): Uint8Array;
  readText(path: string): string;
  writeFile(path: string, data: Uint8Array | string, mode?: number): void;
  /** Appends to an existing file (an OS initrd copy gets the disk-key cpio this way, never read whole). */
  appendFile(path: string, data: Uint8Array): void;
  rename(from: string, to: string): void;
  remove(path: string): void;
  /**
   * Overwrites a regular file with zeros where its bytes lie, then removes it. Truncating
   * instead (writeFile) would hand the old pages back to tmpfs with the secret still in them.
   */
  wipeFile(path: string): void;
  mkdir(path: string, mode?: number): void;
  readdir(path: string): string[];
  /** lstat: symlinks are reported as symlinks, not followed. Null when the path is absent. */
  stat(path: string): FileStat | null;
  readlink(path: string): string;
  symlink(target: string, path: string): void;
  /**
   * SHA-256 of a file's bytes, read as a stream: natively on the firmware (never in JS, which
   * does ~1 MB/s on QuickJS) and with node:crypto on a host.
   */
  sha256File(path: string): Uint8Array;

  /** Run a program with an argv array. Never a shell: argv[0] is looked up in PATH. */
  exec(argv: string[], options?: ExecOptions): Promise<ExecResult>;

  openDevice(path: string, mode: "r" | "rw"): Device;
  /** Opens a terminal device (never as our controlling terminal); fails if it is not a terminal. */
  openTerminal(path: string): Terminal;

  console: Console;

  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Sets the system clock and the RTC to `ms` since the epoch (Heads' change-time); refused on a host. */
  setClock(ms: number): Promise<void>;
  /** A monotonic clock in milliseconds, for timing. */
  monotonic(): number;
  sleep(ms: number): Promise<void>;
  setTimer(ms: number, callback: () => void): () => void;
  randomBytes(count: number): Uint8Array;
  env(name: string): string | undefined;

  mount(source: string, target: string, fstype: string, options?: string): Promise<void>;
  /** Powers the machine off. Never returns on the firmware; refused on a host. */
  poweroff(): Promise<never>;
  reboot(): Promise<never>;
  /**
   * Calls `handler` when another process asks PID 1 to reboot or power off, as busybox's
   * `reboot` (SIGTERM), `halt` (SIGUSR1) and `poweroff` (SIGUSR2) do from the recovery shell.
   * On a host the signals stay the host's business and nothing is registered.
   */
  onPowerRequest(handler: (choice: "poweroff" | "reboot") => void): void;
  exit(status: number): never;
}

export class SysError extends Error {
  constructor(
    message: string,
    readonly path?: string,
    readonly errno?: number,
  ) {
    super(message);
    this.name = "SysError";
  }
}
