// End to end on the QEMU board: the disk unlock key with LVM on both sides of LUKS. The OS disk
// is one LVM physical volume whose logical volume holds the LUKS2 container (Heads'
// kexec_key_lvm.txt: the firmware must activate the group to reach the header); inside the
// container is Debian's "encrypted LVM" layout, a second volume group with the root logical
// volume. The container is root_crypt in the OS's crypttab. Debian 12's own initramfs (built
// with lvm2: udev activates both groups) is the OS initrd.
//
// Boot 1: Options → TPM/TOTP/HOTP → d: entry 1, the key file, "add a disk key?"; the firmware
// lists the volume group with its own lvm, activates it, finds the LUKS volume on it, adds the
// key to slot 31, seals it and signs /boot with kexec_key_lvm.txt.
// Boot 2: Default boot activates the group before it measures the header; the TPM refuses a
// wrong passphrase (and counts it), then releases the key; Debian's initramfs opens root_crypt
// with it, activates the group inside and mounts its root; nobody is asked for a passphrase.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { kernelImage } from "../../initrd/image.ts";
import { keepConsole, poweredOff } from "./console.ts";
import { osInitramfs } from "../../initrd/os-initramfs.ts";
import { LUKS_ROOT_MARKER, LUKS_ROOT_UUID } from "../../initrd/qemu/luks-root-disk.ts";
import { LVM_ROOT_CMDLINE, OUTER_VG, makeLuksOnLvmDisk } from "../../initrd/qemu/lvm-root-disk.ts";
import { ensureTools, toolPath } from "../../initrd/host-tools.ts";
import { BOARD, BOOT_MS, DUK_PASSPHRASE, MAPPING, RECOVERY, diskKeyBoard, escape, setUpInFirmware, type DiskKeyBoard } from "./disk-key-board.ts";

let dir: string;
let rootDisk: string;
let device: string;
let osRoot: string;
let board: DiskKeyBoard;

before(async () => {
  ensureTools(["cryptsetup", "mkfs.ext4", "debugfs"]);
  dir = mkdtempSync(join(tmpdir(), "bootward-e2e-disk-key-lvm-"));
  const kernel = (await kernelImage()).path;
  const os = await osInitramfs({ crypttab: [`${MAPPING} UUID=${LUKS_ROOT_UUID} none luks,discard,initramfs`], lvm: true });
  const disk = await makeLuksOnLvmDisk({ outFile: join(dir, "root.img"), recoveryPassphrase: RECOVERY, kernel, lvmInitramfs: os.path, inside: "lvm" });
  rootDisk = disk.path;
  device = disk.device;
  osRoot = disk.root;
  board = await diskKeyBoard(dir, { osInitrd: os.path, rootArg: LVM_ROOT_CMDLINE, rootDisk });
});
after(() => rmSync(dir, { recursive: true, force: true }));

test(`${BOARD}: a disk key for LUKS on an LVM logical volume with LVM inside: the firmware's lvm finds and activates the group at setup and at Default boot, and Debian's initramfs opens the root with the key`, { timeout: 1_800_000 }, async (t) => {
  // The group is listed by the firmware's own lvm: the LUKS volume does not exist until it is active.
  await setUpInFirmware(board, t, "disk-key-lvm", new RegExp(escape(device)), async (qemu) => {
    await qemu.waitFor(new RegExp(`1\\S* +Volume group ${OUTER_VG}`), 300_000);
    qemu.send("1");
  });
  // Signed with the group Heads' kexec_key_lvm.txt names and the logical volume as the device.
  assert.equal(board.bootFile("kexec_key_lvm.txt"), `${OUTER_VG}\n`);
  assert.match(board.bootFile("kexec_key_devices.txt"), new RegExp(`^${escape(device)} ${LUKS_ROOT_UUID}\\n$`));
  assert.equal(board.bootFile("kexec_initrd_crypttab_overrides.txt"), `/cryptroot/crypttab:${MAPPING} UUID=${LUKS_ROOT_UUID} /secret.key luks,discard,initramfs\n`);

  const qemu = await board.boot();
  try {
    const pressed = qemu.elapsedMs();
    qemu.send("d");
    await qemu.waitFor(/Disk unlock key passphrase \(try 1 of 3/, BOOT_MS);
    qemu.send("not the disk unlock passphrase\r");
    // Refused by the TPM itself (PolicyAuthValue), which counts it toward its lockout.
    await qemu.waitFor(/Wrong passphrase\. Try again\. The TPM has now counted 1 failed/, BOOT_MS);
    qemu.send("\r");
    await qemu.waitFor(/Disk unlock key passphrase \(try 2 of 3/, 60_000);
    qemu.send(`${DUK_PASSPHRASE}\r`);
    await qemu.waitFor(new RegExp(escape(LUKS_ROOT_MARKER)), BOOT_MS);
    await qemu.waitFor(new RegExp(`bootward-demo-os: root: ${escape(osRoot)} ext4`), 60_000);
    await qemu.waitFor(/bootward-demo-os: powering off/, 60_000);
    await poweredOff(qemu, "the OS powered off");
    t.diagnostic(`boot 2: d pressed → root on LVM in LUKS on LVM mounted ${qemu.elapsedMs() - pressed} ms`);
    assert.match(qemu.output(), new RegExp(`cryptsetup: ${MAPPING}: set up successfully`));
    assert.doesNotMatch(qemu.output(), /Please unlock disk/, "the key was released, yet Debian's cryptroot asked for a passphrase");
  } finally {
    await qemu.stop();
    keepConsole(qemu, "disk-key-lvm", "2-key");
  }
  assert.match(luksDumpInsideLv(), /\n {2}31: luks2\n/, "the key is in slot 31 of the header inside the logical volume");
});

/** luksDump of the header at the start of the logical volume, found by its magic, since the host cannot activate the group. */
function luksDumpInsideLv(): string {
  const image = readFileSync(rootDisk);
  const magic = Buffer.from([0x4c, 0x55, 0x4b, 0x53, 0xba, 0xbe]);
  let at = -1;
  for (let off = 0; off < image.length && at < 0; off += 512) if (image.subarray(off, off + magic.length).equals(magic)) at = off;
  assert.ok(at > 0, "no LUKS header in the physical volume");
  const header = join(dir, "lv-header.img");
  writeFileSync(header, image.subarray(at, at + 32 * 1024 * 1024));
  return execFileSync(toolPath("cryptsetup"), ["luksDump", header], { encoding: "utf8" });
}
