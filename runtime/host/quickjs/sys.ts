// Sys over QuickJS's std and os modules: what the firmware binary uses to reach the machine.
import * as os from "os";
import * as std from "std";
import { SysError, type Console, type Device, type ExecOptions, type ExecResult, type FileStat, type KeyHandler, type Sys, type Terminal } from "../sys.ts";
import { joinBytes } from "../../../lib/bytes.ts";
import { sha256File } from "./native.ts";
import { fillRandom } from "./random.ts";
import { subscribeStdin } from "./stdin-reader.ts";
import { enterRawMode, leaveRawMode, setTerminalMode } from "./tty-mode.ts";

const ENOENT = 2;
const ENOTDIR = 20;
const EEXIST = 17;
const CHUNK = 65536;
// Writes of at most PIPE_BUF bytes to a pipe that select() calls writable never block.
const PIPE_BUF = 4096;

function fail(what: string, path: string | undefined, result: number): never {
  const errno = -result;
  throw new SysError(`${what}: ${std.strerror(errno)}`, path, errno);
}

function check(what: string, path: string | undefined, result: number): number {
  if (result < 0) fail(what, path, result);
  return result;
}

function bufferOf(data: Uint8Array): ArrayBuffer {
  if (data.byteOffset === 0 && data.byteLength === data.buffer.byteLength) return data.buffer as ArrayBuffer;
  return data.slice().buffer as ArrayBuffer;
}

function writeAll(fd: number, data: Uint8Array, what: string, path?: string): void {
  const buffer = bufferOf(data);
  let done = 0;
  while (done < data.byteLength) {
    const n = os.write(fd, buffer, done, data.byteLength - done);
    if (n <= 0) fail(what, path, n === 0 ? -5 : n);
    done += n;
  }
}

function readFd(fd: number, what: string, path?: string): Uint8Array {
  const chunks: Uint8Array[] = [];
  for (;;) {
    const buffer = new ArrayBuffer(CHUNK);
    const n = os.read(fd, buffer, 0, CHUNK);
    if (n < 0) fail(what, path, n);
    if (n === 0) break;
    chunks.push(new Uint8Array(buffer, 0, n));
  }
  return joinBytes(chunks);
}

function kindOf(mode: number): FileStat["kind"] {
  const type = mode & os.S_IFMT;
  if (type === os.S_IFREG) return "file";
  if (type === os.S_IFDIR) return "dir";
  if (type === os.S_IFLNK) return "symlink";
  return "other";
}

/** Decodes a waitpid status the way a shell reports it. */
function exitStatus(status: number): number {
  const signal = status & 0x7f;
  return signal === 0 ? (status >> 8) & 0xff : 128 + signal;
}

function findInPath(program: string, pathVar: string | undefined): string | null {
  if (program.includes("/")) return program;
  for (const dir of (pathVar ?? "/bin:/sbin:/usr/bin:/usr/sbin").split(":")) {
    if (!dir) continue;
    const candidate = `${dir}/${program}`;
    const [st, err] = os.lstat(candidate);
    if (err === 0 && (st.mode & os.S_IFMT) !== os.S_IFDIR) return candidate;
  }
  return null;
}

/** Polls for a child's exit without blocking the event loop, backing off up to 20 ms. */
function waitChild(pid: number): Promise<number> {
  return new Promise((resolve) => {
    let delay = 1;
    const poll = () => {
      const [got, status] = os.waitpid(pid, os.WNOHANG);
      if (got === pid) return resolve(exitStatus(status));
      if (got < 0) return resolve(127);
      delay = Math.min(delay * 2, 20);
      os.setTimeout(poll, delay);
    };
    poll();
  });
}

/** Collects everything a pipe delivers until end of file, via the event loop. */
function drain(fd: number): Promise<Uint8Array> {
  return new Promise((resolve) => {
    const chunks: Uint8Array[] = [];
    const buffer = new ArrayBuffer(CHUNK);
    os.setReadHandler(fd, () => {
      const n = os.read(fd, buffer, 0, CHUNK);
      if (n > 0) {
        chunks.push(new Uint8Array(buffer.slice(0, n)));
        return;
      }
      os.setReadHandler(fd, null);
      os.close(fd);
      resolve(joinBytes(chunks));
    });
  });
}

