// The parts of QuickJS 2021-03-27's `std` and `os` modules that bootward uses.
declare module "std" {
  export interface FILE {
    read(buffer: ArrayBuffer, position: number, length: number): number;
    write(buffer: ArrayBuffer, position: number, length: number): number;
    puts(text: string): void;
    flush(): void;
    close(): number;
    readAsString(max?: number): string;
    getByte(): number;
    eof(): boolean;
    error(): boolean;
    seek(offset: number, whence: number): number;
    tell(): number;
  }
  export const out: FILE;
  export const err: FILE;
  const stdin: FILE;
  export { stdin as in };
  export function open(path: string, mode: string, errorObj?: { errno?: number }): FILE | null;
  export function exit(status: number): never;
  export function getenv(name: string): string | undefined;
  export function getenviron(): Record<string, string>;
  export function strerror(errno: number): string;
  export function loadFile(path: string): string | null;
  export const SEEK_SET: number;
  export const SEEK_END: number;
}

declare module "os" {
  export type Timer = unknown;
  export function open(path: string, flags: number, mode?: number): number;
  export function close(fd: number): number;
  export function read(fd: number, buffer: ArrayBuffer, offset: number, length: number): number;
  export function write(fd: number, buffer: ArrayBuffer, offset: number, length: number): number;
  export function isatty(fd: number): boolean;
  export function ttyGetWinSize(fd: number): [number, number] | null;
  export function ttySetRaw(fd: number): void;
  export function remove(path: string): number;
  export function rename(from: string, to: string): number;
  export function mkdir(path: string, mode?: number): number;
  export function readdir(path: string): [string[], number];
  export function lstat(path: string): [{ mode: number; size: number; mtime: number }, number];
  export function stat(path: string): [{ mode: number; size: number; mtime: number }, number];
  export function readlink(path: string): [string, number];
  export function symlink(target: string, path: string): number;
  export function realpath(path: string): [string, number];
  export function getcwd(): [string, number];
  export function setReadHandler(fd: number, handler: (() => void) | null): void;
  export function setWriteHandler(fd: number, handler: (() => void) | null): void;
  export function signal(signal: number, handler: (() => void) | null): void;
  export function exec(
    argv: string[],
    options?: {
      block?: boolean;
      usePath?: boolean;
      file?: string;
      cwd?: string;
      stdin?: number;
      stdout?: number;
      stderr?: number;
      env?: Record<string, string>;
    },
  ): number;
  export function waitpid(pid: number, options: number): [number, number];
  export function pipe(): [number, number] | null;
  export function kill(pid: number, signal: number): number;
  export function dup2(oldfd: number, newfd: number): number;
  export function setTimeout(fn: () => void, ms: number): Timer;
  export function clearTimeout(timer: Timer): void;
  export function sleep(ms: number): void;
  export const SIGTERM: number;
  export const SIGUSR1: number;
  export const SIGUSR2: number;
  export const O_RDONLY: number;
  export const O_WRONLY: number;
  export const O_RDWR: number;
  export const O_CREAT: number;
  export const O_TRUNC: number;
  export const O_EXCL: number;
  export const O_APPEND: number;
  export const S_IFMT: number;
  export const S_IFREG: number;
  export const S_IFDIR: number;
  export const S_IFLNK: number;
  export const WNOHANG: number;
  export const SIGINT: number;
  export const SIGTERM: number;
}

/** Arguments of the running program, as QuickJS's std helpers define them. */
declare var scriptArgs: string[] | undefined;

// Compiled into the binary from runtime/host/quickjs/native.c.
declare module "bootward:native" {
  type Bytes = ArrayBuffer | ArrayBufferView;
  export function sha256(data: Bytes): ArrayBuffer;
  export function sha512(data: Bytes): ArrayBuffer;
  /** The file's digest, or a negative errno. */
  export function sha256File(path: string): ArrayBuffer | number;
  export function ed25519Verify(publicKey: Bytes, message: Bytes, signature: Bytes): boolean;
  /** s^e mod n, as many bytes as n has without leading zeros; null when n is even, e zero or s ≥ n. */
  export function rsaPublic(n: Bytes, e: Bytes, s: Bytes): ArrayBuffer | null;
}
