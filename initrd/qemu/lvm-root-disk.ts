// The demo OS's root in the two ways LVM and LUKS stack:
// - LVM inside LUKS, as Debian's "guided, encrypted LVM" install lays it out: LUKS2, inside it
//   one LVM physical volume with a volume group and a root logical volume holding ext4. The
//   disk unlock key opens the partition; the OS finds the volume group once it is open.
// - LUKS on LVM (Heads' kexec_key_lvm.txt): the disk is the physical volume, and a logical
//   volume holds the LUKS2 container, with ext4 or the first layout inside. The firmware must
//   activate the volume group before it can read the LUKS header.
//
// LVM works only on block devices: pvcreate on an image file says "No device found", and the
// host may have neither loop devices nor device-mapper. So the LVM part is made where block
// devices exist, in a short QEMU run of the pinned kernel: the LUKS container is formatted on
// the host (cryptsetup needs no device for that), the root filesystem is made on the host with
// mkfs.ext4 -d, and a script run as rdinit in Debian's own initramfs (built with lvm2, so it has
// lvm, cryptsetup and busybox) builds the volumes and copies the prepared bytes in. The
// initramfs the OS boots from is not changed: the script rides in a cpio appended only for
// that run.

import { spawn } from "node:child_process";
import { appendFileSync, copyFileSync, rmSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { writeCpio, type CpioEntry } from "../../lib/cpio.ts";
import { ensureTools, toolPath } from "../host-tools.ts";
import {
  LUKS_ROOT_UUID, LUKS_ROOT_MAPPING, LuksRootDiskError, addLuksKeys, checkLuksKeys, luksFormat, makeLuksRootDisk, privateWorkDir, rootFilesystem,
  type LuksRootDisk,
} from "./luks-root-disk.ts";

/** The volume group and logical volume: /dev/mapper/<vg>-<lv> once activated (no dash in either, so no doubling). */
export const LVM_VG = "bootwardvg";
export const LVM_LV = "root";
/** The kernel parameter that makes Debian's initramfs mount the logical volume as the root. */
export const LVM_ROOT_CMDLINE = `root=/dev/mapper/${LVM_VG}-${LVM_LV}`;
/** LUKS on LVM: the disk's own volume group and the logical volume that holds the LUKS container (Heads' kexec_key_lvm.txt names the group). */
export const OUTER_VG = "bootwardkeys";
export const OUTER_LV = "crypt";
/** The line the disk-making run prints when it is done. */
const DONE = "bootward-make-lvm: done";

/** LUKS2 header (16 MiB) + LVM metadata (1 MiB) + a 32 MiB filesystem rounded up to 4 MiB extents, with room to spare. */
const CONTAINER_BYTES = 64 * 1024 * 1024;

// udev does not run here, so lvm makes its own /dev nodes and asks udev for nothing.
const LVM_CONFIG = "activation { udev_sync = 0 udev_rules = 0 } devices { obtain_device_list_from_udev = 0 }";

// Both scripts: /dev/vda is the disk being made, /dev/vdb the prepared bytes (read-only).
const PROLOGUE = `#!/bin/sh
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mkdir -p /proc /sys /dev /run/lvm /run/lock/lvm /run/cryptsetup
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
fail() { echo "bootward-make-lvm: FAILED: $*"; poweroff -f; }
for m in virtio_pci virtio_blk dm_mod dm_crypt xts; do modprobe "$m" || fail "modprobe $m"; done
n=0
while [ ! -b /dev/vdb ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
[ -b /dev/vdb ] || fail "no /dev/vdb"
C='${LVM_CONFIG}'
`;

const MAKE_LVM = `${PROLOGUE}cryptsetup open --key-file /recovery.key /dev/vda ${LUKS_ROOT_MAPPING} || fail "cryptsetup open"
lvm pvcreate --config "$C" /dev/mapper/${LUKS_ROOT_MAPPING} || fail pvcreate
lvm vgcreate --config "$C" ${LVM_VG} /dev/mapper/${LUKS_ROOT_MAPPING} || fail vgcreate
lvm lvcreate --config "$C" --yes -n ${LVM_LV} -l 100%FREE ${LVM_VG} || fail lvcreate
dd if=/dev/vdb of=/dev/mapper/${LVM_VG}-${LVM_LV} bs=1M conv=fsync 2>/dev/null || fail dd
lvm vgchange --config "$C" -an ${LVM_VG} || fail vgchange
cryptsetup close ${LUKS_ROOT_MAPPING} || fail "cryptsetup close"
sync
echo "${DONE}"
poweroff -f
`;

const MAKE_LUKS_ON_LVM = `${PROLOGUE}lvm pvcreate --config "$C" /dev/vda || fail pvcreate
lvm vgcreate --config "$C" ${OUTER_VG} /dev/vda || fail vgcreate
lvm lvcreate --config "$C" --yes -n ${OUTER_LV} -l 100%FREE ${OUTER_VG} || fail lvcreate
dd if=/dev/vdb of=/dev/mapper/${OUTER_VG}-${OUTER_LV} bs=1M conv=fsync 2>/dev/null || fail dd
lvm vgchange --config "$C" -an ${OUTER_VG} || fail vgchange
sync
echo "${DONE}"
poweroff -f
`;

export interface LvmRootDiskOptions {
  outFile: string;
  recoveryPassphrase: string;
  extraKeys?: readonly Uint8Array[];
  /** The pinned kernel (bzImage) and a Debian OS initramfs built with `lvm: true`. */
  kernel: string;
  lvmInitramfs: string;
  /** Ceiling for the disk-making QEMU run (TCG on a loaded machine: tens of seconds). */
  timeoutMs?: number;
}

function runQemu(args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(toolPath("qemu-system-x86_64"), args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("close", () => {
      clearTimeout(timer);
      resolve(out);
    });
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

/**
 * Runs `script` as rdinit in Debian's initramfs with `disk` as /dev/vda (written) and
 * `prepared` as /dev/vdb (read-only); `files` ride in the appended cpio. Throws unless the
 * script said it was done.
 */
async function runDiskScript(opts: LvmRootDiskOptions, work: string, script: string, disk: string, prepared: string, files: CpioEntry[]): Promise<void> {
  const initrd = join(work, "make-lvm.img");
  copyFileSync(opts.lvmInitramfs, initrd);
  const size = statSync(initrd).size;
  appendFileSync(initrd, new Uint8Array((512 - (size % 512)) % 512));
  appendFileSync(initrd, writeCpio([{ type: "file", path: "bootward-make-lvm", mode: 0o755, data: new TextEncoder().encode(script) }, ...files]));
  const out = await runQemu([
    "-machine", "pc", "-accel", "tcg", "-cpu", "max", "-smp", "1", "-m", "512",
    "-display", "none", "-serial", "stdio", "-monitor", "none", "-no-reboot",
    "-kernel", opts.kernel, "-initrd", initrd,
    "-append", "console=ttyS0 quiet panic=-1 rdinit=/bootward-make-lvm",
    "-drive", `file=${disk},format=raw,if=virtio`,
    "-drive", `file=${prepared},format=raw,if=virtio,readonly=on`,
  ], opts.timeoutMs ?? 300_000);
  if (!out.includes(DONE)) {
    const tail = out.split("\n").slice(-20).join("\n");
    throw new LuksRootDiskError(`The QEMU run that makes the LVM volumes did not finish; its console ended with:\n${tail}`);
  }
}

/** Writes the LVM-inside-LUKS root disk to `outFile`: one QEMU run under TCG (about ten seconds). */
export async function makeLvmRootDisk(opts: LvmRootDiskOptions): Promise<LuksRootDisk & { root: string }> {
  ensureTools(["cryptsetup", "mkfs.ext4", "debugfs", "qemu-system-x86_64"]);
  checkLuksKeys(opts.recoveryPassphrase, opts.extraKeys ?? []);
  const work = privateWorkDir("lvm-root-");
  try {
    const fs = rootFilesystem(join(work, "root.ext4"));
    writeFileSync(opts.outFile, "");
    truncateSync(opts.outFile, CONTAINER_BYTES);
    luksFormat(opts.outFile, opts.recoveryPassphrase, work);
    await runDiskScript(opts, work, MAKE_LVM, opts.outFile, fs, [
      { type: "file", path: "recovery.key", mode: 0o400, data: new TextEncoder().encode(opts.recoveryPassphrase) },
    ]);
    addLuksKeys(opts.outFile, opts.recoveryPassphrase, opts.extraKeys ?? [], work);
    return { path: opts.outFile, bytes: statSync(opts.outFile).size, luksUuid: LUKS_ROOT_UUID, mapping: LUKS_ROOT_MAPPING, root: `/dev/mapper/${LVM_VG}-${LVM_LV}` };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The physical volume's metadata area and alignment, ahead of the first extent. */
const PV_OVERHEAD = 8 * 1024 * 1024;
const EXTENT = 4 * 1024 * 1024;

/**
 * Writes the LUKS-on-LVM root disk to `outFile`: the disk is the physical volume of volume
 * group OUTER_VG, whose logical volume OUTER_LV (/dev/mapper/<vg>-<lv> once active) holds a
 * LUKS2 container: ext4 inside (makeLuksRootDisk's), or with `inside: "lvm"` Debian's layout
 * of LVM inside LUKS (makeLvmRootDisk's), so that one disk shows both stackings. A QEMU run
 * under TCG per LVM layer.
 */
export async function makeLuksOnLvmDisk(opts: LvmRootDiskOptions & { inside: "ext4" | "lvm" }): Promise<LuksRootDisk & { device: string; root: string }> {
  ensureTools(["cryptsetup", "mkfs.ext4", "debugfs", "qemu-system-x86_64"]);
  const work = privateWorkDir("luks-on-lvm-");
  try {
    const inner = { outFile: join(work, "luks.img"), recoveryPassphrase: opts.recoveryPassphrase, extraKeys: opts.extraKeys ?? [] };
    const container = opts.inside === "lvm" ? await makeLvmRootDisk({ ...opts, ...inner }) : { ...makeLuksRootDisk(inner), root: `/dev/mapper/${LUKS_ROOT_MAPPING}` };
    writeFileSync(opts.outFile, "");
    truncateSync(opts.outFile, Math.ceil(container.bytes / EXTENT) * EXTENT + PV_OVERHEAD);
    await runDiskScript(opts, work, MAKE_LUKS_ON_LVM, opts.outFile, container.path, []);
    return { ...container, path: opts.outFile, bytes: statSync(opts.outFile).size, device: `/dev/mapper/${OUTER_VG}-${OUTER_LV}` };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