/** Feeds `input` into a pipe as the child reads it, then closes it so the child sees EOF. */
function feed(fd: number, input: Uint8Array): void {
  const buffer = bufferOf(input);
  let done = 0;
  const finish = () => {
    os.setWriteHandler(fd, null);
    os.close(fd);
  };
  if (input.byteLength === 0) return finish();
  os.setWriteHandler(fd, () => {
    const n = os.write(fd, buffer, done, Math.min(PIPE_BUF, input.byteLength - done));
    // A child that exits without reading everything closes the pipe (EPIPE): stop feeding.
    if (n <= 0) return finish();
    done += n;
    if (done >= input.byteLength) finish();
  });
}

function makePipe(): [number, number] {
  const p = os.pipe();
  if (!p) throw new SysError("exec: cannot create a pipe");
  return p;
}

async function execProgram(argv: string[], options: ExecOptions = {}): Promise<ExecResult> {
  const program = argv[0];
  if (!program) throw new SysError("exec: empty argv");
  const environment = { ...std.getenviron(), ...(options.env ?? {}) };
  const file = findInPath(program, environment.PATH);
  if (!file) throw new SysError(`exec: ${program} not found in PATH`, program, ENOENT);

  if (options.inheritStdio) {
    const pid = os.exec(argv, { block: false, usePath: false, file, cwd: options.cwd, env: environment });
    if (pid < 0) fail(`exec ${program}`, program, pid);
    return { status: await waitChild(pid), stdout: new Uint8Array(0), stderr: new Uint8Array(0) };
  }

  const [outRead, outWrite] = makePipe();
  const [errRead, errWrite] = makePipe();
  let stdinFd: number;
  let inputWrite = -1;
  if (options.input) {
    [stdinFd, inputWrite] = makePipe();
  } else {
    stdinFd = check("exec: open /dev/null", "/dev/null", os.open("/dev/null", os.O_RDONLY));
  }
  const pid = os.exec(argv, {
    block: false,
    usePath: false,
    file,
    cwd: options.cwd,
    env: environment,
    stdin: stdinFd,
    stdout: outWrite,
    stderr: errWrite,
  });
  // The child holds its own copies; ours must close or the reads never see end of file.
  os.close(stdinFd);
  os.close(outWrite);
  os.close(errWrite);
  if (pid < 0) {
    os.close(outRead);
    os.close(errRead);
    if (inputWrite >= 0) os.close(inputWrite);
    fail(`exec ${program}`, program, pid);
  }
  if (options.input && inputWrite >= 0) feed(inputWrite, options.input);
  const [stdout, stderr] = await Promise.all([drain(outRead), drain(errRead)]);
  return { status: await waitChild(pid), stdout, stderr };
}

function openDevice(path: string, mode: "r" | "rw"): Device {
  const fd = check(`open ${path}`, path, os.open(path, mode === "r" ? os.O_RDONLY : os.O_RDWR));
  let open = true;
  const ensureOpen = () => {
    if (!open) throw new SysError(`${path} is closed`, path);
  };
  return {
    read(max: number): Uint8Array {
      ensureOpen();
      const buffer = new ArrayBuffer(max);
      const n = check(`read ${path}`, path, os.read(fd, buffer, 0, max));
      return new Uint8Array(buffer, 0, n);
    },
    write(data: Uint8Array): void {
      ensureOpen();
      writeAll(fd, data, `write ${path}`, path);
    },
    close(): void {
      if (!open) return;
      open = false;
      os.close(fd);
    },
  };
}

// Not among QuickJS's os constants; the same value on x86 and ARM Linux.
const O_NOCTTY = 0o400;

