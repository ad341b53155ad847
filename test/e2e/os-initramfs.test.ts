// End to end, without bootward's unlock logic: the pinned Debian kernel boots straight into
// Debian 12's own initramfs (initramfs-tools + cryptsetup-initramfs, built by mkinitramfs from
// pinned packages) with the demo OS's root on a LUKS2 disk. This proves the format the disk
// unlock key relies on, with a real distribution initramfs:
//   (a) the initramfs padded to 512 bytes with bootward's key cpio appended (/secret.key and the
//       crypttab overrides, made by runtime/disk/key-initrd.ts as kexec would) opens the root
//       with the key, and nobody is asked for a passphrase;
//   (b) the initramfs alone asks "Please unlock disk …" on the console; a wrong passphrase is
//       refused, the recovery passphrase typed on the serial console opens the root;
//   (c) Debian's encrypted-LVM layout (the root a logical volume inside LUKS, the initramfs
//       built with lvm2): the key cpio opens it too, and udev activates the volume group.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { kernelImage } from "../../initrd/image.ts";
import { startQemu, type QemuBoard } from "../../initrd/qemu/board.ts";
import { osInitramfs } from "../../initrd/os-initramfs.ts";
import { DEMO_OS_POWEROFF_PARAM } from "../../initrd/qemu/demo-disk.ts";
import {
  LUKS_ROOT_CMDLINE, LUKS_ROOT_CRYPTTAB, LUKS_ROOT_MAPPING, LUKS_ROOT_MARKER, LUKS_ROOT_SERIAL, LUKS_ROOT_UUID, makeLuksRootDisk,
} from "../../initrd/qemu/luks-root-disk.ts";
import { LVM_ROOT_CMDLINE, makeLvmRootDisk } from "../../initrd/qemu/lvm-root-disk.ts";
import { createNodeSys } from "../../runtime/host/node/sys.ts";
import { buildKeyInitrd, defaultOverrides } from "../../runtime/disk/key-initrd.ts";

const RECOVERY = "debian recovery passphrase";
const PROMPT = new RegExp(`Please unlock disk ${LUKS_ROOT_MAPPING}: `);
// Under TCG on a loaded 2-core machine a boot takes tens of seconds; these are ceilings, not estimates.
const BOOT_MS = 240_000;

let dir: string;
let kernel: string;
let osInitrd: string;
let keyedInitrd: string;
let disk: string;
let key: Uint8Array;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "bootward-os-initramfs-"));
  kernel = (await kernelImage()).path;
  const image = await osInitramfs({ crypttab: [LUKS_ROOT_CRYPTTAB] });
  console.log(`# Debian OS initramfs: ${image.bytes} bytes, ${image.reused ? "reused" : "built"} in ${image.ms} ms`);
  osInitrd = image.path;
  // The disk unlock key as Heads makes it: 128 random bytes in the slot after the recovery passphrase's.
  key = new Uint8Array(randomBytes(128));
  disk = makeLuksRootDisk({ outFile: join(dir, "root.img"), recoveryPassphrase: RECOVERY, extraKeys: [key] }).path;
  keyedInitrd = join(dir, "initrd-with-key");
  await buildKeyInitrd(createNodeSys(), osInitrd, keyedInitrd, key, defaultOverrides([{ device: "/dev/vdc", uuid: LUKS_ROOT_UUID }]));
});

after(() => rmSync(dir, { recursive: true, force: true }));

async function boot(name: string, initramfs: string, osDisk = disk, root = LUKS_ROOT_CMDLINE): Promise<QemuBoard> {
  return startQemu({
    board: "qemu-tpm2",
    kernel,
    initramfs,
    osDisk: { path: osDisk, serial: LUKS_ROOT_SERIAL },
    stateDir: join(dir, name),
    appendCmdline: `${root} ${DEMO_OS_POWEROFF_PARAM}`,
  });
}

