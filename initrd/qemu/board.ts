// The QEMU board as a library: swtpm as the TPM, QEMU (TCG unless a trial boot proves KVM
// works) with the serial line as the console, and a handle to read the console, type on it,
// drive the QEMU monitor and stop everything cleanly. Used by the run command and by tests.

import { spawn, execFile, type ChildProcess } from "node:child_process";
import { StringDecoder } from "node:string_decoder";
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, type WriteStream } from "node:fs";
import { createConnection } from "node:net";
import { join } from "node:path";
import { ensureFlashImage, flashArgs } from "./flash.ts";
import { getBoard, type Board } from "../boards.ts";
import { ensureTools, toolPath } from "../host-tools.ts";

export class BoardRunError extends Error {
  override name = "BoardRunError";
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Children still running when Node exits are killed, so a crashed test leaves nothing behind. */
const live = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of live) child.kill("SIGKILL");
});

function track(child: ChildProcess): Promise<Exit> {
  live.add(child);
  return new Promise((resolve) => {
    child.once("exit", (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
    });
  });
}

function timeout<T>(p: Promise<T>, ms: number): Promise<T | "timeout"> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), ms)))]).finally(() => clearTimeout(timer));
}

function tail(text: string, lines = 30): string {
  return text.split("\n").slice(-lines).join("\n");
}

// ---- swtpm ----

export interface Swtpm {
  tpm: 1 | 2;
  /** The control socket QEMU's tpm emulator backend connects to. */
  ctrlSocket: string;
  pid: number;
  exited: Promise<Exit>;
  /** Stops swtpm cleanly (it normally exits with QEMU; otherwise swtpm_ioctl -s, then signals). */
  stop(): Promise<void>;
}

/** A TPM 1.2 leaves its vendor with an endorsement key (no owner); swtpm's blank state has none, and no owner can be taken without one. */
function manufactureTpm12(tpmDir: string): Promise<void> {
  if (existsSync(join(tpmDir, "tpm-00.permall"))) return Promise.resolve();
  return new Promise((resolve, reject) =>
    execFile(toolPath("swtpm_setup"), ["--tpm-state", tpmDir, "--createek"], { timeout: 120_000 }, (error, _out, stderr) =>
      error ? reject(new BoardRunError(`swtpm_setup could not create the TPM 1.2 endorsement key in ${tpmDir}: ${stderr.trim() || error.message}`)) : resolve()));
}

export async function startSwtpm(opts: { stateDir: string; tpm: 1 | 2 }): Promise<Swtpm> {
  ensureTools(["swtpm", "swtpm_ioctl", ...(opts.tpm === 1 ? ["swtpm_setup"] : [])]);
  const tpmDir = join(opts.stateDir, opts.tpm === 2 ? "tpm2" : "tpm1");
  mkdirSync(tpmDir, { recursive: true });
  if (opts.tpm === 1) await manufactureTpm12(tpmDir);
  const ctrlSocket = join(opts.stateDir, "swtpm.sock");
  const logFile = join(opts.stateDir, "swtpm.log");
  rmSync(ctrlSocket, { force: true });
  const args = ["socket", "--tpmstate", `dir=${tpmDir}`, "--ctrl", `type=unixio,path=${ctrlSocket}`, "--log", `file=${logFile},level=1`];
  if (opts.tpm === 2) args.push("--tpm2");
  // Its own process group: a Ctrl-C on the terminal reaches QEMU (which quits) and us (we
  // stop everything in order), never swtpm directly, so the TPM always gets a clean stop.
  const child = spawn(toolPath("swtpm"), args, { stdio: ["ignore", "ignore", "pipe"], detached: true });
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = track(child);
  let gone = false;
  void exited.then(() => (gone = true));
  for (let i = 0; i < 100 && !existsSync(ctrlSocket); i++) {
    if (gone) break;
    await sleep(50);
  }
  if (gone || !existsSync(ctrlSocket)) {
    child.kill("SIGKILL");
    await exited;
    throw new BoardRunError(`swtpm did not start (${stderr.trim() || "no message"}); check ${logFile} and that ${tpmDir} is writable.`);
  }
  const stop = async () => {
    if (gone) return;
    if ((await timeout(exited, 2000)) !== "timeout") return;
    // Still running: QEMU never connected or did not close. A clean shutdown avoids a
    // dictionary-attack count in the TPM state.
    await new Promise<void>((r) => execFile(toolPath("swtpm_ioctl"), ["--unix", ctrlSocket, "-s"], { timeout: 5000 }, () => r()));
    if ((await timeout(exited, 3000)) !== "timeout") return;
    child.kill("SIGTERM");
    if ((await timeout(exited, 3000)) !== "timeout") return;
    child.kill("SIGKILL");
    await exited;
  };
  return { tpm: opts.tpm, ctrlSocket, pid: child.pid!, exited, stop };
}

