// The demo OS's root disk, encrypted as a Debian installer leaves it: LUKS2 over ext4, opened
// at boot by Debian's cryptroot from the OS initramfs (initrd/os-initramfs.ts). It is what the
// disk unlock key opens, so the end-to-end tests can prove that the key cpio bootward appends
// is one Debian's initramfs really uses.
//
// Built without root loop devices or device-mapper: mkfs.ext4 -d fills the filesystem, the
// file grows by the room the LUKS2 header needs, and `cryptsetup reencrypt --encrypt` encrypts
// it in place. PBKDF2 with 1000 iterations, because argon2id costs seconds per open under TCG.

import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { extractAll, readLock } from "../debian.ts";
import { ensureTools, toolPath } from "../host-tools.ts";
import { DEMO_OS_POWEROFF_PARAM, makeExt4Image } from "./demo-disk.ts";
import { buildDir } from "../../build/paths.ts";

export class LuksRootDiskError extends Error {
  override name = "LuksRootDiskError";
}

/** The line the encrypted-root demo OS prints once Debian's initramfs has mounted it and run its /sbin/init. */
export const LUKS_ROOT_MARKER = "bootward-demo-os: root on LUKS mounted";
/** The LUKS2 header's UUID: what crypttab's UUID= and Heads' `luks-<uuid>` mapping name use. */
export const LUKS_ROOT_UUID = "b0070a2d-0000-4000-8000-000000000021";
/** The ext4 filesystem's UUID inside the LUKS volume. */
export const ROOT_FS_UUID = "b0070a2d-0000-4000-8000-000000000011";
/** The device-mapper name the installed system's crypttab gives the volume (Heads' default override uses the same). */
export const LUKS_ROOT_MAPPING = `luks-${LUKS_ROOT_UUID}`;
/** The kernel parameter that makes Debian's initramfs mount the opened volume as the root. */
export const LUKS_ROOT_CMDLINE = `root=/dev/mapper/${LUKS_ROOT_MAPPING}`;
/** The QEMU drive serial of the disk (so a guest can tell it from the /boot disk and the flash). */
export const LUKS_ROOT_SERIAL = "bootward-os-root";

/**
 * The installed system's /etc/crypttab line for the root volume: no key file (`none`, so
 * Debian's cryptroot asks for the passphrase), and `initramfs` so that the cryptroot hook puts
 * it in the initramfs even though no mounted root tells it which volume the root needs.
 */
export const LUKS_ROOT_CRYPTTAB = `${LUKS_ROOT_MAPPING} UUID=${LUKS_ROOT_UUID} none luks,discard,initramfs`;

const FS_SIZE = "32M";
/** What --reduce-device-size takes from the end of the data for the LUKS2 header (16 MiB by default) at the front. */
const HEADER_ROOM = 32 * 1024 * 1024;
const PBKDF = ["--pbkdf", "pbkdf2", "--pbkdf-force-iterations", "1000"];

// Runs as /sbin/init once Debian's initramfs has switched to the root (it has moved /dev,
// /proc, /sys and /run here already).
const ROOT_INIT = `#!/bin/sh
[ -e /proc/cmdline ] || mount -t proc proc /proc
# Kernel messages on the console would split the lines the tests read.
dmesg -n 1
echo "${LUKS_ROOT_MARKER} (kernel $(uname -r))"
grep ' / ' /proc/mounts | while read dev dir type rest; do echo "bootward-demo-os: root: $dev $type"; done
# Which virtio disk is which, by the serial QEMU gave it (the firmware names devices by these).
for d in /sys/block/vd*; do echo "bootward-demo-os: disk: \${d##*/} serial=$(cat "\$d/serial" 2>/dev/null)"; done
echo "bootward-demo-os: cmdline: $(cat /proc/cmdline)"
case " $(cat /proc/cmdline) " in
  *" ${DEMO_OS_POWEROFF_PARAM} "*) echo "bootward-demo-os: powering off"; poweroff -f ;;
esac
echo "bootward-demo-os: this is a shell in the demo OS; 'poweroff -f' stops the machine"
while true; do setsid cttyhack sh; done
`;

const APPLETS = ["sh", "mount", "cat", "echo", "uname", "grep", "poweroff", "reboot", "setsid", "cttyhack", "ls", "dmesg", "sleep"];

export interface LuksRootDiskOptions {
  outFile: string;
  /** The recovery passphrase (Heads' Disk Recovery Key) in key slot 0: exactly these bytes, typed at Debian's prompt, open the disk. */
  recoveryPassphrase: string;
  /** Further keys, each added in its own slot from 31 downwards (Heads puts the disk unlock key in slot 31). */
  extraKeys?: readonly Uint8Array[];
}

export interface LuksRootDisk {
  path: string;
  bytes: number;
  luksUuid: string;
  mapping: string;
}

function cryptsetup(args: string[], what: string): void {
  try {
    execFileSync(toolPath("cryptsetup"), args, { stdio: ["ignore", "ignore", "pipe"] });
  } catch (e) {
    const stderr = String((e as { stderr?: Buffer }).stderr ?? "").trim();
    throw new LuksRootDiskError(`cryptsetup could not ${what} (${stderr || "no message"}); check free space in ${buildDir} and that cryptsetup is Debian 12's.`);
  }
}