/** The root marker, then the root mount (the opened mapping, not the bare disk) and a clean power-off. */
async function reachRoot(qemu: QemuBoard, rootDevice = `/dev/mapper/${LUKS_ROOT_MAPPING}`): Promise<number> {
  await qemu.waitFor(new RegExp(LUKS_ROOT_MARKER), BOOT_MS);
  const at = qemu.elapsedMs();
  await qemu.waitFor(new RegExp(`bootward-demo-os: root: ${rootDevice} ext4`), 60_000);
  await qemu.waitFor(/bootward-demo-os: powering off/, 60_000);
  const exit = await Promise.race([qemu.exited, new Promise<"hung">((r) => setTimeout(() => r("hung"), 60_000).unref())]);
  assert.notEqual(exit, "hung", "the demo OS did not power off");
  return at;
}

test("Debian's initramfs + the appended key cpio: cryptroot opens the LUKS root with /secret.key, no passphrase asked", { timeout: 420_000 }, async () => {
  const qemu = await boot("with-key", keyedInitrd);
  try {
    const at = await reachRoot(qemu);
    console.log(`# boot with the key cpio: QEMU start → root marker ${(at / 1000).toFixed(1)} s`);
    assert.match(qemu.output(), new RegExp(`cryptsetup: ${LUKS_ROOT_MAPPING}: set up successfully`));
    assert.doesNotMatch(qemu.output(), /Please unlock disk/, "the key cpio was appended, yet Debian's cryptroot asked for a passphrase");
  } finally {
    await qemu.stop();
  }
});

test("Debian's initramfs alone: cryptroot asks on the console, refuses a wrong passphrase, opens with the recovery passphrase", { timeout: 420_000 }, async () => {
  const qemu = await boot("passphrase", osInitrd);
  try {
    await qemu.waitFor(PROMPT, BOOT_MS);
    const asked = qemu.elapsedMs();
    qemu.send("not the passphrase\n");
    await qemu.waitFor(/No key available with this passphrase\./, 120_000);
    // Debian's message is folded to the console's width: any whitespace between the words.
    await qemu.waitFor(new RegExp(`cryptsetup: ERROR: ${LUKS_ROOT_MAPPING}: cryptsetup\\s+failed, bad password or options\\?`), 60_000);
    await qemu.waitFor(PROMPT, 120_000);
    qemu.send(`${RECOVERY}\n`);
    const at = await reachRoot(qemu);
    console.log(`# boot with the passphrase: QEMU start → prompt ${(asked / 1000).toFixed(1)} s, → root marker ${(at / 1000).toFixed(1)} s (two passphrases typed)`);
    assert.doesNotMatch(qemu.output(), /secret\.key/, "the initramfs alone mentions a key file it does not have");
  } finally {
    await qemu.stop();
  }
});

test("LVM inside LUKS (Debian's encrypted-LVM layout): the key cpio opens the container and the root logical volume comes up", { timeout: 600_000 }, async () => {
  const started = Date.now();
  const image = await osInitramfs({ crypttab: [LUKS_ROOT_CRYPTTAB], lvm: true });
  console.log(`# Debian OS initramfs with lvm2: ${image.bytes} bytes, ${image.reused ? "reused" : "built"} in ${image.ms} ms`);
  const made = Date.now();
  const lvm = await makeLvmRootDisk({ outFile: join(dir, "lvm-root.img"), recoveryPassphrase: RECOVERY, extraKeys: [key], kernel, lvmInitramfs: image.path });
  console.log(`# LVM-inside-LUKS disk made in ${((Date.now() - made) / 1000).toFixed(1)} s (one QEMU run)`);
  const keyed = join(dir, "lvm-initrd-with-key");
  await buildKeyInitrd(createNodeSys(), image.path, keyed, key, defaultOverrides([{ device: "/dev/vdc", uuid: LUKS_ROOT_UUID }]));
  const qemu = await boot("lvm-with-key", keyed, lvm.path, LVM_ROOT_CMDLINE);
  try {
    const at = await reachRoot(qemu, lvm.root);
    console.log(`# LVM boot with the key cpio: QEMU start → root marker ${(at / 1000).toFixed(1)} s; whole test ${((Date.now() - started) / 1000).toFixed(1)} s`);
    assert.match(qemu.output(), new RegExp(`cryptsetup: ${LUKS_ROOT_MAPPING}: set up successfully`));
    assert.doesNotMatch(qemu.output(), /Please unlock disk/);
  } finally {
    await qemu.stop();
  }
});
