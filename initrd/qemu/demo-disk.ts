// The QEMU board's demo disk: one partition-less ext4 filesystem laid out like Debian's
// separate /boot partition (vmlinuz-<release>, initrd.img-<release>, grub/grub.cfg), so
// bootward finds, verifies and kexecs a real Debian kernel into a tiny demo OS.
// Built without root or loop devices (mkfs.ext4 -d), with fixed UUID, hash seed and times.

import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { writeCpio, type CpioEntry } from "../../lib/cpio.ts";
import { extractAll, readLock } from "../debian.ts";
import { ensureTools, toolPath } from "../host-tools.ts";
import { kernelImage } from "../image.ts";
import { xzCompress } from "../compression.ts";
import { buildDir } from "../../build/paths.ts";

export class DemoDiskError extends Error {
  override name = "DemoDiskError";
}

/** The line the demo OS prints once it runs: end-to-end tests wait for it. */
export const DEMO_OS_MARKER = "bootward-demo-os: booted";
/**
 * What the demo OS prints after trying, as any root process in the OS could, to unseal the
 * firmware's TOTP secret with its exact policy (only when bootward is in its initrd).
 */
export const DEMO_OS_UNSEAL_MARKER = "bootward-demo-os: unseal of the TOTP secret exited";
/** A kernel parameter that makes the demo OS power off at once instead of offering a shell. */
export const DEMO_OS_POWEROFF_PARAM = "bootward_demo=poweroff";
export const DEMO_DISK_SIZE = "64M";
const FS_UUID = "b0070a2d-0000-4000-8000-000000000001";
const HASH_SEED = "b0070a2d-0000-4000-8000-000000000002";
const FIXED_TIME = 1700000000;

// The demo OS only: bootward's own boot path has no shell script.
const DEMO_INIT = `#!/bin/sh
mount -t devtmpfs devtmpfs /dev
mount -t proc proc /proc
mount -t sysfs sysfs /sys
# Kernel messages on the console would split the lines the tests read.
dmesg -n 1
echo "${DEMO_OS_MARKER} (kernel $(uname -r))"
echo "bootward-demo-os: cmdline: $(cat /proc/cmdline)"
if [ -x /bin/bootward ]; then
  bootward tpm unseal 0x4d47 --pcrs 0,1,2,3,4,7 --hex
  echo "${DEMO_OS_UNSEAL_MARKER} $?"
fi
case " $(cat /proc/cmdline) " in
  *" ${DEMO_OS_POWEROFF_PARAM} "*) echo "bootward-demo-os: powering off"; poweroff -f ;;
esac
echo "bootward-demo-os: this is a shell in the demo OS; 'poweroff -f' stops the machine"
while true; do setsid cttyhack sh; done
`;

const DEMO_APPLETS = ["sh", "mount", "cat", "echo", "uname", "poweroff", "reboot", "setsid", "cttyhack", "ls", "dmesg", "sleep"];

export function grubCfg(release: string, kernelArgs?: string): string {
  return [
    "set default=0",
    "set timeout=3",
    "",
    `menuentry 'bootward demo OS (Debian ${release})' {`,
    `\tlinux /vmlinuz-${release} console=tty1 console=ttyS0,115200${kernelArgs ? ` ${kernelArgs}` : ""}`,
    `\tinitrd /initrd.img-${release}`,
    "}",
    "",
  ].join("\n");
}

/** The demo OS initrd: busybox-static and a short /init script (and bootward, for the attack tests), as an xz newc cpio. */
export function demoInitrd(options: DemoOptions = {}): Uint8Array {
  const trees = extractAll(readLock());
  const busyboxTree = trees.get("busybox-static");
  if (busyboxTree === undefined) throw new DemoDiskError("The Debian lock lacks busybox-static; refresh it with: npx tsx initrd/debian.ts --refresh");
  const entries: CpioEntry[] = [
    { type: "file", path: "init", mode: 0o755, data: new TextEncoder().encode(DEMO_INIT) },
    { type: "file", path: "bin/busybox", mode: 0o755, data: readFileSync(join(busyboxTree, "bin", "busybox")) },
    ...DEMO_APPLETS.map((a): CpioEntry => ({ type: "symlink", path: `bin/${a}`, target: "busybox" })),
    { type: "chardev", path: "dev/console", mode: 0o600, major: 5, minor: 1 },
    ...["proc", "sys", "tmp", "root"].map((d): CpioEntry => ({ type: "dir", path: d, mode: 0o755 })),
    ...(options.bootwardBinary ? [{ type: "file", path: "bin/bootward", mode: 0o755, data: readFileSync(options.bootwardBinary) } satisfies CpioEntry] : []),
  ];
  return xzCompress(writeCpio(entries));
}

function fixTimes(dir: string): void {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) fixTimes(p);
    utimesSync(p, FIXED_TIME, FIXED_TIME);
  }
  utimesSync(dir, FIXED_TIME, FIXED_TIME);
}

