// End to end on the QEMU board: the disk unlock key with a real distribution initramfs. The
// demo /boot holds the pinned Debian kernel and Debian 12's own initramfs (mkinitramfs with
// cryptsetup-initramfs, initrd/os-initramfs.ts) for an OS whose root is on a LUKS2 disk, named
// root_crypt in its crypttab as a Debian installer names it (so Heads' generic luks-<UUID>
// lines would not do). The host owns the TPM and signs /boot, as an OEM reset would have; the
// owner's secret key is a file in the firmware's initramfs, since signing needs one.
//
// Boot 1: Options → TPM/TOTP/HOTP → d: entry 1 as default, the key file, "add a disk key?",
// the recovery passphrase, the key's passphrase twice, the owner passphrase; the firmware
// reads root_crypt out of the zstd initrd, adds the key to slot 31, seals it, signs /boot.
// Boot 2: Default boot asks the key's passphrase and kexecs Debian's initramfs, which opens
// root_crypt with the appended key: nobody is asked for a passphrase.
// Then a key slot is added on the host (a rewritten header, PCR 6). Boot 3: the key is not
// released, the screen says the headers changed, and the recovery path boots: Debian asks,
// the recovery passphrase opens the root.
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
import { LUKS_ROOT_MARKER, LUKS_ROOT_SERIAL, LUKS_ROOT_UUID, makeLuksRootDisk } from "../../initrd/qemu/luks-root-disk.ts";
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
/** As a Debian installer names the volume; root= names it too, so only the OS's own crypttab line opens it under this name. */
const MAPPING = "root_crypt";
const BOOT_MS = 300_000;
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

let dir: string;
let stateDir: string;
let kernel: string;
let initramfs: string;
let bootDisk: string;
let rootDisk: string;

before(async () => {
  ensureTools(["cryptsetup", "mkfs.ext4", "debugfs"]);
  dir = mkdtempSync(join(tmpdir(), "bootward-e2e-disk-key-"));
  kernel = (await kernelImage()).path;
  const os = await osInitramfs({ crypttab: [`${MAPPING} UUID=${LUKS_ROOT_UUID} none luks,discard,initramfs`] });
  rootDisk = makeLuksRootDisk({ outFile: join(dir, "root.img"), recoveryPassphrase: RECOVERY }).path;

  const tree = join(dir, "boot");
  const { kernelRelease } = await writeTestDemoTree(tree);
  cpSync(os.path, join(tree, `initrd.img-${kernelRelease}`));
  const cfg = join(tree, "grub", "grub.cfg");
  writeFileSync(cfg, readFileSync(cfg, "utf8").replace(/^(\tlinux .*)$/m, `$1 root=/dev/mapper/${MAPPING}`));

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


/** Debian's initramfs opened root_crypt and ran the root's /sbin/init, which powers off. */
async function reachRoot(qemu: QemuBoard): Promise<void> {
  await qemu.waitFor(new RegExp(escape(LUKS_ROOT_MARKER)), BOOT_MS);
  await qemu.waitFor(new RegExp(`bootward-demo-os: root: /dev/mapper/${MAPPING} ext4`), 60_000);
  await qemu.waitFor(/bootward-demo-os: powering off/, 60_000);
  await poweredOff(qemu, "the OS powered off");
}

test(`${BOARD}: disk key set up in the firmware, then Default boot opens the LUKS root through Debian's own initramfs without a passphrase; a rewritten header releases nothing and the recovery passphrase boots`, { timeout: 1_800_000 }, async (t) => {
  // Boot 1: set the key up from the TPM options.
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
    await qemu.waitFor(/Disk recovery passphrase of \/dev\/vd[a-z] \(try 1 of 3\)/, 300_000);
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
    keepConsole(qemu, "disk-key", "1-setup");
  }
  // What the firmware signed: the OS initrd's own name for the volume, pointed at the key.
  const overrides = execFileSync(toolPath("debugfs"), ["-R", "cat /kexec_initrd_crypttab_overrides.txt", bootDisk], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  assert.equal(overrides, `/cryptroot/crypttab:${MAPPING} UUID=${LUKS_ROOT_UUID} /secret.key luks,discard,initramfs\n`);
  assert.match(execFileSync(toolPath("cryptsetup"), ["luksDump", rootDisk], { encoding: "utf8" }), /\n {2}31: luks2\n/, "the key is in slot 31");

  // Boot 2: Default boot with the key.
  qemu = await boot();
  try {
    const pressed = qemu.elapsedMs();
    qemu.send("d");
    await qemu.waitFor(/Disk unlock key passphrase \(try 1 of 3/, BOOT_MS);
    qemu.send(`${DUK_PASSPHRASE}\r`);
    await reachRoot(qemu);
    t.diagnostic(`boot 2: d pressed → LUKS root mounted ${qemu.elapsedMs() - pressed} ms`);
    assert.match(qemu.output(), new RegExp(`cryptsetup: ${MAPPING}: set up successfully`));
    assert.doesNotMatch(qemu.output(), /Please unlock disk/, "the key was released, yet Debian's cryptroot asked for a passphrase");
  } finally {
    await qemu.stop();
    keepConsole(qemu, "disk-key", "2-key");
  }

  // A rewritten header: someone's own key in another slot.
  const extra = join(dir, "extra.key");
  writeFileSync(extra, "an attacker's passphrase");
  execFileSync(toolPath("cryptsetup"), ["luksAddKey", "--batch-mode", "--pbkdf", "pbkdf2", "--pbkdf-force-iterations", "1000", "--key-file", "-", rootDisk, extra], { input: RECOVERY });

  // Boot 3: nothing released, the reason shown, the recovery passphrase boots.
  qemu = await boot();
  try {
    qemu.send("d");
    await qemu.waitFor(/LUKS headers of the disk changed since the disk unlock key was sealed/, BOOT_MS);
    await qemu.waitFor(/Boot anyway and type the disk recovery passphrase/, 60_000);
    assert.doesNotMatch(qemu.output(), /Disk unlock key passphrase \(try/, "a passphrase was asked although the headers changed");
    qemu.send("y");
    await qemu.waitFor(new RegExp(`Please unlock disk ${MAPPING}: `), BOOT_MS);
    qemu.send(`${RECOVERY}\n`);
    await reachRoot(qemu);
  } finally {
    await qemu.stop();
    keepConsole(qemu, "disk-key", "3-recovery");
  }
});