/** Refuses keys the disk cannot take (before anything is written). */
export function checkLuksKeys(recoveryPassphrase: string, extraKeys: readonly Uint8Array[]): void {
  if (recoveryPassphrase === "" || recoveryPassphrase.includes("\n")) {
    throw new LuksRootDiskError("The recovery passphrase must be one non-empty line, since it is typed at a prompt; give another.");
  }
  if (extraKeys.length > 31) throw new LuksRootDiskError(`${extraKeys.length} extra keys do not fit in LUKS2's 31 free key slots; give fewer.`);
}

/** The demo OS's root filesystem (busybox and /sbin/init), as a reproducible ext4 image at `outFile`. */
export function rootFilesystem(outFile: string): string {
  const busybox = extractAll(readLock()).get("busybox-static");
  if (busybox === undefined) throw new LuksRootDiskError("The Debian lock lacks busybox-static; refresh it with: npx tsx initrd/debian.ts --refresh");
  mkdirSync(buildDir, { recursive: true });
  const tree = mkdtempSync(join(buildDir, "root-tree-"));
  try {
    for (const dir of ["bin", "sbin", "dev", "proc", "sys", "run", "tmp", "root", "etc"]) mkdirSync(join(tree, dir), { recursive: true, mode: 0o755 });
    writeFileSync(join(tree, "bin", "busybox"), readFileSync(join(busybox, "bin", "busybox")), { mode: 0o755 });
    for (const applet of APPLETS) symlinkSync("busybox", join(tree, "bin", applet));
    writeFileSync(join(tree, "sbin", "init"), ROOT_INIT, { mode: 0o755 });
    writeFileSync(join(tree, "etc", "fstab"), `UUID=${ROOT_FS_UUID} / ext4 defaults 0 1\n`);
    for (const p of [join(tree, "bin", "busybox"), join(tree, "sbin", "init")]) chmodSync(p, 0o755);
    makeExt4Image({ tree, outFile, label: "root", uuid: ROOT_FS_UUID, size: FS_SIZE });
    return outFile;
  } finally {
    rmSync(tree, { recursive: true, force: true });
  }
}

/** A new LUKS2 header on the file `image` (its data is not kept), with the recovery passphrase in slot 0 and the fixed UUID. */
export function luksFormat(image: string, recoveryPassphrase: string, work: string): void {
  const recovery = join(work, "recovery.key");
  writeFileSync(recovery, recoveryPassphrase, { mode: 0o600 });
  // 512-byte encryption sectors, as the in-place encryption keeps: luksFormat would pick 4096 on
  // a file, and the 1 KiB blocks mkfs.ext4 gives a small filesystem would then not mount.
  cryptsetup(
    ["luksFormat", "--type", "luks2", "--batch-mode", `--key-file=${recovery}`, ...PBKDF, "--uuid", LUKS_ROOT_UUID, "--key-slot", "0", "--sector-size", "512", image],
    "format the LUKS container",
  );
}

/** Each key in its own slot from 31 downwards, opened with the recovery passphrase; `work` is a private directory for the key files. */
export function addLuksKeys(image: string, recoveryPassphrase: string, keys: readonly Uint8Array[], work: string): void {
  const recovery = join(work, "recovery.key");
  writeFileSync(recovery, recoveryPassphrase, { mode: 0o600 });
  keys.forEach((key, i) => {
    const file = join(work, `extra-${i}.key`);
    writeFileSync(file, key, { mode: 0o600 });
    cryptsetup(["luksAddKey", "--batch-mode", `--key-file=${recovery}`, ...PBKDF, "--key-slot", String(31 - i), image, file], `add key ${i + 1} to slot ${31 - i}`);
  });
}

/** A private work directory under .build/ for key files, removed by the caller. */
export function privateWorkDir(prefix: string): string {
  mkdirSync(buildDir, { recursive: true });
  const work = mkdtempSync(join(buildDir, prefix));
  chmodSync(work, 0o700);
  return work;
}

/** Writes the encrypted root disk image to `outFile` (a few seconds; no caching: each test may want its own keys). */
export function makeLuksRootDisk(opts: LuksRootDiskOptions): LuksRootDisk {
  ensureTools(["cryptsetup", "mkfs.ext4", "debugfs"]);
  const extraKeys = opts.extraKeys ?? [];
  checkLuksKeys(opts.recoveryPassphrase, extraKeys);
  const work = privateWorkDir("luks-root-");
  try {
    rootFilesystem(opts.outFile);
    truncateSync(opts.outFile, statSync(opts.outFile).size + HEADER_ROOM);
    const recovery = join(work, "recovery.key");
    writeFileSync(recovery, opts.recoveryPassphrase, { mode: 0o600 });
    cryptsetup(
      ["reencrypt", "--encrypt", "--type", "luks2", "--reduce-device-size", `${HEADER_ROOM / (1024 * 1024)}M`, "--batch-mode",
        `--key-file=${recovery}`, ...PBKDF, "--uuid", LUKS_ROOT_UUID, opts.outFile],
      "encrypt the root disk in place",
    );
    addLuksKeys(opts.outFile, opts.recoveryPassphrase, extraKeys, work);
    return { path: opts.outFile, bytes: statSync(opts.outFile).size, luksUuid: LUKS_ROOT_UUID, mapping: LUKS_ROOT_MAPPING };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}