/** Every path below `dir` as the image will hold it ("/grub/grub.cfg"), `dir` itself as "/". */
function imagePaths(dir: string, prefix = ""): string[] {
  const paths = prefix === "" ? ["/"] : [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    paths.push(`${prefix}/${name}`);
    if (statSync(p).isDirectory()) paths.push(...imagePaths(p, `${prefix}/${name}`));
  }
  return paths;
}

/**
 * Writes the demo /boot (the Debian kernel, the demo OS initrd, grub/grub.cfg) into the empty
 * directory `root`, with fixed modes.
 */
export interface DemoOptions {
  /** Put this bootward binary into the demo OS, which then tries to unseal the TOTP secret. */
  bootwardBinary?: string;
  /**
   * Put this initrd on /boot instead of the demo OS's: Debian's own initramfs
   * (initrd/os-initramfs.ts), which mounts the root from the LUKS root disk.
   */
  osInitrd?: string;
  /** Added to the entry's kernel line, e.g. the root that OS initrd mounts (LUKS_ROOT_CMDLINE). */
  kernelArgs?: string;
}

export async function writeDemoBootTree(root: string, options: DemoOptions = {}): Promise<{ kernelRelease: string }> {
  ensureTools(["xz"]);
  const kernel = await kernelImage();
  mkdirSync(join(root, "grub"), { recursive: true, mode: 0o755 });
  copyFileSync(kernel.path, join(root, `vmlinuz-${kernel.version}`));
  const initrd = join(root, `initrd.img-${kernel.version}`);
  if (options.osInitrd !== undefined) copyFileSync(options.osInitrd, initrd);
  else writeFileSync(initrd, demoInitrd(options));
  writeFileSync(join(root, "grub", "grub.cfg"), grubCfg(kernel.version, options.kernelArgs));
  for (const [p, mode] of [[root, 0o755], [join(root, "grub"), 0o755], [join(root, "grub", "grub.cfg"), 0o644],
    [join(root, `vmlinuz-${kernel.version}`), 0o644], [join(root, `initrd.img-${kernel.version}`), 0o644]] as const) {
    chmodSync(p, mode);
  }
  return { kernelRelease: kernel.version };
}

/**
 * An ext4 image of exactly the tree at `tree` (plus the lost+found mkfs adds unless the tree
 * has one), reproducible: fixed UUID, hash seed and times. The tree's own times are fixed too.
 * The demo /boot's label, UUID and size unless others are given (the LUKS root disk's).
 */
export function makeExt4Image(opts: { tree: string; outFile: string; label?: string; uuid?: string; size?: string }): { path: string; bytes: number } {
  ensureTools(["mkfs.ext4", "debugfs"]);
  mkdirSync(buildDir, { recursive: true });
  const stage = mkdtempSync(join(buildDir, "demo-disk-"));
  mkdirSync(dirname(opts.outFile), { recursive: true });
  const tmp = `${opts.outFile}.tmp-${process.pid}`;
  try {
    fixTimes(opts.tree);
    rmSync(tmp, { force: true });
    const mkfsEnv = { ...process.env, E2FSPROGS_FAKE_TIME: String(FIXED_TIME), SOURCE_DATE_EPOCH: String(FIXED_TIME) };
    try {
      execFileSync(
        toolPath("mkfs.ext4"),
        ["-q", "-F", "-L", opts.label ?? "boot", "-U", opts.uuid ?? FS_UUID, "-E", `hash_seed=${HASH_SEED},root_owner=0:0`, "-d", opts.tree, tmp, opts.size ?? DEMO_DISK_SIZE],
        {
          stdio: ["ignore", "ignore", "pipe"],
          env: mkfsEnv,
        },
      );
    } catch (e) {
      const stderr = String((e as { stderr?: Buffer }).stderr ?? "").trim();
      throw new DemoDiskError(`mkfs.ext4 could not make the demo disk (${stderr || "no message"}); check free space in ${dirname(opts.outFile)}.`);
    }
    // mkfs.ext4 -d copies each file's ctime, which no one can set on the host; debugfs can.
    const fixCtimes = imagePaths(opts.tree).map((p) => `set_inode_field ${p} ctime ${FIXED_TIME}\n`).join("");
    writeFileSync(join(stage, "debugfs.cmd"), fixCtimes);
    execFileSync(toolPath("debugfs"), ["-w", "-f", join(stage, "debugfs.cmd"), tmp], { stdio: "ignore", env: mkfsEnv });
    renameSync(tmp, opts.outFile);
    return { path: opts.outFile, bytes: statSync(opts.outFile).size };
  } finally {
    rmSync(tmp, { force: true });
    rmSync(stage, { recursive: true, force: true });
  }
}

export async function makeDemoDisk(opts: { outFile: string } & DemoOptions): Promise<{ path: string; bytes: number; kernelRelease: string }> {
  mkdirSync(buildDir, { recursive: true });
  const stage = mkdtempSync(join(buildDir, "demo-disk-tree-"));
  try {
    const { kernelRelease } = await writeDemoBootTree(stage, opts);
    return { ...makeExt4Image({ tree: stage, outFile: opts.outFile }), kernelRelease };
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}