function openTerminal(path: string): Terminal {
  // PID 1 has no controlling terminal; without O_NOCTTY this one would become it.
  const fd = check(`open ${path}`, path, os.open(path, os.O_RDWR | O_NOCTTY));
  if (!os.isatty(fd)) {
    os.close(fd);
    throw new SysError(`${path} is not a terminal`, path);
  }
  const encoder = new TextEncoder();
  const handlers = new Set<KeyHandler>();
  const buffer = new ArrayBuffer(4096);
  let raw = false;
  let open = true;
  const onReadable = () => {
    const n = os.read(fd, buffer, 0, buffer.byteLength);
    // A hung-up terminal reads as end of file: stop listening instead of spinning.
    if (n <= 0) {
      os.setReadHandler(fd, null);
      return;
    }
    const bytes = new Uint8Array(buffer.slice(0, n));
    for (const handler of [...handlers]) handler(bytes);
  };
  return {
    write(text) {
      if (!open) throw new SysError(`${path} is closed`, path);
      writeAll(fd, encoder.encode(text), `write ${path}`, path);
    },
    setRaw(wanted) {
      if (!open || wanted === raw) return;
      if (!setTerminalMode(fd, wanted)) throw new SysError(`stty could not put ${path} in ${wanted ? "raw" : "cooked"} mode`, path);
      raw = wanted;
    },
    onKeys(handler) {
      if (!open) throw new SysError(`${path} is closed`, path);
      handlers.add(handler);
      if (handlers.size === 1) os.setReadHandler(fd, onReadable);
      return () => {
        handlers.delete(handler);
        if (handlers.size === 0 && open) os.setReadHandler(fd, null);
      };
    },
    close() {
      if (!open) return;
      handlers.clear();
      os.setReadHandler(fd, null);
      if (raw) setTerminalMode(fd, false);
      open = false;
      os.close(fd);
    },
  };
}

function makeConsole(): Console {
  return {
    size() {
      const size = os.isatty(1) ? os.ttyGetWinSize(1) : null;
      if (!size || !size[0] || !size[1]) return { columns: 80, rows: 24 };
      return { columns: size[0], rows: size[1] };
    },
    write(text: string) {
      std.out.puts(text);
      std.out.flush();
    },
    writeError(text: string) {
      std.err.puts(text);
      std.err.flush();
    },
    setRaw(raw: boolean) {
      if (raw) enterRawMode();
      else leaveRawMode();
    },
    onKeys(handler: KeyHandler) {
      return subscribeStdin((bytes) => {
        if (bytes) handler(bytes);
      });
    },
    isTerminal() {
      return os.isatty(0);
    },
  };
}

function forever(): Promise<never> {
  // A pending timer keeps the QuickJS loop (and so PID 1) alive while the kernel acts.
  return new Promise<never>(() => {
    const tick = () => void os.setTimeout(tick, 3_600_000);
    tick();
  });
}

