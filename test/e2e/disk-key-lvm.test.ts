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
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { kernelImage } from "../../initrd/image.ts";
import { startQemu, type QemuBoard } from "../../initrd/qemu/board.ts";
import { keepConsole, poweredOff } from "./console.ts";
import { makeExt4Image } from "../../initrd/qemu/demo-disk.ts";
import { osInitramfs } from "../../initrd/os-initramfs.ts";
import { LUKS_ROOT_MARKER, LUKS_ROOT_SERIAL, LUKS_ROOT_UUID } from "../../initrd/qemu/luks-root-disk.ts";
import { LVM_ROOT_CMDLINE, OUTER_VG, makeLuksOnLvmDisk } from "../../initrd/qemu/lvm-root-disk.ts";
import { ensureTools, toolPath } from "../../initrd/host-tools.ts";
import { signBoot } from "../../runtime/boot/index.ts";
import { createNodeSys } from "../../runtime/host/node/sys.ts";
import { startSwtpm } from "../support/swtpm.ts";
import { initramfsWithKeyring, makeDemoKey, writeTestDemoTree } from "../support/signed-demo-boot.ts";

const repo = new URL("../../", import.meta.url).pathname;
const BOARD = "qemu-tpm2";
const OWNER = "owner passphrase";
const RECOVERY = "disk recovery passphrase";
const DUK_PASSPHRASE = "disk unlock passphrase";
const MAPPING = "root_crypt";
const BOOT_MS = 300_000;
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

let dir: string;
let stateDir: string;
let kernel: string;
let initramfs: string;
let bootDisk: string;
let rootDisk: string;
let device: string;
let osRoot: string;

