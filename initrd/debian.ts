// The Debian 12 packages the initramfs and the demo disk are made of, pinned by version and
// sha256 in initrd/debian.lock.json, fetched with apt-get into .cache/debs/ and unpacked with
// dpkg -x into .build/debs/.
//
// Debian drops superseded versions at point releases (the kernel ABI name moves too), so a
// pinned version can disappear from the archive. Refresh the lock to the archive's current
// candidates — the kernel that linux-image-amd64 depends on, busybox-static, kexec-tools,
// cryptsetup-bin, util-linux (for blkid), lvm2, and exactly the library packages their
// binaries need by ELF DT_NEEDED — with:
//
//     npx tsx initrd/debian.ts --refresh
//
// A soname two packages ship comes from the first in name order. lvm's libsystemd.so.0 thus
// comes from libelogind0, Debian's other provider of it: 656 KiB needing only libcap, where
// libsystemd0's pulls in libgcrypt, zstd, lz4 and lzma (about 1 MiB more of xz in flash).
// lvm calls nothing of it that elogind's lacks: the QEMU board runs lvm vgs and vgchange.
//
// Without arguments the command fetches and checks every locked package.

import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureTools } from "./host-tools.ts";
import { resolveLibraries } from "./elf.ts";
import { buildDir, cacheDir, repoRoot } from "../build/paths.ts";

export class DebianError extends Error {
  override name = "DebianError";
}

export const REFRESH_COMMAND = "npx tsx initrd/debian.ts --refresh";
export const LOCK_PATH = join(repoRoot, "initrd", "debian.lock.json");
const CACHE_DIR = join(cacheDir, "debs");
const TREES_DIR = join(buildDir, "debs");

export const KERNEL_META = "linux-image-amd64";
export const STATIC_PACKAGES = ["busybox-static"];
/** Dynamic executables the initramfs carries, by the package that ships them. */
export const EXECUTABLES: Readonly<Record<string, readonly string[]>> = {
  "kexec-tools": ["sbin/kexec"],
  "cryptsetup-bin": ["sbin/cryptsetup"],
  // busybox's blkid has no -t/-o: the disk key setup lists LUKS volumes as Heads does, with util-linux's.
  "util-linux": ["sbin/blkid"],
  // Only on boards that ask for it (Board.lvm, as Heads' CONFIG_LVM2): with its libraries it costs about 1.1 MiB of xz.
  lvm2: ["sbin/lvm"],
};

/** The package of EXECUTABLES a board carries only when it asks (Board.lvm). */
export const LVM_PACKAGE = "lvm2";

export type DebRole = "kernel" | "tool" | "library";

/** One .deb pinned by version and hash, as any lock of this repo records it. */
export interface PinnedDeb {
  package: string;
  version: string;
  architecture: string;
  filename: string;
  size: number;
  sha256: string;
}

export interface LockedDeb extends PinnedDeb {
  role: DebRole;
}

export interface DebianLock {
  suite: string;
  kernelRelease: string;
  packages: LockedDeb[];
}

export function readLock(): DebianLock {
  let text: string;
  try {
    text = readFileSync(LOCK_PATH, "utf8");
  } catch {
    throw new DebianError(`The Debian lock ${LOCK_PATH} is missing; create it with: ${REFRESH_COMMAND}`);
  }
  const lock = JSON.parse(text) as DebianLock;
  if (!Array.isArray(lock.packages) || typeof lock.kernelRelease !== "string") {
    throw new DebianError(`The Debian lock ${LOCK_PATH} is malformed; regenerate it with: ${REFRESH_COMMAND}`);
  }
  return lock;
}

export function lockedPackage(lock: DebianLock, name: string): LockedDeb {
  const found = lock.packages.find((p) => p.package === name);
  if (found === undefined) throw new DebianError(`The Debian lock has no ${name}; regenerate it with: ${REFRESH_COMMAND}`);
  return found;
}

export function kernelPackage(lock: DebianLock): LockedDeb {
  const found = lock.packages.find((p) => p.role === "kernel");
  if (found === undefined) throw new DebianError(`The Debian lock has no kernel package; regenerate it with: ${REFRESH_COMMAND}`);
  return found;
}

