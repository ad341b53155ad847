// One place that knows which Debian package provides each host tool the build, the run
// command, the tests and the benchmarks call, and which tools each of those entry points runs,
// so a fresh Debian 12 machine gets everything from one apt-get line before anything starts.
// test/initrd/host-tools.test.ts reads the sources and fails when a code path reachable from
// an entry point runs a tool that the entry point does not ensure.

import { execFileSync } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export class MissingToolsError extends Error {
  override name = "MissingToolsError";
}

/** Tool (as found in PATH, /usr/sbin or /sbin) → the Debian 12 package that ships it. */
export const TOOL_PACKAGES: Readonly<Record<string, string>> = {
  "qemu-system-x86_64": "qemu-system-x86",
  swtpm: "swtpm",
  swtpm_setup: "swtpm-tools",
  swtpm_ioctl: "swtpm-tools",
  "mkfs.ext4": "e2fsprogs",
  debugfs: "e2fsprogs",
  xz: "xz-utils",
  unxz: "xz-utils",
  unlzma: "xz-utils",
  zstd: "zstd",
  bzip2: "bzip2",
  depmod: "kmod",
  modinfo: "kmod",
  cpio: "cpio",
  "musl-gcc": "musl-tools",
  readelf: "binutils",
  strip: "binutils",
  "dpkg-deb": "dpkg",
  "apt-get": "apt",
  "apt-cache": "apt",
  socat: "socat",
  oathtool: "oathtool",
  tpm2_pcrread: "tpm2-tools",
  gpg: "gnupg",
  gpgconf: "gpgconf",
  gpgsm: "gpgsm",
  openssl: "openssl",
  time: "time",
  make: "make",
  gcc: "gcc",
  "gcc-ar": "gcc",
  tmux: "tmux",
  zbarimg: "zbar-tools",
  cbfstool: "coreboot-utils",
  fmaptool: "coreboot-utils",
  sfdisk: "fdisk",
  flashrom: "flashrom",
  cryptsetup: "cryptsetup-bin",
  mtype: "mtools",
  mcopy: "mtools",
  file: "file",
  curl: "curl",
  // The Debian OS initramfs is built under chroot in a root whose /dev/null is a node.
  chroot: "coreutils",
  mknod: "coreutils",
};

/**
 * What every machine that can run `npm ci` in a git checkout has: Debian's essential packages
 * (coreutils, findutils, tar, dash), Node with npm, and git. Never installed, never checked.
 */
export const BASE_TOOLS: readonly string[] = [
  "sh", "find", "sort", "sha256sum", "xargs", "head", "mkdir", "base32", "tar", "node", "npm", "npx", "git",
  "cp", "mv", "ls", "mkfifo", "gunzip", "gzip",
];

/** `npm run build`: QuickJS and the binary (musl), the pinned Debian packages, the initramfs. */
export const BUILD_TOOLS: readonly string[] = [
  "musl-gcc", "make", "gcc", "gcc-ar", "strip", "xz", "readelf", "dpkg-deb", "apt-get", "apt-cache", "depmod", "modinfo",
  // build/quickjs.ts downloads the other pinned QuickJS with it (bench/engines.ts, the pinning test)
  "curl",
];

/** `npm start`: the build, then the demo disk, the flash image and the board (QEMU + swtpm). */
export const START_TOOLS: readonly string[] = [
  ...BUILD_TOOLS, "qemu-system-x86_64", "swtpm", "swtpm_setup", "swtpm_ioctl", "mkfs.ext4", "debugfs", "cbfstool", "fmaptool",
];

/** `npm run bench`: what `npm start` runs, plus the measuring tools, the pty bridge, the fuzzers' oracles and the LUKS images of the disk-key bench. */
export const BENCH_TOOLS: readonly string[] = [...START_TOOLS, "time", "socat", "gpg", "gpgconf", "gpgsm", "openssl", "cryptsetup"];

/** `npm test`: every tool in the table (the tests use the real parts as oracles). */
export const TEST_TOOLS: readonly string[] = Object.keys(TOOL_PACKAGES);

/** Absolute path of an executable, searching PATH plus the sbin dirs a non-root PATH lacks. */
export function findTool(name: string): string | null {
  const dirs = [...(process.env.PATH ?? "").split(delimiter), "/usr/local/sbin", "/usr/sbin", "/sbin"];
  for (const dir of dirs) {
    if (dir === "") continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this dir; keep looking
    }
  }
  return null;
}

/** Like findTool, but a missing tool is an error that says which package to install. */
export function toolPath(name: string): string {
  const found = findTool(name);
  if (found === null) ensureTools([name]);
  return findTool(name) ?? name;
}

/** The apt-get line that installs the packages of these missing tools, or an error naming the unknown ones. */
export function installLine(missing: readonly string[]): { packages: string[]; line: string } {
  const unknown = missing.filter((t) => TOOL_PACKAGES[t] === undefined);
  if (unknown.length > 0) {
    throw new MissingToolsError(`The tool(s) ${unknown.join(", ")} are missing and no Debian package is known for them; install them and retry.`);
  }
  const packages = [...new Set(missing.map((t) => TOOL_PACKAGES[t]!))].sort();
  return { packages, line: `apt-get install -y --no-install-recommends ${packages.join(" ")}` };
}

export interface EnsureOptions {
  /** Finds a tool; findTool unless a test substitutes one. */
  find?: (name: string) => string | null;
  /** Whether this process may install packages; root unless a test says otherwise. */
  root?: boolean;
}

/**
 * Makes sure every tool is present. As root, installs the missing packages with apt-get (one
 * update, one install); otherwise throws a MissingToolsError whose message is the one exact
 * apt-get line to run.
 */
export function ensureTools(tools: readonly string[], options: EnsureOptions = {}): void {
  const find = options.find ?? findTool;
  const missing = [...new Set(tools)].filter((t) => find(t) === null);
  if (missing.length === 0) return;
  const { packages, line } = installLine(missing);
  if (!(options.root ?? process.getuid?.() === 0)) {
    throw new MissingToolsError(`Missing tools (${missing.join(", ")}); install them as root with: apt-get update && ${line}`);
  }
  process.stderr.write(`Installing missing Debian packages: ${packages.join(" ")}\n`);
  try {
    execFileSync("apt-get", ["update"], { stdio: ["ignore", "ignore", "inherit"] });
    execFileSync("apt-get", ["install", "-y", "--no-install-recommends", ...packages], {
      stdio: ["ignore", "ignore", "inherit"],
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    });
  } catch {
    throw new MissingToolsError(`Installing ${packages.join(" ")} with apt-get failed; run "apt-get update && ${line}" by hand and read its error.`);
  }
  const still = missing.filter((t) => find(t) === null);
  if (still.length > 0) throw new MissingToolsError(`After apt-get install, ${still.join(", ")} are still missing; check the package names with apt-cache policy.`);
}

const ENTRY_POINTS: Readonly<Record<string, readonly string[]>> = {
  build: BUILD_TOOLS,
  start: START_TOOLS,
  test: TEST_TOOLS,
  bench: BENCH_TOOLS,
};

// `npx tsx initrd/host-tools.ts --install [build|start|test|bench]`: every tool that entry
// point runs (all of them by default), for a machine prepared ahead of its first command.
if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const which = process.argv[3] ?? "test";
  const tools = ENTRY_POINTS[which];
  if (process.argv[2] !== "--install" || tools === undefined) {
    process.stderr.write(`usage: npx tsx initrd/host-tools.ts --install [${Object.keys(ENTRY_POINTS).join("|")}]\n`);
    process.exit(2);
  }
  try {
    ensureTools(tools);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(1);
  }
}
