// Runs a bootward bundle in QuickJS compiled to WebAssembly (quickjs-emscripten), with
// `std` and `os` look-alike modules backed by the host: read-only files, /dev/urandom,
// timers, captured stdout/stderr, scriptArgs and a scripted stdin. Enough for the selftest;
// anything that would change the host (writes, exec, mount) answers with an errno, except
// the devices a run names, which the guest may open read-write (a pty standing in for a TPM).
import { type Stats, closeSync, constants, lstatSync, openSync, readSync, readdirSync, readFileSync, readlinkSync, writeSync } from "node:fs";
import { createHash, createPublicKey, randomFillSync, verify as verifySignature } from "node:crypto";
import { getSystemErrorName } from "node:util";
import { newQuickJSWASMModule, shouldInterruptAfterDeadline, type QuickJSContext, type QuickJSHandle } from "quickjs-emscripten";

const errno = (code: string): number =>
  (({ ENOENT: 2, EBADF: 9, EACCES: 13, EROFS: 30, ENOSYS: 38, ENOTDIR: 20, EISDIR: 21, EINVAL: 22 }) as Record<string, number>)[code] ?? 5;

export interface WasmRunOptions {
  /** The bundled ESM source (what qjsc would compile). */
  source: string;
  /** scriptArgs, starting with the program name. */
  args: string[];
  env?: Record<string, string>;
  /** Chunks delivered on fd 0, one per timer tick, once a read handler is installed. */
  stdin?: Uint8Array[];
  /** Hard stop for a runaway script. */
  timeoutMs?: number;
  /**
   * Paths the guest may open read-write, as real device files: reads and writes block as
   * they do on a character device, so a TPM command's response is there when read returns.
   */
  devices?: string[];
}

export interface WasmRunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

const STD_MODULE = `
const h = globalThis.__bootwardHost;
function makeFile(fd) {
  return {
    read(buf, pos, len) { const r = h.read(fd, len); if (typeof r === "number") return 0; new Uint8Array(buf, pos, r.byteLength).set(new Uint8Array(r)); return r.byteLength; },
    write(buf, pos, len) { return h.write(fd, buf.slice(pos, pos + len)); },
    puts(s) { h.writeString(fd, String(s)); },
    flush() {},
    close() { return h.close(fd); },
    eof() { return false; },
    error() { return false; },
  };
}
export const out = makeFile(1);
export const err = makeFile(2);
const stdinFile = makeFile(0);
export { stdinFile as in };
export function open(path, mode, errorObj) {
  const fd = h.open(String(path), /[wa+]/.test(mode) ? 1 : 0);
  if (fd < 0) { if (errorObj) errorObj.errno = -fd; return null; }
  return makeFile(fd);
}
export function exit(code) { h.exit(code | 0); throw new Error("__bootward_exit__"); }
export function getenv(name) { return h.getenv(String(name)); }
export function getenviron() { return h.environ(); }
export function strerror(e) { return h.strerror(e); }
export function loadFile() { return null; }
export const SEEK_SET = 0;
export const SEEK_END = 2;
`;

const OS_MODULE = `
const h = globalThis.__bootwardHost;
export const O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_CREAT = 64, O_EXCL = 128, O_TRUNC = 512, O_APPEND = 1024;
export const S_IFMT = 0o170000, S_IFREG = 0o100000, S_IFDIR = 0o040000, S_IFLNK = 0o120000;
export const WNOHANG = 1, SIGINT = 2, SIGTERM = 15;
export function open(path, flags) { return h.open(String(path), flags & 3); }
export function close(fd) { return h.close(fd); }
export function read(fd, buf, off, len) { const r = h.read(fd, len); if (typeof r === "number") return r; new Uint8Array(buf, off, r.byteLength).set(new Uint8Array(r)); return r.byteLength; }
export function write(fd, buf, off, len) { return h.write(fd, buf.slice(off, off + len)); }
export function isatty() { return false; }
export function ttyGetWinSize() { return null; }
export function ttySetRaw() {}
export function lstat(path) { const r = h.lstat(String(path)); return typeof r === "number" ? [null, r] : [r, 0]; }
export function readdir(path) { const r = h.readdir(String(path)); return typeof r === "number" ? [[], r] : [r, 0]; }
export function readlink(path) { const r = h.readlink(String(path)); return typeof r === "number" ? ["", r] : [r, 0]; }
export function getcwd() { return [h.cwd(), 0]; }
export function realpath(p) { return [String(p), 0]; }
export function remove() { return -30; }
export function rename() { return -30; }
export function mkdir() { return -30; }
export function symlink() { return -30; }
export function exec() { return -38; }
export function pipe() { return null; }
export function waitpid() { return [-1, 0]; }
export function kill() { return -38; }
export function signal() {}
export function setReadHandler(fd, fn) { h.setReadHandler(fd, fn); }
export function setWriteHandler() {}
export function setTimeout(fn, ms) { return h.setTimeout(fn, ms); }
export function clearTimeout(id) { h.clearTimeout(id); }
export function sleep() {}
`;