// ---- KVM ----

let kvmVerdict: boolean | undefined;

/**
 * KVM only when BOOTWARD_KVM=1 and a short trial boot of the kernel prints its first line:
 * /dev/kvm can exist and still not boot a stock kernel (nested virtualisation).
 */
export async function kvmUsable(kernel: string): Promise<boolean> {
  if (process.env.BOOTWARD_KVM !== "1") return false;
  if (kvmVerdict !== undefined) return kvmVerdict;
  if (!existsSync("/dev/kvm")) return (kvmVerdict = false);
  const child = spawn(
    toolPath("qemu-system-x86_64"),
    ["-accel", "kvm", "-cpu", "host", "-m", "256", "-display", "none", "-serial", "stdio", "-no-reboot",
      "-kernel", kernel, "-append", "console=ttyS0 panic=-1"],
    { stdio: ["ignore", "pipe", "ignore"] },
  );
  const exited = track(child);
  let out = "";
  const seen = new Promise<boolean>((resolve) => {
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      if (/Linux version/.test(out)) resolve(true);
    });
    void exited.then(() => resolve(false));
  });
  const verdict = await timeout(seen, 20000);
  child.kill("SIGKILL");
  await exited;
  kvmVerdict = verdict === true;
  return kvmVerdict;
}

// ---- QEMU ----

export interface QemuOptions {
  /** A board name ("qemu-tpm2", "qemu-tpm1") or definition. */
  board: string | Board;
  kernel: string;
  initramfs: string;
  /** Raw disk image attached as a virtio disk (/dev/vda in the guest). */
  disk?: string;
  /**
   * Raw image of the OS's own disk (the LUKS root disk of luks-root-disk.ts), attached as one
   * more virtio disk after the flash, with its own serial; the default board has none.
   */
  osDisk?: { path: string; serial: string };
  /** Raw image of a USB thumb drive plugged into the xHCI controller (/dev/sda in the guest). */
  usbDisk?: string;
  /** The ROM image (the board's flash); stateDir/flash.rom, made empty when absent, by default. */
  flash?: string;
  /** swtpm state, sockets and the console log live here; it survives between runs. */
  stateDir: string;
  /** Added to the board's kernel command line. */
  appendCmdline?: string;
  /** QEMU -display value; "none" by default (the VGA device is still there for tty1 and screendump). */
  display?: string;
  /** The console on this process's terminal (the run command) instead of captured for tests. */
  interactive?: boolean;
  /**
   * What a guest reboot does: "exit" ends QEMU (tests that want a reboot to end the run), or
   * "restart" boots the board again with the same swtpm, disks and flash, as a machine does.
   */
  onReboot?: "exit" | "restart";
  memoryMiB?: number;
  extraArgs?: string[];
}

export interface QemuBoard {
  stateDir: string;
  pid: number;
  swtpm: Swtpm;
  accel: "tcg" | "kvm";
  /** Milliseconds since QEMU was spawned, for timing boot stages. */
  elapsedMs(): number;
  /** Everything the serial console printed so far (empty in interactive mode). */
  output(): string;
  /**
   * Resolves with the first match of `re` after the previous waitFor's match (a cursor moves
   * on, so successive calls read the console in order). Rejects on timeout or if QEMU exits,
   * with the tail of the console in the message.
   */
  waitFor(re: RegExp, timeoutMs: number): Promise<RegExpExecArray>;
  /** Types on the serial console. */
  send(text: string): void;
  /** Runs a human-monitor command (e.g. "screendump /path/x.ppm") and returns its output. */
  monitor(command: string): Promise<string>;
  exited: Promise<Exit>;
  /** Ends QEMU (monitor quit, then signals) and swtpm; safe to call more than once. */
  stop(): Promise<void>;
}