export function createQuickJsSys(): Sys {
  const perf = (globalThis as { performance?: { now(): number } }).performance;
  const sys: Sys = {
    engine: "quickjs",
    hostPath: (path) => path,

    readFile(path) {
      const fd = check(`open ${path}`, path, os.open(path, os.O_RDONLY));
      try {
        return readFd(fd, `read ${path}`, path);
      } finally {
        os.close(fd);
      }
    },
    readText(path) {
      return new TextDecoder().decode(sys.readFile(path));
    },
    writeFile(path, data, mode = 0o644) {
      const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
      const fd = check(`create ${path}`, path, os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode));
      try {
        writeAll(fd, bytes, `write ${path}`, path);
      } finally {
        os.close(fd);
      }
    },
    appendFile(path, data) {
      const fd = check(`open ${path}`, path, os.open(path, os.O_WRONLY | os.O_APPEND));
      try {
        writeAll(fd, data, `write ${path}`, path);
      } finally {
        os.close(fd);
      }
    },
    rename(from, to) {
      check(`rename ${from} to ${to}`, from, os.rename(from, to));
    },
    remove(path) {
      check(`remove ${path}`, path, os.remove(path));
    },
    wipeFile(path) {
      const size = sys.stat(path)?.size ?? 0;
      // QuickJS's os has no fsync; the secrets live on tmpfs, where the pages written are the file's own.
      const fd = check(`open ${path}`, path, os.open(path, os.O_WRONLY));
      try {
        const zeros = new Uint8Array(Math.min(size, CHUNK));
        for (let done = 0; done < size; done += zeros.length) writeAll(fd, zeros.subarray(0, Math.min(zeros.length, size - done)), `wipe ${path}`, path);
      } finally {
        os.close(fd);
      }
      check(`remove ${path}`, path, os.remove(path));
    },
    mkdir(path, mode = 0o755) {
      const result = os.mkdir(path, mode);
      if (result === -EEXIST && sys.stat(path)?.kind === "dir") return;
      check(`mkdir ${path}`, path, result);
    },
    readdir(path) {
      const [names, err] = os.readdir(path);
      if (err) fail(`readdir ${path}`, path, -err);
      return names.filter((n) => n !== "." && n !== "..").sort();
    },
    stat(path) {
      const [st, err] = os.lstat(path);
      if (err === ENOENT || err === ENOTDIR) return null;
      if (err) fail(`stat ${path}`, path, -err);
      return { kind: kindOf(st.mode), size: st.size, mode: st.mode & 0o7777, mtimeMs: st.mtime };
    },
    readlink(path) {
      const [target, err] = os.readlink(path);
      if (err) fail(`readlink ${path}`, path, -err);
      return target;
    },
    symlink(target, path) {
      check(`symlink ${path}`, path, os.symlink(target, path));
    },
    sha256File(path) {
      const digest = sha256File(path);
      if (typeof digest === "number") fail(`hash ${path}`, path, digest);
      return digest;
    },

    exec: execProgram,
    openDevice,
    openTerminal,
    console: makeConsole(),

    now: () => Date.now(),
    async setClock(ms) {
      // busybox date takes "YYYY-MM-DD hh:mm:ss"; the RTC keeps UTC, as the kernel reads it at boot.
      const stamp = new Date(ms).toISOString().slice(0, 19).replace("T", " ");
      for (const argv of [["date", "-u", "-s", stamp], ["hwclock", "-u", "-w"]]) {
        const result = await execProgram(argv);
        if (result.status !== 0) {
          const why = new TextDecoder().decode(result.stderr).trim() || `exit status ${result.status}`;
          throw new SysError(`${argv[0]} could not set the clock to ${stamp} UTC: ${why}`);
        }
      }
    },
    monotonic: () => (perf ? perf.now() : Date.now()),
    sleep: (ms) => new Promise<void>((resolve) => void os.setTimeout(resolve, ms)),
    setTimer(ms, callback) {
      const timer = os.setTimeout(callback, ms);
      return () => os.clearTimeout(timer);
    },
    randomBytes: (count) => fillRandom(new Uint8Array(count)),
    env: (name) => std.getenv(name) ?? undefined,

    async mount(source, target, fstype, options) {
      const argv = ["mount", "-t", fstype, ...(options ? ["-o", options] : []), source, target];
      const result = await execProgram(argv);
      if (result.status !== 0) {
        const why = new TextDecoder().decode(result.stderr).trim() || `exit status ${result.status}`;
        throw new SysError(`mount ${source} on ${target} (${fstype}) failed: ${why}`, target);
      }
    },
    async poweroff() {
      const result = await execProgram(["poweroff", "-f"], { inheritStdio: true });
      if (result.status !== 0) throw new SysError(`poweroff failed with exit status ${result.status}`);
      return forever();
    },
    async reboot() {
      const result = await execProgram(["reboot", "-f"], { inheritStdio: true });
      if (result.status !== 0) throw new SysError(`reboot failed with exit status ${result.status}`);
      return forever();
    },
    onPowerRequest(handler) {
      os.signal(os.SIGTERM, () => handler("reboot"));
      os.signal(os.SIGUSR1, () => handler("poweroff"));
      os.signal(os.SIGUSR2, () => handler("poweroff"));
    },
    exit(status) {
      return std.exit(status);
    },
  };
  return sys;
}