function sha256File(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

function aptDownload(spec: string, dir: string): void {
  execFileSync("apt-get", ["download", "-q", spec], { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
}

/**
 * The verified .deb in .cache/debs/, downloading it with apt-get when absent. `refresh` is the
 * command that refreshes the lock the package came from, for the messages that need it.
 */
export function fetchDeb(deb: PinnedDeb, refresh: string = REFRESH_COMMAND): string {
  const target = join(CACHE_DIR, basename(deb.filename));
  if (existsSync(target) && sha256File(target) === deb.sha256) return target;
  ensureTools(["apt-get", "dpkg-deb"]);
  mkdirSync(CACHE_DIR, { recursive: true });
  const tmp = mkdtempSync(join(CACHE_DIR, ".download-"));
  const spec = `${deb.package}=${deb.version}`;
  try {
    try {
      aptDownload(spec, tmp);
    } catch {
      // The package lists may simply be stale; refreshing them is the one retry worth making.
      if (process.getuid?.() === 0) {
        try {
          execFileSync("apt-get", ["update", "-q"], { stdio: "ignore" });
        } catch {
          // Not the archive moving on: nothing was reachable, so a refreshed lock would not help.
          throw new DebianError(`apt-get update failed while fetching ${spec}; check the network and the apt sources, then build again.`);
        }
        try {
          aptDownload(spec, tmp);
        } catch {
          throw new DebianError(
            `The Debian archive no longer offers ${spec} (it drops superseded versions at point releases); refresh the pinned versions with: ${refresh}`,
          );
        }
      } else {
        throw new DebianError(`apt-get download ${spec} failed; run "apt-get update" as root, and if the version is gone refresh the lock with: ${refresh}`);
      }
    }
    const got = readdirSync(tmp).filter((n) => n.endsWith(".deb"));
    if (got.length !== 1) throw new DebianError(`apt-get download ${spec} produced ${got.length} .deb files instead of one; retry, or refresh the lock with: ${refresh}`);
    const file = join(tmp, got[0]!);
    const sum = sha256File(file);
    if (sum !== deb.sha256) {
      throw new DebianError(
        `The downloaded ${spec} has sha256 ${sum} but the lock pins ${deb.sha256}; if the archive really changed it, refresh the lock with: ${refresh}`,
      );
    }
    renameSync(file, target);
    return target;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** The package's files, unpacked once with dpkg -x into .build/debs/<name_version_arch>/. */
export function extractDeb(deb: PinnedDeb, refresh: string = REFRESH_COMMAND): string {
  const debFile = fetchDeb(deb, refresh);
  const tree = join(TREES_DIR, basename(deb.filename, ".deb"));
  if (existsSync(tree)) return tree;
  mkdirSync(TREES_DIR, { recursive: true });
  const tmp = mkdtempSync(join(TREES_DIR, ".extract-"));
  try {
    execFileSync("dpkg-deb", ["-x", debFile, tmp], { stdio: ["ignore", "ignore", "pipe"] });
  } catch {
    rmSync(tmp, { recursive: true, force: true });
    throw new DebianError(`dpkg-deb could not unpack ${debFile}; delete it so it is fetched again, and check free disk space.`);
  }
  renameSync(tmp, tree);
  return tree;
}

/** Every locked package fetched, checked and unpacked: package name → tree. */
export function extractAll(lock: DebianLock = readLock()): Map<string, string> {
  const trees = new Map<string, string>();
  for (const deb of lock.packages) trees.set(deb.package, extractDeb(deb));
  return trees;
}

// ---- refreshing the lock ----

function aptCache(args: string[]): string {
  return execFileSync("apt-cache", args, { encoding: "utf8", env: { ...process.env, LC_ALL: "C" } });
}

function candidate(name: string, role: DebRole): LockedDeb {
  return { ...archiveCandidate(name), role };
}

/** What the archive offers now for `name` (apt's candidate): version, file, size and sha256. */
export function archiveCandidate(name: string): PinnedDeb {
  const stanza = aptCache(["show", "--no-all-versions", name]).split(/\n\n/)[0] ?? "";
  const field = (key: string): string => {
    const m = new RegExp(`^${key}: (.+)$`, "m").exec(stanza);
    if (m === null) throw new DebianError(`apt-cache show ${name} has no ${key} field; run "apt-get update" and retry the refresh.`);
    return m[1]!.trim();
  };
  return {
    package: name,
    version: field("Version"),
    architecture: field("Architecture"),
    filename: field("Filename"),
    size: Number(field("Size")),
    sha256: field("SHA256"),
  };
}

function currentKernelPackage(): string {
  const m = /Depends: (linux-image-6\.1\.0-\d+-amd64)\b/.exec(aptCache(["depends", KERNEL_META]));
  if (m === null) throw new DebianError(`${KERNEL_META} does not depend on a linux-image-6.1.0-N-amd64 package; check the apt sources point at bookworm.`);
  return m[1]!;
}

/** Library packages reachable through Depends of the given packages (the only place to look). */
function libraryClosure(roots: string[]): string[] {
  const out = aptCache([
    "depends", "--recurse", "--no-recommends", "--no-suggests", "--no-conflicts",
    "--no-breaks", "--no-replaces", "--no-enhances", ...roots,
  ]);
  const names = out.split("\n").filter((l) => /^lib[a-z0-9.+-]+$/.test(l));
  return [...new Set(names)].sort();
}

export function refreshLock(): DebianLock {
  ensureTools(["apt-get", "dpkg-deb", "readelf"]);
  const kernel = currentKernelPackage();
  const tools = [...STATIC_PACKAGES, ...Object.keys(EXECUTABLES)].map((n) => candidate(n, "tool"));
  const kernelDeb = candidate(kernel, "kernel");
  const libraries = libraryClosure(Object.keys(EXECUTABLES)).map((n) => candidate(n, "library"));
  const libTrees = new Map(libraries.map((d) => [extractDeb(d), d] as const));
  const executables = tools.flatMap((d) => (EXECUTABLES[d.package] ?? []).map((rel) => join(extractDeb(d), rel)));
  const used = new Set(resolveLibraries(executables, [...libTrees.keys()]).map((r) => libTrees.get(r.tree)!.package));
  extractDeb(kernelDeb);
  for (const d of tools) extractDeb(d);
  const lock: DebianLock = {
    suite: "bookworm",
    kernelRelease: kernel.replace(/^linux-image-/, ""),
    packages: [kernelDeb, ...tools, ...libraries.filter((d) => used.has(d.package))],
  };
  const tmp = `${LOCK_PATH}.tmp`;
  writeFileSync(tmp, JSON.stringify(lock, null, 2) + "\n");
  renameSync(tmp, LOCK_PATH);
  return lock;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    if (process.argv.includes("--refresh")) {
      const lock = refreshLock();
      process.stdout.write(`Wrote ${LOCK_PATH}: ${lock.packages.length} packages, kernel ${lock.kernelRelease}\n`);
    } else {
      const lock = readLock();
      extractAll(lock);
      const total = lock.packages.reduce((n, p) => n + p.size, 0);
      process.stdout.write(`${lock.packages.length} pinned packages fetched and checked (${(total / 1e6).toFixed(1)} MB of .debs)\n`);
    }
  } catch (e) {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  }
}
