// Sys over Node: used by the tests and by host tools. It refuses what would harm the
// host (power off, reboot, mount) instead of pretending to do it.
import * as fs from "node:fs";
import { spawn } from "node:child_process";
import { ReadStream } from "node:tty";
import { createHash, randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import type { Console, Device, ExecOptions, ExecResult, FileStat, KeyHandler, Sys, Terminal } from "../sys.ts";
import { SysError } from "../sys.ts";

const HASH_CHUNK = 1 << 20;

function sha256File(path: string): Uint8Array {
  const hash = createHash("sha256");
  const buffer = Buffer.alloc(HASH_CHUNK);
  const fd = fs.openSync(path, "r");
  try {
    for (let n; (n = fs.readSync(fd, buffer, 0, HASH_CHUNK, null)) > 0; ) hash.update(buffer.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return new Uint8Array(hash.digest());
}

function wrap<T>(path: string, action: () => T): T {
  try {
    return action();
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    throw new SysError(`${path}: ${e.message}`, path, typeof e.errno === "number" ? -e.errno : undefined);
  }
}

function kindOf(st: fs.Stats): FileStat["kind"] {
  if (st.isSymbolicLink()) return "symlink";
  if (st.isDirectory()) return "dir";
  if (st.isFile()) return "file";
  return "other";
}

class NodeDevice implements Device {
  constructor(private readonly fd: number) {}
  read(max: number): Uint8Array {
    const buffer = new Uint8Array(max);
    const n = fs.readSync(this.fd, buffer, 0, max, null);
    return buffer.subarray(0, n);
  }
  write(data: Uint8Array): void {
    let offset = 0;
    while (offset < data.length) offset += fs.writeSync(this.fd, data, offset);
  }
  close(): void {
    fs.closeSync(this.fd);
  }
}

class NodeTerminal implements Terminal {
  private readonly input: ReadStream;
  private open = true;

  constructor(private readonly fd: number) {
    this.input = new ReadStream(fd);
    this.input.pause();
  }

  write(text: string): void {
    fs.writeSync(this.fd, text);
  }
  setRaw(raw: boolean): void {
    if (this.open) this.input.setRawMode(raw);
  }
  onKeys(handler: KeyHandler): () => void {
    const listener = (chunk: Buffer) => handler(new Uint8Array(chunk));
    this.input.on("data", listener);
    this.input.resume();
    return () => {
      this.input.off("data", listener);
      if (this.input.listenerCount("data") === 0) this.input.pause();
    };
  }
  close(): void {
    if (!this.open) return;
    this.open = false;
    this.input.setRawMode(false);
    // The stream owns the descriptor and closes it.
    this.input.destroy();
  }

  static openAt(path: string): NodeTerminal {
    const fd = wrap(path, () => fs.openSync(path, fs.constants.O_RDWR | fs.constants.O_NOCTTY));
    try {
      return new NodeTerminal(fd);
    } catch (error) {
      fs.closeSync(fd);
      throw new SysError(`${path} is not a terminal: ${(error as Error).message}`, path);
    }
  }
}

class NodeConsole implements Console {
  size() {
    return { columns: process.stdout.columns || 80, rows: process.stdout.rows || 24 };
  }
  write(text: string): void {
    process.stdout.write(text);
  }
  writeError(text: string): void {
    process.stderr.write(text);
  }
  setRaw(raw: boolean): void {
    if (process.stdin.isTTY) process.stdin.setRawMode(raw);
  }
  onKeys(handler: (bytes: Uint8Array) => void): () => void {
    const listener = (chunk: Buffer) => handler(new Uint8Array(chunk));
    process.stdin.on("data", listener);
    process.stdin.resume();
    return () => {
      process.stdin.off("data", listener);
      process.stdin.pause();
    };
  }
  isTerminal(): boolean {
    return Boolean(process.stdout.isTTY);
  }
}

export function createNodeSys(): Sys {
  return {
    engine: "node",
    hostPath: (path) => path,
    readFile: (path) => wrap(path, () => new Uint8Array(fs.readFileSync(path))),
    readText: (path) => wrap(path, () => fs.readFileSync(path, "utf8")),
    writeFile: (path, data, mode) => wrap(path, () => fs.writeFileSync(path, data, { mode: mode ?? 0o644 })),
    // As on QuickJS: O_APPEND without O_CREAT, so a missing file is an error, not a new file.
    appendFile: (path, data) =>
      wrap(path, () => {
        const fd = fs.openSync(path, fs.constants.O_WRONLY | fs.constants.O_APPEND);
        try {
          fs.writeSync(fd, data);
        } finally {
          fs.closeSync(fd);
        }
      }),
    rename: (from, to) => wrap(from, () => fs.renameSync(from, to)),
    remove: (path) => wrap(path, () => fs.rmSync(path, { recursive: true, force: true })),
    wipeFile: (path) => wrap(path, () => wipeNode(path)),
    // As on QuickJS: an existing directory is fine, missing parents are not created.
    mkdir: (path, mode) =>
      wrap(path, () => {
        if (fs.statSync(path, { throwIfNoEntry: false })?.isDirectory()) return;
        fs.mkdirSync(path, { mode: mode ?? 0o755 });
      }),
    readdir: (path) => wrap(path, () => fs.readdirSync(path).sort()),
    sha256File: (path) => wrap(path, () => sha256File(path)),
    stat: (path) => {
      try {
        const st = fs.lstatSync(path);
        return { kind: kindOf(st), size: st.size, mode: st.mode & 0o7777, mtimeMs: st.mtimeMs };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
        throw new SysError(`${path}: ${(error as Error).message}`, path);
      }
    },
    readlink: (path) => wrap(path, () => fs.readlinkSync(path)),
    symlink: (target, path) => wrap(path, () => fs.symlinkSync(target, path)),
    exec: (argv, options) => execNode(argv, options),
    openDevice: (path, mode) => wrap(path, () => new NodeDevice(fs.openSync(path, mode === "rw" ? "r+" : "r"))),
    openTerminal: (path) => NodeTerminal.openAt(path),
    console: new NodeConsole(),
    now: () => Date.now(),
    setClock: async () => {
      throw new SysError("refusing to set the clock: this is a host, not the firmware");
    },
    monotonic: () => performance.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    setTimer: (ms, callback) => {
      const timer = setTimeout(callback, ms);
      return () => clearTimeout(timer);
    },
    randomBytes: (count) => new Uint8Array(randomBytes(count)),
    env: (name) => process.env[name],
    mount: async (source, target) => {
      throw new SysError(`refusing to mount ${source} on ${target}: this is a host, not the firmware`);
    },
    poweroff: async () => {
      throw new SysError("refusing to power off: this is a host, not the firmware");
    },
    reboot: async () => {
      throw new SysError("refusing to reboot: this is a host, not the firmware");
    },
    onPowerRequest: () => undefined,
    exit: (status) => process.exit(status),
  };
}

function wipeNode(path: string): void {
  const fd = fs.openSync(path, fs.constants.O_WRONLY | fs.constants.O_NOFOLLOW);
  try {
    const size = fs.fstatSync(fd).size;
    const zeros = new Uint8Array(Math.min(size, 65536));
    for (let done = 0; done < size; ) done += fs.writeSync(fd, zeros, 0, Math.min(zeros.length, size - done), done);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.unlinkSync(path);
}

function execNode(argv: string[], options: ExecOptions = {}): Promise<ExecResult> {
  if (argv.length === 0) return Promise.reject(new SysError("exec needs a program name"));
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: options.inheritStdio ? "inherit" : ["pipe", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr?.on("data", (chunk: Buffer) => err.push(chunk));
    child.on("error", (error) => reject(new SysError(`${argv[0]}: ${error.message}`, argv[0])));
    child.on("close", (code, signal) => {
      resolve({
        status: code ?? 128 + (signal ? signalNumber(signal) : 0),
        stdout: new Uint8Array(Buffer.concat(out)),
        stderr: new Uint8Array(Buffer.concat(err)),
      });
    });
    if (child.stdin) {
      child.stdin.on("error", () => undefined);
      child.stdin.end(options.input ?? new Uint8Array(0));
    }
  });
}

function signalNumber(signal: NodeJS.Signals): number {
  const numbers: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };
  return numbers[signal] ?? 0;
}
