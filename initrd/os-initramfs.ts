// A real Debian 12 OS initramfs for the demo kernel: the one the disk-unlock-key feature appends
// its key cpio to. It is made by Debian's own mkinitramfs (initramfs-tools) with the
// cryptsetup-initramfs hooks, never by hand, so that what the tests prove holds for the
// initramfs a Debian machine really boots.
//
// Hermetic: the pinned .debs of initramfs-tools, cryptsetup-initramfs and everything they need
// (their Depends closure as apt resolves it on an empty system, plus the Essential tools
// mkinitramfs runs without declaring them) are unpacked with dpkg-deb -x into one build root;
// the pinned kernel's modules and config go in beside them, depmod and mkinitramfs run inside
// that root under chroot. Nothing is installed on the host and the host's /lib/modules is never
// touched. chroot needs root, as CI and the board tests have.
//
// The configuration is what an installed Debian with an encrypted root would have, with two
// choices of ours: MODULES=list (the listed modules plus what the hooks add, instead of "most",
// which takes two minutes and 27 MB under the same hooks) and an /etc/crypttab whose lines carry
// the `initramfs` option, because in the build root no mounted root device tells the cryptroot
// hook which mapping the root needs.
//
// The versions are pinned in initrd/os-initramfs.lock.json. When Debian's archive has moved on,
// refresh that lock (and initrd/debian.lock.json, whose kernel this initramfs is built for) with:
//
//     npx tsx initrd/os-initramfs.ts --refresh
//
// Without --refresh the command builds an image and prints where it is:
//
//     npx tsx initrd/os-initramfs.ts [--crypttab "<crypttab line>"]... [--lvm]