// The harness's stand-in for the module compiled into the binary (runtime/host/quickjs/native.c),
// over node:crypto: the engine test proves the bundle's wiring, the native tests the C code.
const NATIVE_MODULE = `
const h = globalThis.__bootwardHost;
const ab = (d) => d instanceof ArrayBuffer ? d : d.buffer.slice(d.byteOffset, d.byteOffset + d.byteLength);
export function sha256(d) { return h.digest("sha256", ab(d)); }
export function sha512(d) { return h.digest("sha512", ab(d)); }
export function sha256File(path) { return h.sha256File(String(path)); }
export function ed25519Verify(p, m, s) { return h.ed25519Verify(ab(p), ab(m), ab(s)); }
export function rsaPublic(n, e, s) { return h.rsaPublic(ab(n), ab(e), ab(s)); }
`;

type OpenFile = { data: Uint8Array; pos: number } | { urandom: true } | { out: 1 | 2 } | { device: number };

function statOf(path: string): Stats | number {
  try {
    return lstatSync(path);
  } catch (e) {
    return errno((e as NodeJS.ErrnoException).code ?? "EIO");
  }
}

export async function runBundleInWasm(opts: WasmRunOptions): Promise<WasmRunResult> {
  // A module per run: a program that calls std.exit leaves live objects behind, as a real
  // process would, so the runtime is abandoned with its module instead of freed.
  const QuickJS = await newQuickJSWASMModule();
  const runtime = QuickJS.newRuntime();
  runtime.setMemoryLimit(256 * 1024 * 1024);
  runtime.setMaxStackSize(4 * 1024 * 1024);
  runtime.setInterruptHandler(shouldInterruptAfterDeadline(Date.now() + (opts.timeoutMs ?? 60_000)));
  runtime.setModuleLoader((name) => {
    if (name === "std") return STD_MODULE;
    if (name === "os") return OS_MODULE;
    if (name === "bootward:native") return NATIVE_MODULE;
    throw new Error(`the wasm harness has no module "${name}"`);
  });
  const vm: QuickJSContext = runtime.newContext();

  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  const files = new Map<number, OpenFile>([[1, { out: 1 }], [2, { out: 2 }]]);
  let nextFd = 3;
  let exitCode: number | undefined;
  let nextTimer = 1;
  const timers = new Map<number, { handle: QuickJSHandle; timeout: NodeJS.Timeout }>();
  let readHandler = null as QuickJSHandle | null;
  const stdinChunks = [...(opts.stdin ?? [])];
  const uncaught: string[] = [];
  let finish: (() => void) | null = null;

  const emit = (fd: number, bytes: Uint8Array) => (fd === 2 ? stderr : stdout).push(Buffer.from(bytes));
  const devices = new Set(opts.devices ?? []);
  const hostErrno = (e: unknown) => -errno((e as NodeJS.ErrnoException).code ?? "EIO");

  const host = vm.newObject();
  const fn = (name: string, impl: (...args: QuickJSHandle[]) => QuickJSHandle | void) => {
    const f = vm.newFunction(name, impl);
    vm.setProp(host, name, f);
    f.dispose();
  };
  fn("open", (pathH, writeH) => {
    const path = vm.getString(pathH);
    if (devices.has(path)) {
      try {
        // O_NOCTTY: a pty must not become the test runner's controlling terminal.
        files.set(nextFd, { device: openSync(path, constants.O_RDWR | constants.O_NOCTTY) });
        return vm.newNumber(nextFd++);
      } catch (e) {
        return vm.newNumber(hostErrno(e));
      }
    }
    if (vm.getNumber(writeH) !== 0) return vm.newNumber(-errno("EROFS"));
    if (path === "/dev/urandom") {
      files.set(nextFd, { urandom: true });
      return vm.newNumber(nextFd++);
    }
    if (path === "/dev/null") {
      files.set(nextFd, { data: new Uint8Array(0), pos: 0 });
      return vm.newNumber(nextFd++);
    }
    try {
      files.set(nextFd, { data: readFileSync(path), pos: 0 });
      return vm.newNumber(nextFd++);
    } catch (e) {
      return vm.newNumber(-errno((e as NodeJS.ErrnoException).code ?? "EIO"));
    }
  });
  fn("read", (fdH, lenH) => {
    const file = files.get(vm.getNumber(fdH));
    const len = vm.getNumber(lenH);
    if (!file || "out" in file) return vm.newNumber(-errno("EBADF"));
    if ("urandom" in file) return vm.newArrayBuffer(randomFillSync(new Uint8Array(len)).buffer);
    if ("device" in file) {
      const buffer = new Uint8Array(len);
      try {
        return vm.newArrayBuffer(buffer.slice(0, readSync(file.device, buffer, 0, len, null)).buffer);
      } catch (e) {
        return vm.newNumber(hostErrno(e));
      }
    }
    // A copy, so `.buffer` is exactly the chunk (Buffer.slice would share the whole pool).
    const chunk = new Uint8Array(file.data.subarray(file.pos, file.pos + len));
    file.pos += chunk.length;
    return vm.newArrayBuffer(chunk.buffer);
  });
  fn("write", (fdH, bufH) => {
    const fd = vm.getNumber(fdH);
    const lifetime = vm.getArrayBuffer(bufH);
    const bytes = Uint8Array.from(lifetime.value);
    lifetime.dispose();
    const file = files.get(fd);
    if (file && "device" in file) {
      try {
        return vm.newNumber(writeSync(file.device, bytes, 0, bytes.length, null));
      } catch (e) {
        return vm.newNumber(hostErrno(e));
      }
    }
    if (fd !== 1 && fd !== 2) return vm.newNumber(-errno("EBADF"));
    emit(fd, bytes);
    return vm.newNumber(bytes.length);
  });
  fn("writeString", (fdH, textH) => {
    emit(vm.getNumber(fdH), Buffer.from(vm.getString(textH)));
  });
  fn("close", (fdH) => {
    const fd = vm.getNumber(fdH);
    const file = files.get(fd);
    files.delete(fd);
    if (file && "device" in file) closeSync(file.device);
    return vm.newNumber(0);
  });
  fn("lstat", (pathH) => {
    const st = statOf(vm.getString(pathH));
    if (typeof st === "number") return vm.newNumber(st);
    const obj = vm.newObject();
    for (const [k, v] of [["mode", st.mode], ["size", st.size], ["mtime", st.mtimeMs]] as const) {
      const n = vm.newNumber(v);
      vm.setProp(obj, k, n);
      n.dispose();
    }
    return obj;
  });
  fn("readdir", (pathH) => {
    try {
      const names = [".", "..", ...readdirSync(vm.getString(pathH))];
      const arr = vm.newArray();
      names.forEach((name, i) => {
        const s = vm.newString(name);
        vm.setProp(arr, i, s);
        s.dispose();
      });
      return arr;
    } catch (e) {
      return vm.newNumber(errno((e as NodeJS.ErrnoException).code ?? "EIO"));
    }
  });
  fn("readlink", (pathH) => {
    try {
      return vm.newString(readlinkSync(vm.getString(pathH)));
    } catch (e) {
      return vm.newNumber(errno((e as NodeJS.ErrnoException).code ?? "EIO"));
    }
  });
  const bytesOf = (handle: QuickJSHandle) => {
    const lifetime = vm.getArrayBuffer(handle);
    const bytes = Buffer.from(lifetime.value);
    lifetime.dispose();
    return bytes;
  };
  const newBytes = (bytes: Uint8Array) => vm.newArrayBuffer(Uint8Array.from(bytes).buffer);
  fn("digest", (nameH, dataH) => newBytes(createHash(vm.getString(nameH)).update(bytesOf(dataH)).digest()));
  fn("sha256File", (pathH) => {
    try {
      return newBytes(createHash("sha256").update(readFileSync(vm.getString(pathH))).digest());
    } catch (e) {
      return vm.newNumber(hostErrno(e));
    }
  });
  fn("ed25519Verify", (pH, mH, sH) => {
    const [p, m, sig] = [bytesOf(pH), bytesOf(mH), bytesOf(sH)];
    if (p.length !== 32 || sig.length !== 64) return vm.false;
    try {
      const key = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: p.toString("base64url") }, format: "jwk" });
      return verifySignature(null, m, key, sig) ? vm.true : vm.false;
    } catch {
      return vm.false;
    }
  });
  fn("rsaPublic", (nH, eH, sH) => {
    const big = (b: Buffer) => BigInt(`0x0${b.toString("hex")}`);
    const [n, e, sig] = [big(bytesOf(nH)), big(bytesOf(eH)), big(bytesOf(sH))];
    if (n % 2n === 0n || e === 0n || sig >= n) return vm.null;
    let result = 1n;
    for (let base = sig, x = e; x > 0n; x >>= 1n, base = (base * base) % n) if (x & 1n) result = (result * base) % n;
    const length = Math.ceil(n.toString(16).length / 2);
    return newBytes(Buffer.from(result.toString(16).padStart(length * 2, "0"), "hex"));
  });
  fn("cwd", () => vm.newString(process.cwd()));
  fn("getenv", (nameH) => {
    const value = opts.env?.[vm.getString(nameH)];
    return value === undefined ? vm.undefined : vm.newString(value);
  });
  fn("environ", () => {
    const obj = vm.newObject();
    for (const [k, v] of Object.entries(opts.env ?? {})) {
      const s = vm.newString(v);
      vm.setProp(obj, k, s);
      s.dispose();
    }
    return obj;
  });
  fn("strerror", (eH) => vm.newString(getSystemErrorName(-vm.getNumber(eH))));
  fn("exit", (codeH) => {
    exitCode = vm.getNumber(codeH);
    for (const t of timers.values()) {
      clearTimeout(t.timeout);
      t.handle.dispose();
    }
    timers.clear();
    queueMicrotask(() => finish?.());
  });
  fn("setTimeout", (fnH, msH) => {
    const id = nextTimer++;
    const handle = fnH.dup();
    const timeout = setTimeout(() => {
      timers.delete(id);
      if (exitCode === undefined) call(handle);
      handle.dispose();
      step();
    }, Math.max(0, vm.getNumber(msH)));
    timers.set(id, { handle, timeout });
    return vm.newNumber(id);
  });
  fn("clearTimeout", (idH) => {
    const id = vm.getNumber(idH);
    const t = timers.get(id);
    if (!t) return;
    clearTimeout(t.timeout);
    t.handle.dispose();
    timers.delete(id);
  });
  fn("setReadHandler", (fdH, fnH) => {
    if (vm.getNumber(fdH) !== 0) return;
    readHandler?.dispose();
    readHandler = vm.typeof(fnH) === "function" ? fnH.dup() : null;
    if (readHandler) feedStdin();
  });
  vm.setProp(vm.global, "__bootwardHost", host);
  host.dispose();
  const argsHandle = vm.newArray();
  opts.args.forEach((a, i) => {
    const s = vm.newString(a);
    vm.setProp(argsHandle, i, s);
    s.dispose();
  });
  vm.setProp(vm.global, "scriptArgs", argsHandle);
  argsHandle.dispose();
  // What QuickJS's js_std_add_helpers gives every native program: console.log and print.
  const helpers = vm.evalCode(
    `globalThis.print = (...a) => __bootwardHost.writeString(1, a.join(" ") + "\\n");
     globalThis.console = { log: globalThis.print };`,
    "helpers.js",
  );
  vm.unwrapResult(helpers).dispose();

  function describe(errorHandle: QuickJSHandle): string {
    const e = vm.dump(errorHandle) as { message?: string; stack?: string } | string;
    errorHandle.dispose();
    if (typeof e === "object" && e && e.message === "__bootward_exit__") return "";
    return typeof e === "object" && e ? `${e.message}\n${e.stack ?? ""}` : String(e);
  }

  function call(handle: QuickJSHandle): void {
    const result = vm.callFunction(handle, vm.undefined);
    if (result.error) {
      const why = describe(result.error);
      if (why) uncaught.push(why);
    } else result.value.dispose();
  }

  function feedStdin(): void {
    setTimeout(() => {
      if (!readHandler || exitCode !== undefined) return;
      const chunk = stdinChunks.shift();
      if (!chunk) return;
      files.set(0, { data: chunk, pos: 0 });
      call(readHandler);
      step();
      feedStdin();
    }, 5);
  }

  function pump(): void {
    for (;;) {
      const jobs = runtime.executePendingJobs();
      if (jobs.error) {
        const why = describe(jobs.error);
        if (why) uncaught.push(why);
        continue;
      }
      if (jobs.value === 0) return;
    }
  }

  function step(): void {
    if (exitCode === undefined) pump();
    if (exitCode !== undefined || (timers.size === 0 && !runtime.hasPendingJob() && !(readHandler && stdinChunks.length))) {
      finish?.();
    }
  }

  const done = new Promise<void>((resolve) => {
    finish = () => {
      finish = null;
      resolve();
    };
  });
  const evaluated = vm.evalCode(opts.source, "bootward.mjs", { type: "module" });
  if (evaluated.error) {
    const why = describe(evaluated.error);
    if (why) uncaught.push(why);
  } else evaluated.value.dispose();
  step();
  await done;

  for (const t of timers.values()) {
    clearTimeout(t.timeout);
    t.handle.dispose();
  }
  readHandler?.dispose();
  // What the kernel does at a process's exit: a device left open is closed (socat notices).
  for (const file of files.values()) if ("device" in file) closeSync(file.device);
  if (exitCode === undefined) {
    vm.dispose();
    runtime.dispose();
  }
  const err = Buffer.concat(stderr).toString("utf8") + uncaught.map((u) => `uncaught: ${u}\n`).join("");
  return { exitCode: exitCode ?? (uncaught.length ? 1 : 0), stdout: Buffer.concat(stdout).toString("utf8"), stderr: err };
}
