// Assembles a board's initramfs from the pinned Debian packages and the bootward binary:
// /init, busybox and its applet links, kexec and cryptsetup (and lvm, on boards that carry it)
// with their libraries, the board's kernel modules with a depmod index, /etc/config and
// /etc/modules. Everything in the archive comes from the inputs' bytes and fixed metadata,
// so two builds are byte-identical.

import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync, copyFileSync } from "node:fs";
import { dirname, join, posix, relative } from "node:path";
import { writeCpio, type CpioEntry } from "../lib/cpio.ts";
import { COMPRESSIONS, DEFAULT_COMPRESSION, type InitrdCompression } from "./compression.ts";
import { configText, getBoard, modulesText, type Board } from "./boards.ts";
import { EXECUTABLES, extractAll, kernelPackage, LVM_PACKAGE, readLock, type DebianLock } from "./debian.ts";
import { resolveLibraries } from "./elf.ts";
import { ensureTools, toolPath } from "./host-tools.ts";
import { buildDir } from "../build/paths.ts";

export class ImageError extends Error {
  override name = "ImageError";
}

/** Applets linked into /bin; the ones this busybox build lacks are skipped. */
const APPLETS = [
  "sh", "ash", "cttyhack", "mount", "umount", "modprobe", "insmod", "rmmod", "lsmod", "poweroff",
  "reboot", "halt", "sha256sum", "sha1sum", "mkdir", "cat", "ls", "dmesg", "hwclock", "setsid", "cp", "mv",
  "rm", "ln", "echo", "sleep", "sync", "grep", "sed", "cut", "head", "tail", "stty", "date",
  "vi", "less", "mdev", "switch_root", "chroot", "uname", "dd", "hexdump", "xxd", "ps",
  // the OEM reset's backup drive: re-read its new partition table, make its filesystems
  "blockdev", "mke2fs", "mkdosfs",
  // the disk key setup reads the crypttab out of gzip, xz and lzma OS initrds (zstd is decoded in JS)
  "gunzip", "unxz", "unlzma",
];

const EMPTY_DIRS: ReadonlyArray<readonly [string, number]> = [
  ["dev", 0o755], ["proc", 0o555], ["sys", 0o555], ["tmp", 0o1777], ["boot", 0o755],
  ["mnt", 0o755], ["run", 0o755], ["root", 0o700], ["etc", 0o755],
];

const LIB_DIR = "lib/x86_64-linux-gnu";

// No udev runs in the firmware: lvm scans the block devices itself and makes its own /dev
// nodes, waits for no udev event, and starts no dmeventd (the firmware only activates a
// volume group long enough to measure and boot). Its lock files go to tmpfs under /run.
const LVM_CONF = `devices {
	obtain_device_list_from_udev = 0
}
activation {
	udev_sync = 0
	udev_rules = 0
	monitoring = 0
}
global {
	locking_dir = "/run/lock/lvm"
}
`;
const INTERPRETER = "lib64/ld-linux-x86-64.so.2";

export interface KernelInfo {
  path: string;
  version: string;
}

/** The pinned Debian kernel (bzImage) and its release string, fetched and unpacked if needed. */
export async function kernelImage(lock: DebianLock = readLock()): Promise<KernelInfo> {
  const trees = extractAll(lock);
  const tree = trees.get(kernelPackage(lock).package)!;
  const path = join(tree, "boot", `vmlinuz-${lock.kernelRelease}`);
  if (!existsSync(path)) throw new ImageError(`The kernel package has no boot/vmlinuz-${lock.kernelRelease}; refresh the lock with: npx tsx initrd/debian.ts --refresh`);
  return { path, version: lock.kernelRelease };
}

function file(path: string, mode: number, data: Uint8Array): CpioEntry {
  return { type: "file", path, mode, data };
}

function busyboxEntries(tree: string): CpioEntry[] {
  const busybox = join(tree, "bin", "busybox");
  const available = new Set(execFileSync(busybox, ["--list"], { encoding: "utf8" }).split("\n"));
  const entries: CpioEntry[] = [file("bin/busybox", 0o755, readFileSync(busybox))];
  for (const applet of APPLETS) {
    if (available.has(applet)) entries.push({ type: "symlink", path: `bin/${applet}`, target: "busybox" });
  }
  // The kernel auto-loads modules (crc32c for ext4, xts for dm-crypt) by running /sbin/modprobe.
  entries.push({ type: "symlink", path: "sbin/modprobe", target: "../bin/busybox" });
  return entries;
}

function toolEntries(board: Board, lock: DebianLock, trees: Map<string, string>): CpioEntry[] {
  const entries: CpioEntry[] = [];
  const executables: string[] = [];
  for (const [pkg, files] of Object.entries(EXECUTABLES)) {
    if (pkg === LVM_PACKAGE && !board.lvm) continue;
    const tree = trees.get(pkg);
    if (tree === undefined) throw new ImageError(`The Debian lock lacks ${pkg}; refresh it with: npx tsx initrd/debian.ts --refresh`);
    for (const rel of files) {
      executables.push(join(tree, rel));
      entries.push(file(rel, 0o755, readFileSync(join(tree, rel))));
    }
  }
  const libTrees = lock.packages.filter((p) => p.role === "library").map((p) => trees.get(p.package)!);
  for (const lib of resolveLibraries(executables, libTrees)) {
    // Each library under its soname in the multiarch dir Debian's ld.so searches by default.
    const isLoader = posix.basename(INTERPRETER) === lib.soname;
    entries.push(file(`${LIB_DIR}/${lib.soname}`, isLoader ? 0o755 : 0o644, readFileSync(join(lib.tree, lib.file))));
  }
  entries.push({ type: "symlink", path: INTERPRETER, target: `/${LIB_DIR}/${posix.basename(INTERPRETER)}` });
  if (board.lvm) entries.push({ type: "dir", path: "etc/lvm", mode: 0o755 }, file("etc/lvm/lvm.conf", 0o644, new TextEncoder().encode(LVM_CONF)));
  return entries;
}

