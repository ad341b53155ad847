// One place that knows which Debian package provides each host tool the build, the run
// command and the tests call, so a fresh Debian 12 machine gets one exact apt-get line.

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
  depmod: "kmod",
  modinfo: "kmod",
  cpio: "cpio",
  "musl-gcc": "musl-tools",
  readelf: "binutils",
  "dpkg-deb": "dpkg",
  "apt-get": "apt",
  socat: "socat",
  oathtool: "oathtool",
  tpm2_pcrread: "tpm2-tools",
  gpg: "gnupg",
  gpgsm: "gpgsm",
  openssl: "openssl",
  time: "time",
  make: "make",
  gcc: "gcc",
  tmux: "tmux",
  zbarimg: "zbar-tools",
  cbfstool: "coreboot-utils",
  fmaptool: "coreboot-utils",
  sfdisk: "fdisk",
  flashrom: "flashrom",
  cryptsetup: "cryptsetup-bin",
  mtype: "mtools",
};

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

/**
 * Makes sure every tool is present. As root, installs the missing packages with apt-get;
 * otherwise throws a MissingToolsError whose message is the exact apt-get line to run.
 */
export function ensureTools(tools: string[]): void {
  const missing = tools.filter((t) => findTool(t) === null);
  if (missing.length === 0) return;
  const unknown = missing.filter((t) => TOOL_PACKAGES[t] === undefined);
  if (unknown.length > 0) {
    throw new MissingToolsError(`The tool(s) ${unknown.join(", ")} are missing and no Debian package is known for them; install them and retry.`);
  }
  const packages = [...new Set(missing.map((t) => TOOL_PACKAGES[t]!))].sort();
  const line = `apt-get install -y --no-install-recommends ${packages.join(" ")}`;
  if (process.getuid?.() !== 0) {
    throw new MissingToolsError(`Missing tools (${missing.join(", ")}); install them as root with: ${line}`);
  }
  process.stderr.write(`Installing missing Debian packages: ${packages.join(" ")}\n`);
  try {
    execFileSync("apt-get", ["update"], { stdio: ["ignore", "ignore", "inherit"] });
    execFileSync("apt-get", ["install", "-y", "--no-install-recommends", ...packages], {
      stdio: ["ignore", "ignore", "inherit"],
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    });
  } catch {
    throw new MissingToolsError(`Installing ${packages.join(" ")} with apt-get failed; run "${line}" by hand and read its error.`);
  }
  const still = missing.filter((t) => findTool(t) === null);
  if (still.length > 0) throw new MissingToolsError(`After apt-get install, ${still.join(", ")} are still missing; check the package names with apt-cache policy.`);
}

// `npx tsx initrd/host-tools.ts --install`: every tool the build, the board and the tests use
// (what .ci/run calls on a fresh machine).
if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  if (process.argv[2] !== "--install") {
    process.stderr.write("usage: npx tsx initrd/host-tools.ts --install\n");
    process.exit(2);
  }
  try {
    ensureTools(Object.keys(TOOL_PACKAGES));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(1);
  }
}