before(async () => {
  ensureTools(["cryptsetup", "mkfs.ext4", "debugfs"]);
  dir = mkdtempSync(join(tmpdir(), "bootward-e2e-disk-key-lvm-"));
  kernel = (await kernelImage()).path;
  const os = await osInitramfs({ crypttab: [`${MAPPING} UUID=${LUKS_ROOT_UUID} none luks,discard,initramfs`], lvm: true });
  const disk = await makeLuksOnLvmDisk({ outFile: join(dir, "root.img"), recoveryPassphrase: RECOVERY, kernel, lvmInitramfs: os.path, inside: "lvm" });
  rootDisk = disk.path;
  device = disk.device;
  osRoot = disk.root;

  const tree = join(dir, "boot");
  const { kernelRelease } = await writeTestDemoTree(tree);
  cpSync(os.path, join(tree, `initrd.img-${kernelRelease}`));
  const cfg = join(tree, "grub", "grub.cfg");
  writeFileSync(cfg, readFileSync(cfg, "utf8").replace(/^(\tlinux .*)$/m, `$1 ${LVM_ROOT_CMDLINE}`));

  const owner = await makeDemoKey("Owner");
  stateDir = join(dir, "board");
  mkdirSync(join(stateDir, "tpm2"), { recursive: true });
  const sw = await startSwtpm("2.0", join(stateDir, "tpm2"));
  try {
    await sw.withTpm(async (tpm) => {
      await tpm.reset({ ownerPassphrase: OWNER, primaryKeyType: "ecc" });
      await signBoot(createNodeSys(), { bootDir: tree, signer: owner.signer, tpm, defaultIndex: 1, ownerPassphrase: new TextEncoder().encode(OWNER) });
    });
  } finally {
    await sw.stop();
  }
  bootDisk = makeExt4Image({ tree, outFile: join(dir, "boot.img") }).path;
  initramfs = initramfsWithKeyring(join(repo, "dist", `initramfs-${BOARD}.cpio.xz`), owner.publicArmored, join(dir, "initramfs.cpio"), [
    { type: "dir", path: "media", mode: 0o755 },
    { type: "file", path: "media/privkey.sec", mode: 0o600, data: new TextEncoder().encode(owner.secretArmored) },
  ]);
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function boot(): Promise<QemuBoard> {
  const qemu = await startQemu({ board: BOARD, kernel, initramfs, disk: bootDisk, osDisk: { path: rootDisk, serial: LUKS_ROOT_SERIAL }, stateDir });
  await qemu.waitFor(/bootward Boot Menu/, BOOT_MS);
  await qemu.waitFor(/\| HOTP: /, 60_000);
  return qemu;
}

const bootFile = (name: string) => execFileSync(toolPath("debugfs"), ["-R", `cat /${name}`, bootDisk], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });

test(`${BOARD}: a disk key for LUKS on an LVM logical volume with LVM inside: the firmware's lvm finds and activates the group at setup and at Default boot, and Debian's initramfs opens the root with the key`, { timeout: 1_800_000 }, async (t) => {
  let qemu = await boot();
  try {
    qemu.send("o");
    await qemu.waitFor(/TPM\/TOTP\/HOTP Options/, 60_000);
    qemu.send("t");
    await qemu.waitFor(/Set up or reseal the disk unlock key/, 60_000);
    qemu.send("d");
    await qemu.waitFor(/\[y\/N\]/, 60_000);
    qemu.send("y");
    await qemu.waitFor(/Which entry should Default boot start\?/, 120_000);
    qemu.send("1");
    await qemu.waitFor(/An OpenPGP secret key file/, 60_000);
    qemu.send("f");
    await qemu.waitFor(/OpenPGP secret key file/, 60_000);
    qemu.send("\r");
    await qemu.waitFor(/Passphrase of the secret key/, 60_000);
    qemu.send("\r");
    await qemu.waitFor(/Do you wish to add a disk encryption key to the TPM\?/, 120_000);
    qemu.send("y");
    // Listed by the firmware's own lvm: the LUKS volume does not exist until the group is active.
    await qemu.waitFor(new RegExp(`1\\S* +Volume group ${OUTER_VG}`), 300_000);
    qemu.send("1");
    await qemu.waitFor(new RegExp(`Disk recovery passphrase of ${escape(device)} \\(try 1 of 3\\)`), 300_000);
    qemu.send(`${RECOVERY}\r`);
    await qemu.waitFor(/New disk unlock key passphrase/, 300_000);
    qemu.send(`${DUK_PASSPHRASE}\r`);
    await qemu.waitFor(/The disk unlock key passphrase again/, 60_000);
    qemu.send(`${DUK_PASSPHRASE}\r`);
    await qemu.waitFor(/TPM owner passphrase/, 60_000);
    qemu.send(`${OWNER}\r`);
    await qemu.waitFor(/\/boot is signed by [0-9A-F]{40}/, 600_000);
    t.diagnostic(`boot 1: set up and signed ${qemu.elapsedMs()} ms after power on (${qemu.accel})`);
    qemu.send("\r");
    await qemu.waitFor(/Return to the Options menu/, 60_000);
    qemu.send("m");
    await qemu.waitFor(/Return to main menu/, 60_000);
    qemu.send("r");
    await qemu.waitFor(/bootward Boot Menu/, 60_000);
    qemu.send("p");
    await poweredOff(qemu, '"p"');
  } finally {
    await qemu.stop();
    keepConsole(qemu, "disk-key-lvm", "1-setup");
  }
  // Signed with the group Heads' kexec_key_lvm.txt names and the logical volume as the device.
  assert.equal(bootFile("kexec_key_lvm.txt"), `${OUTER_VG}\n`);
  assert.match(bootFile("kexec_key_devices.txt"), new RegExp(`^${escape(device)} ${LUKS_ROOT_UUID}\\n$`));
  assert.equal(bootFile("kexec_initrd_crypttab_overrides.txt"), `/cryptroot/crypttab:${MAPPING} UUID=${LUKS_ROOT_UUID} /secret.key luks,discard,initramfs\n`);

  qemu = await boot();
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