import { execFileSync } from "node:child_process";
import {
  copyFileSync, existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { archiveCandidate, extractDeb, fetchDeb, kernelPackage, readLock, type PinnedDeb } from "./debian.ts";
import { ensureTools } from "./host-tools.ts";
import { buildKey, OutputRecords, sourceParts } from "../build/outputs.ts";
import { buildDir, repoRoot } from "../build/paths.ts";

export class OsInitramfsError extends Error {
  override name = "OsInitramfsError";
}

export const OS_INITRAMFS_REFRESH_COMMAND = "npx tsx initrd/os-initramfs.ts --refresh";
export const OS_INITRAMFS_LOCK_PATH = join(repoRoot, "initrd", "os-initramfs.lock.json");

/**
 * What the build root is made of: the packages an encrypted-root Debian installs for its
 * initramfs, and the Essential ones that mkinitramfs and its hooks run without any package
 * declaring them (getopt from util-linux, ldd from libc-bin — a bash script —, awk, cpio,
 * zstd for Debian 12's default COMPRESS=zstd). apt adds every library they depend on.
 */
export const ROOT_PACKAGES: readonly string[] = [
  "initramfs-tools", "cryptsetup-initramfs", "cryptsetup", "busybox", "klibc-utils", "kmod", "udev",
  "dash", "bash", "coreutils", "util-linux", "libc-bin", "sed", "grep", "findutils", "mawk", "diffutils", "cpio", "gzip", "zstd",
];

/** Added for a root on LVM inside LUKS (Debian's encrypted-LVM layout): its hook brings lvm and the udev rules that activate the volume group. */
export const LVM_PACKAGES: readonly string[] = ["lvm2"];

export interface OsInitramfsLock {
  suite: string;
  /** The kernel release the image is built for: initrd/debian.lock.json's, checked at each build. */
  kernelRelease: string;
  roots: string[];
  packages: PinnedDeb[];
  /** What LVM_PACKAGES add to `packages` (their closure less what is there already). */
  lvmPackages: PinnedDeb[];
}

export function readOsInitramfsLock(): OsInitramfsLock {
  let text: string;
  try {
    text = readFileSync(OS_INITRAMFS_LOCK_PATH, "utf8");
  } catch {
    throw new OsInitramfsError(`The OS initramfs lock ${OS_INITRAMFS_LOCK_PATH} is missing; create it with: ${OS_INITRAMFS_REFRESH_COMMAND}`);
  }
  const lock = JSON.parse(text) as OsInitramfsLock;
  if (!Array.isArray(lock.packages) || !Array.isArray(lock.lvmPackages) || typeof lock.kernelRelease !== "string" || !Array.isArray(lock.roots)) {
    throw new OsInitramfsError(`The OS initramfs lock ${OS_INITRAMFS_LOCK_PATH} is malformed; regenerate it with: ${OS_INITRAMFS_REFRESH_COMMAND}`);
  }
  return lock;
}

// ---- refreshing the lock ----

/**
 * The packages `apt-get install --no-install-recommends` would install on a system that has
 * none: apt's own answer to "what does this need", read from a simulation against an empty
 * dpkg status, so nothing of the host's installed set leaks into the closure.
 */
function aptClosure(roots: readonly string[]): Array<{ name: string; version: string }> {
  const work = mkdtempSync(join(buildDir, "apt-status-"));
  try {
    const status = join(work, "status");
    writeFileSync(status, "");
    const out = execFileSync(
      "apt-get",
      ["-s", "-q", "install", "--no-install-recommends", "-o", `Dir::State::status=${status}`, ...roots],
      { encoding: "utf8", env: { ...process.env, LC_ALL: "C" }, stdio: ["ignore", "pipe", "pipe"] },
    );
    return [...out.matchAll(/^Inst (\S+) \((\S+) /gm)].map((m) => ({ name: m[1]!, version: m[2]! })).sort((a, b) => (a.name < b.name ? -1 : 1));
  } catch (e) {
    const stderr = String((e as { stderr?: string }).stderr ?? "").trim();
    throw new OsInitramfsError(`apt-get could not resolve ${roots.join(" ")} (${stderr || "no message"}); run "apt-get update" and retry the refresh.`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The files (not directories) a .deb ships, from GNU tar's listing of its data archive. */
function debFiles(debFile: string): string[] {
  const tar = execFileSync("dpkg-deb", ["--fsys-tarfile", debFile], { maxBuffer: 256 * 1024 * 1024 });
  const listing = execFileSync("tar", ["-t"], { input: tar, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  return listing.split("\n").filter((l) => l !== "" && !l.endsWith("/")).map((l) => l.replace(/^\.\//, ""));
}

export function refreshOsInitramfsLock(): OsInitramfsLock {
  ensureTools(["apt-get", "apt-cache", "dpkg-deb"]);
  mkdirSync(buildDir, { recursive: true });
  const pin = ({ name, version }: { name: string; version: string }): PinnedDeb => {
    const deb = archiveCandidate(name);
    if (deb.version !== version) {
      throw new OsInitramfsError(`apt would install ${name} ${version} but apt-cache's candidate is ${deb.version}; run "apt-get update" and retry the refresh.`);
    }
    return deb;
  };
  const base = aptClosure(ROOT_PACKAGES);
  const inBase = new Set(base.map((p) => p.name));
  const packages = base.map(pin);
  const lvmPackages = aptClosure([...ROOT_PACKAGES, ...LVM_PACKAGES]).filter((p) => !inBase.has(p.name)).map(pin);
  // They are all unpacked into one root, where dpkg would refuse two packages that ship the
  // same file; without dpkg, the lock is where that is caught.
  const owner = new Map<string, string>();
  for (const deb of [...packages, ...lvmPackages]) {
    for (const path of debFiles(fetchDeb(deb, OS_INITRAMFS_REFRESH_COMMAND))) {
      const other = owner.get(path);
      if (other !== undefined) throw new OsInitramfsError(`${deb.package} and ${other} both ship ${path}; the build root cannot hold both, so choose other roots in ROOT_PACKAGES.`);
      owner.set(path, deb.package);
    }
  }
  const lock: OsInitramfsLock = { suite: "bookworm", kernelRelease: readLock().kernelRelease, roots: [...ROOT_PACKAGES], packages, lvmPackages };
  const tmp = `${OS_INITRAMFS_LOCK_PATH}.tmp`;
  writeFileSync(tmp, JSON.stringify(lock, null, 2) + "\n");
  renameSync(tmp, OS_INITRAMFS_LOCK_PATH);
  return lock;
}

// ---- building the image ----

export interface OsInitramfsOptions {
  /**
   * The installed system's /etc/crypttab lines. Lines with the `initramfs` option go into the
   * image's cryptroot/crypttab; with `none` as the key, cryptroot asks for the passphrase.
   */
  crypttab: readonly string[];
  /** /etc/initramfs-tools/modules beyond Debian's (empty) list: what the demo disk needs. */
  modules?: readonly string[];
  /** Install lvm2 in the build root too, for a root on LVM inside LUKS; false by default. */
  lvm?: boolean;
}

export interface OsInitramfs {
  /** The image, named as /boot names it: initrd.img-<release>. */
  path: string;
  kernelRelease: string;
  bytes: number;
  /** True when a build with the same inputs was there already. */
  reused: boolean;
  /** How long this call took (the build, or only the check when reused). */
  ms: number;
}

/** virtio (the QEMU board's disks) and ext4 (the root filesystem); the cryptroot hook adds dm-crypt and its ciphers. */
export const DEFAULT_MODULES: readonly string[] = ["virtio_pci", "virtio_blk", "ext4"];

/** A fixed time for mkinitramfs's reproducible mode (it clamps every file's mtime to it). */
const SOURCE_DATE_EPOCH = "1700000000";

function run(program: string, args: string[], what: string): string {
  try {
    return execFileSync(program, args, {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      // The build root's own tools, not the host's, and nothing of the caller's locale.
      env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", LC_ALL: "C", SOURCE_DATE_EPOCH, TMPDIR: "/tmp" },
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (e) {
    const err = e as { stderr?: string; stdout?: string; message: string };
    const said = `${err.stdout ?? ""}${err.stderr ?? ""}`.trim().split("\n").slice(-15).join("\n");
    throw new OsInitramfsError(`${what} failed (${said || err.message}); the build root is removed, so fix the cause and run the build again.`);
  }
}

/** Hard links of every file under `from` at the same place under `to` (one filesystem: .build). */
function linkTree(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const name of readdirSync(from)) {
    const src = join(from, name);
    const dst = join(to, name);
    if (statSync(src).isDirectory()) linkTree(src, dst);
    else linkSync(src, dst);
  }
}

function makeImage(lock: OsInitramfsLock, opts: Required<OsInitramfsOptions>, outFile: string): void {
  const release = lock.kernelRelease;
  mkdirSync(buildDir, { recursive: true });
  const root = mkdtempSync(join(buildDir, "os-initramfs-root-"));
  try {
    // No two of these packages ship the same file (the refresh checks), so the order of
    // unpacking does not matter; lock order keeps it the same everywhere anyway.
    for (const deb of [...lock.packages, ...(opts.lvm ? lock.lvmPackages : [])]) {
      run("dpkg-deb", ["-x", fetchDeb(deb, OS_INITRAMFS_REFRESH_COMMAND), root], `dpkg-deb -x ${deb.package}`);
    }
    // The maintainer-script effects mkinitramfs relies on: mawk's postinst makes it awk, and
    // initramfs-tools' postinst installs /etc/initramfs-tools/modules from its template.
    if (!existsSync(join(root, "usr/bin/awk"))) symlinkSync("mawk", join(root, "usr/bin/awk"));
    const modulesTemplate = readFileSync(join(root, "usr/share/initramfs-tools/modules"), "utf8");

    // The kernel as its package installs it: modules under /lib/modules/<release> (linked:
    // 390 MB that nothing here changes; depmod writes its index files anew beside them) and
    // the config mkinitramfs reads to know which compressions the kernel can unpack.
    const kernelTree = extractDeb(kernelPackage(readLock()));
    const modules = join(root, "lib/modules", release);
    linkTree(join(kernelTree, "lib/modules", release, "kernel"), join(modules, "kernel"));
    for (const name of readdirSync(join(kernelTree, "lib/modules", release))) {
      if (name.startsWith("modules.")) copyFileSync(join(kernelTree, "lib/modules", release, name), join(modules, name));
    }
    mkdirSync(join(root, "boot"), { recursive: true });
    copyFileSync(join(kernelTree, "boot", `config-${release}`), join(root, "boot", `config-${release}`));

    for (const dir of ["dev", "proc", "sys", "run", "tmp", "var/tmp"]) mkdirSync(join(root, dir), { recursive: true });
    // The hooks write to /dev/null; a node, not a bind mount, so nothing has to be unmounted.
    run("mknod", ["-m", "666", join(root, "dev/null"), "c", "1", "3"], "mknod /dev/null in the build root");

    const conf = join(root, "etc/initramfs-tools");
    writeFileSync(join(conf, "conf.d", "bootward-demo"), "MODULES=list\n");
    // Forces the cryptsetup hooks in, as on a machine whose crypttab the hook cannot match to
    // a mounted device (cryptsetup-initramfs's documented switch).
    writeFileSync(join(conf, "conf.d", "cryptsetup"), "CRYPTSETUP=y\n");
    writeFileSync(join(conf, "modules"), `${modulesTemplate}${opts.modules.map((m) => `${m}\n`).join("")}`);
    writeFileSync(join(root, "etc/crypttab"), opts.crypttab.map((l) => `${l}\n`).join(""));

    run("chroot", [root, "/sbin/depmod", release], "depmod in the build root");
    run("chroot", [root, "/usr/sbin/mkinitramfs", "-o", "/tmp/initrd.img", release], "mkinitramfs in the build root");
    mkdirSync(join(outFile, ".."), { recursive: true });
    renameSync(join(root, "tmp/initrd.img"), outFile);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/**
 * Debian's initramfs for the pinned kernel, built once per set of inputs (the lock, the
 * kernel package, this builder's source, the options) and reused from .build/ after that.
 */
export async function osInitramfs(options: OsInitramfsOptions): Promise<OsInitramfs> {
  const started = Date.now();
  const opts: Required<OsInitramfsOptions> = { crypttab: options.crypttab, modules: options.modules ?? DEFAULT_MODULES, lvm: options.lvm ?? false };
  const lock = readOsInitramfsLock();
  const debian = readLock();
  if (lock.kernelRelease !== debian.kernelRelease) {
    throw new OsInitramfsError(
      `The OS initramfs lock is for kernel ${lock.kernelRelease} but initrd/debian.lock.json pins ${debian.kernelRelease}; refresh it with: ${OS_INITRAMFS_REFRESH_COMMAND}`,
    );
  }
  for (const line of opts.crypttab) {
    if (line.includes("\n") || line.trim().split(/\s+/).length < 2) throw new OsInitramfsError(`The crypttab line ${JSON.stringify(line)} is not "<name> <source> [<key> [<options>]]" on one line; fix the caller.`);
  }
  for (const m of opts.modules) {
    if (!/^[A-Za-z0-9_-]+$/.test(m)) throw new OsInitramfsError(`The module name ${JSON.stringify(m)} is not a kernel module name; fix the caller.`);
  }
  const key = buildKey([
    readFileSync(OS_INITRAMFS_LOCK_PATH),
    kernelPackage(debian).sha256,
    ...sourceParts([fileURLToPath(import.meta.url)]),
    { crypttab: opts.crypttab, modules: opts.modules, ...(opts.lvm ? { lvm: true } : {}) },
  ]);
  const id = key.slice(0, 16);
  const path = join(buildDir, "os-initramfs", id, `initrd.img-${lock.kernelRelease}`);
  const records = new OutputRecords(join(buildDir, "outputs"));
  const kept = records.reusable<{ bytes: number }>(`os-initramfs-${id}`, path, key);
  if (kept !== null) return { path, kernelRelease: lock.kernelRelease, bytes: kept.info.bytes, reused: true, ms: Date.now() - started };
  if (process.getuid?.() !== 0) {
    throw new OsInitramfsError("Building the Debian OS initramfs runs mkinitramfs under chroot, which needs root; run the build or the test as root.");
  }
  ensureTools(["dpkg-deb", "apt-get", "chroot", "mknod"]);
  // npm test runs two files at once, and on a fresh machine both may ask for the same image.
  const { info, reused } = await whileHolding(join(buildDir, "os-initramfs", `${id}.lock`), () =>
    records.ensure(`os-initramfs-${id}`, path, key, async () => {
      makeImage(lock, opts, path);
      return { bytes: statSync(path).size };
    }));
  return { path, kernelRelease: lock.kernelRelease, bytes: info.bytes, reused, ms: Date.now() - started };
}

/** A build takes well under this; a lock older than it was left by a process that died. */
const STALE_LOCK_MS = 10 * 60_000;

/**
 * Runs `work` while holding the lock directory `lock` (mkdir is atomic: one process makes it,
 * the others wait until it is gone, then find the output made and reuse it).
 */
async function whileHolding<T>(lock: string, work: () => Promise<T>): Promise<T> {
  mkdirSync(join(lock, ".."), { recursive: true });
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      try {
        if (Date.now() - statSync(lock).mtimeMs > STALE_LOCK_MS) rmSync(lock, { recursive: true, force: true });
      } catch {
        // gone between the two calls: try again at once
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  try {
    return await work();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    if (process.argv.includes("--refresh")) {
      const lock = refreshOsInitramfsLock();
      process.stdout.write(`Wrote ${OS_INITRAMFS_LOCK_PATH}: ${lock.packages.length} packages for kernel ${lock.kernelRelease}\n`);
    } else {
      // --crypttab LINE (repeatable): the installed system's crypttab; --lvm: with lvm2.
      const crypttab = process.argv.flatMap((a, i) => (a === "--crypttab" && process.argv[i + 1] !== undefined ? [process.argv[i + 1]!] : []));
      const image = await osInitramfs({ crypttab, lvm: process.argv.includes("--lvm") });
      process.stdout.write(`${image.path}: ${image.bytes} bytes, ${image.reused ? "reused" : "built"} in ${image.ms} ms\n`);
    }
  } catch (e) {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  }
}