function listFiles(root: string, rel = ""): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(root, rel)).sort()) {
    const r = rel === "" ? name : `${rel}/${name}`;
    if (statSync(join(root, r)).isDirectory()) out.push(...listFiles(root, r));
    else out.push(r);
  }
  return out;
}

function moduleDepends(ko: string): string[] {
  const out = execFileSync(toolPath("modinfo"), ["-F", "depends", ko], { encoding: "utf8" }).trim();
  return out === "" ? [] : out.split(",");
}

const norm = (name: string) => name.replace(/-/g, "_");

/**
 * The board's modules (and only those: each one's dependencies must appear earlier in the
 * board's list, so /etc/modules is a valid load order) plus depmod's index for them.
 */
function moduleEntries(board: Board, kernelTree: string, release: string): CpioEntry[] {
  const modRoot = join(kernelTree, "lib", "modules", release);
  const byName = new Map<string, string>();
  for (const rel of listFiles(modRoot, "kernel")) {
    if (rel.endsWith(".ko")) byName.set(norm(posix.basename(rel, ".ko")), rel);
  }
  const builtin = new Set(
    readFileSync(join(modRoot, "modules.builtin"), "utf8").split("\n").filter(Boolean).map((l) => norm(posix.basename(l, ".ko"))),
  );
  const loaded = new Set<string>();
  for (const m of board.modules) {
    const rel = byName.get(norm(m));
    if (rel === undefined) throw new ImageError(`Board ${board.name} lists module ${m}, which kernel ${release} does not ship; fix the board's module list.`);
    for (const dep of moduleDepends(join(modRoot, rel))) {
      if (!loaded.has(norm(dep)) && !builtin.has(norm(dep))) {
        throw new ImageError(`Board ${board.name} loads ${m} before its dependency ${dep}; list ${dep} earlier in the board's modules.`);
      }
    }
    loaded.add(norm(m));
  }
  mkdirSync(buildDir, { recursive: true });
  const stage = mkdtempSync(join(buildDir, "modules-"));
  try {
    const stageMods = join(stage, "lib", "modules", release);
    for (const m of board.modules) {
      const rel = byName.get(norm(m))!;
      mkdirSync(dirname(join(stageMods, rel)), { recursive: true });
      copyFileSync(join(modRoot, rel), join(stageMods, rel));
    }
    for (const meta of ["modules.order", "modules.builtin", "modules.builtin.modinfo"]) copyFileSync(join(modRoot, meta), join(stageMods, meta));
    execFileSync(toolPath("depmod"), ["-b", stage, release], { stdio: ["ignore", "ignore", "pipe"] });
    return listFiles(stageMods).map((rel) => file(`lib/modules/${release}/${rel}`, 0o644, readFileSync(join(stageMods, rel))));
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

/** Every entry of the board's initramfs, with `init` as /init. */
export function initramfsEntries(boardOrName: string | Board, init: Uint8Array, lock: DebianLock = readLock()): CpioEntry[] {
  const board = typeof boardOrName === "string" ? getBoard(boardOrName) : boardOrName;
  const trees = extractAll(lock);
  const enc = new TextEncoder();
  return [
    file("init", 0o755, init),
    // Before /init mounts devtmpfs: the kernel opens /dev/console for init's fds 0–2, and
    // a child process started that early needs /dev/null for its stdin.
    { type: "chardev", path: "dev/console", mode: 0o600, major: 5, minor: 1 },
    { type: "chardev", path: "dev/null", mode: 0o666, major: 1, minor: 3 },
    ...EMPTY_DIRS.map(([path, mode]): CpioEntry => ({ type: "dir", path, mode })),
    ...busyboxEntries(trees.get("busybox-static")!),
    ...toolEntries(board, lock, trees),
    ...moduleEntries(board, trees.get(kernelPackage(lock).package)!, lock.kernelRelease),
    file("etc/config", 0o644, enc.encode(configText(board))),
    file("etc/modules", 0o644, enc.encode(modulesText(board))),
  ];
}

export interface InitramfsOptions {
  board: string;
  bootwardBinary: string;
  outFile: string;
  /** xz unless said otherwise: the image real boards carry in flash. */
  compression?: InitrdCompression;
}

export async function buildInitramfs(opts: InitramfsOptions): Promise<{ path: string; bytes: number }> {
  ensureTools(["xz", "depmod", "modinfo", "readelf", "dpkg-deb", "apt-get"]);
  let init: Uint8Array;
  try {
    init = readFileSync(opts.bootwardBinary);
  } catch {
    throw new ImageError(`The /init binary ${opts.bootwardBinary} cannot be read; build it first (npm run build).`);
  }
  const compressed = COMPRESSIONS[opts.compression ?? DEFAULT_COMPRESSION].compress(writeCpio(initramfsEntries(opts.board, init)));
  mkdirSync(dirname(opts.outFile), { recursive: true });
  const tmp = `${opts.outFile}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, compressed);
    renameSync(tmp, opts.outFile);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new ImageError(`Writing ${relative(process.cwd(), opts.outFile)} failed (${(e as Error).message}); check free space and permissions.`);
  }
  return { path: opts.outFile, bytes: compressed.length };
}