function hmp(socket: string, command: string, timeoutMs = 10000): Promise<string> {
  return new Promise((resolve, reject) => {
    const conn = createConnection(socket);
    let buf = "";
    let sent = false;
    const timer = setTimeout(() => {
      conn.destroy();
      reject(new BoardRunError(`The QEMU monitor did not answer "${command}" within ${timeoutMs} ms; QEMU may be hung.`));
    }, timeoutMs);
    const done = (text: string) => {
      clearTimeout(timer);
      conn.destroy();
      resolve(text);
    };
    conn.on("data", (d: Buffer) => {
      buf += d.toString();
      if (!sent && buf.includes("(qemu) ")) {
        sent = true;
        buf = "";
        conn.write(command + "\n");
      } else if (sent && buf.includes("(qemu) ")) {
        // The monitor echoes the command line first; the answer is what comes after it.
        const lines = buf.replace(/\r/g, "").split("\n");
        done(lines.slice(1, -1).join("\n").replace(/\x1b\[[0-9;]*[A-Za-z]/g, ""));
      }
    });
    conn.on("close", () => (sent ? done(buf) : undefined));
    conn.on("error", (e) => {
      clearTimeout(timer);
      reject(new BoardRunError(`Cannot reach the QEMU monitor at ${socket} (${e.message}); is QEMU still running?`));
    });
  });
}

export async function startQemu(opts: QemuOptions): Promise<QemuBoard> {
  ensureTools(["qemu-system-x86_64", "swtpm", "swtpm_ioctl"]);
  const board = typeof opts.board === "string" ? getBoard(opts.board) : opts.board;
  for (const [what, path] of [["kernel", opts.kernel], ["initramfs", opts.initramfs], ["disk", opts.disk], ["OS disk", opts.osDisk?.path]] as const) {
    if (path !== undefined && !existsSync(path)) throw new BoardRunError(`The ${what} ${path} does not exist; build it first.`);
  }
  mkdirSync(opts.stateDir, { recursive: true });
  const monitorSocket = join(opts.stateDir, "monitor.sock");
  rmSync(monitorSocket, { force: true });
  const swtpm = await startSwtpm({ stateDir: opts.stateDir, tpm: board.tpm });
  const kvm = await kvmUsable(opts.kernel);
  const restart = opts.onReboot === "restart";
  // The board's panic=-1 reboots at once on a panic, which QEMU turns into its exit; a board
  // that restarts would loop instead, so there a panic stays on the screen (panic=0).
  const cmdline = [board.cmdline, restart ? "panic=0" : "", opts.appendCmdline ?? ""].filter((p) => p !== "").join(" ");
  const args = [
    "-name", `bootward-${board.name}`,
    "-machine", "pc",
    ...(kvm ? ["-accel", "kvm", "-cpu", "host"] : ["-accel", "tcg", "-cpu", "max"]),
    "-smp", "1", "-m", String(opts.memoryMiB ?? 1024),
    "-kernel", opts.kernel, "-initrd", opts.initramfs, "-append", cmdline,
    "-chardev", `socket,id=chrtpm,path=${swtpm.ctrlSocket}`,
    "-tpmdev", "emulator,id=tpm0,chardev=chrtpm",
    "-device", "tpm-tis,tpmdev=tpm0",
    "-vga", "std",
    "-device", "qemu-xhci,id=xhci", "-device", "usb-kbd,bus=xhci.0",
    "-display", opts.display ?? "none",
    // Interactive: console and monitor share the terminal (Ctrl-A c switches, Ctrl-A x quits),
    // and signal=on keeps Ctrl-C a SIGINT that ends the run instead of reaching the guest.
    ...(opts.interactive
      ? ["-chardev", "stdio,id=console,mux=on,signal=on", "-serial", "chardev:console", "-mon", "chardev=console,mode=readline"]
      : ["-serial", "stdio"]),
    "-monitor", `unix:${monitorSocket},server=on,wait=off`,
    ...(restart ? [] : ["-no-reboot"]),
    // The disks as explicit devices, in this order (QEMU creates if=virtio drives after every
    // -device): the demo disk stays /dev/vda; bootward finds the flash by its serial; the OS
    // disk, when there is one, comes last (/dev/vdc with a demo disk), so the others keep their names.
    ...(opts.disk !== undefined ? ["-drive", `file=${opts.disk},format=raw,if=none,id=disk`, "-device", "virtio-blk-pci,drive=disk"] : []),
    ...flashArgs(ensureFlashImage(opts.flash ?? join(opts.stateDir, "flash.rom"))),
    ...(opts.osDisk !== undefined
      ? ["-drive", `file=${opts.osDisk.path},format=raw,if=none,id=osdisk`, "-device", `virtio-blk-pci,drive=osdisk,serial=${opts.osDisk.serial}`]
      : []),
    ...(opts.usbDisk !== undefined ? ["-drive", `file=${opts.usbDisk},format=raw,if=none,id=usbdisk`, "-device", "usb-storage,bus=xhci.0,drive=usbdisk"] : []),
    ...(opts.extraArgs ?? []),
  ];
  const started = Date.now();
  const child = spawn(toolPath("qemu-system-x86_64"), args, { stdio: opts.interactive ? "inherit" : ["pipe", "pipe", "pipe"] });
  const exited = track(child);
  let running = true;
  void exited.then(() => (running = false));

  let out = "";
  let cursor = 0;
  let stderr = "";
  const waiters = new Set<() => void>();
  let log: WriteStream | undefined;
  if (!opts.interactive) {
    log = createWriteStream(join(opts.stateDir, "console.log"));
    // A character of several bytes ("—" in a title) can arrive split across two reads.
    const utf8 = new StringDecoder("utf8");
    child.stdout!.on("data", (d: Buffer) => {
      out += utf8.write(d);
      log!.write(d);
      for (const w of [...waiters]) w();
    });
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    void exited.then(() => {
      log!.end();
      for (const w of [...waiters]) w();
    });
  }

  const waitFor = (re: RegExp, timeoutMs: number) =>
    new Promise<RegExpExecArray>((resolve, reject) => {
      const flags = re.flags.replace("g", "");
      const check = () => {
        const m = new RegExp(re.source, flags).exec(out.slice(cursor));
        if (m !== null) {
          finish();
          const at = cursor + m.index;
          cursor = at + m[0].length;
          m.index = at;
          resolve(m);
        } else if (!running) {
          finish();
          reject(new BoardRunError(`QEMU exited before the console showed ${re}${stderr ? ` (QEMU said: ${stderr.trim()})` : ""}; console tail:\n${tail(out)}`));
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new BoardRunError(`The console did not show ${re} within ${timeoutMs} ms; console tail:\n${tail(out)}`));
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      if (running) {
        try {
          await hmp(monitorSocket, "quit", 3000);
        } catch {
          // the monitor is gone or hung; signals below end QEMU
        }
        if ((await timeout(exited, 5000)) === "timeout") {
          child.kill("SIGTERM");
          if ((await timeout(exited, 5000)) === "timeout") child.kill("SIGKILL");
        }
        await exited;
      }
      await swtpm.stop();
      rmSync(monitorSocket, { force: true });
      rmSync(swtpm.ctrlSocket, { force: true });
    })());

  if (child.pid === undefined) {
    await swtpm.stop();
    throw new BoardRunError("QEMU did not start; check that qemu-system-x86_64 runs (apt-get install qemu-system-x86).");
  }
  // QEMU that fails at once (bad argument, missing file) must not look like a slow boot.
  if ((await timeout(exited, 300)) !== "timeout") {
    await stop();
    throw new BoardRunError(`QEMU stopped at once: ${stderr.trim() || "no message"}`);
  }
  return {
    stateDir: opts.stateDir,
    pid: child.pid,
    swtpm,
    accel: kvm ? "kvm" : "tcg",
    elapsedMs: () => Date.now() - started,
    output: () => out,
    waitFor,
    send: (text: string) => {
      if (opts.interactive || !running) throw new BoardRunError("The console is not writable: QEMU is interactive or has exited.");
      child.stdin!.write(text);
    },
    monitor: (command: string) => hmp(monitorSocket, command),
    exited,
    stop,
  };
}

/** Whether a process with this pid exists (a zombie of ours counts as gone once reaped). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, "utf8"));
  } catch {
    return false;
  }
}
