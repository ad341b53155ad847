// The QEMU board the disk-key tests share: /boot holds the pinned Debian kernel with a Debian
// OS initramfs as its initrd, signed by an owner whose secret key rides in the firmware's
// initramfs at /media/privkey.sec (the setup signs /boot again); the TPM is reset with the
// owner passphrase. And the keystrokes of the setup in the firmware: Options → TPM/TOTP/HOTP →
// d, entry 1, the key file, "add a disk key?", the recovery passphrase, the key's passphrase
// twice, the owner passphrase, then power off.
import type { TestContext } from "node:test";
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { kernelImage } from "../../initrd/image.ts";
import { startQemu, type QemuBoard } from "../../initrd/qemu/board.ts";
import { makeExt4Image } from "../../initrd/qemu/demo-disk.ts";
import { LUKS_ROOT_SERIAL } from "../../initrd/qemu/luks-root-disk.ts";
import { toolPath } from "../../initrd/host-tools.ts";
import { signBoot } from "../../runtime/boot/index.ts";
import { createNodeSys } from "../../runtime/host/node/sys.ts";
import { startSwtpm } from "../support/swtpm.ts";
import { initramfsWithKeyring, makeDemoKey, writeTestDemoTree } from "../support/signed-demo-boot.ts";
import { keepConsole, poweredOff } from "./console.ts";

const repo = new URL("../../", import.meta.url).pathname;
export const BOARD = "qemu-tpm2";
export const OWNER = "owner passphrase";
export const RECOVERY = "disk recovery passphrase";
export const DUK_PASSPHRASE = "disk unlock passphrase";
/** As a Debian installer names the root volume; only the OS's own crypttab line opens it under this name. */
export const MAPPING = "root_crypt";
export const BOOT_MS = 300_000;
export const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

export interface DiskKeyBoard {
  /** Powers the board on with the OS disk attached and waits for the main menu. */
  boot(): Promise<QemuBoard>;
  /** A file of the signed /boot, as the firmware left it. */
  bootFile(name: string): string;
}

/** Builds the board in `dir`: `osInitrd` as the entry's initrd, `rootArg` (root=…) added to its command line. */
export async function diskKeyBoard(dir: string, opts: { osInitrd: string; rootArg: string; rootDisk: string }): Promise<DiskKeyBoard> {
  const kernel = (await kernelImage()).path;
  const tree = join(dir, "boot");
  const { kernelRelease } = await writeTestDemoTree(tree);
  cpSync(opts.osInitrd, join(tree, `initrd.img-${kernelRelease}`));
  const cfg = join(tree, "grub", "grub.cfg");
  writeFileSync(cfg, readFileSync(cfg, "utf8").replace(/^(\tlinux .*)$/m, `$1 ${opts.rootArg}`));

  const owner = await makeDemoKey("Owner");
  const stateDir = join(dir, "board");
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
  const bootDisk = makeExt4Image({ tree, outFile: join(dir, "boot.img") }).path;
  const initramfs = initramfsWithKeyring(join(repo, "dist", `initramfs-${BOARD}.cpio.xz`), owner.publicArmored, join(dir, "initramfs.cpio"), [
    { type: "dir", path: "media", mode: 0o755 },
    { type: "file", path: "media/privkey.sec", mode: 0o600, data: new TextEncoder().encode(owner.secretArmored) },
  ]);
  return {
    async boot() {
      const qemu = await startQemu({ board: BOARD, kernel, initramfs, disk: bootDisk, osDisk: { path: opts.rootDisk, serial: LUKS_ROOT_SERIAL }, stateDir });
      await qemu.waitFor(/bootward Boot Menu/, BOOT_MS);
      await qemu.waitFor(/\| HOTP: /, 60_000);
      return qemu;
    },
    bootFile: (name) => execFileSync(toolPath("debugfs"), ["-R", `cat /${name}`, bootDisk], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }),
  };
}

/**
 * Boots and sets the disk key up in the firmware, then powers off. `beforeRecovery` answers
 * what comes between "add a disk key?" and the recovery passphrase prompt (the volume group
 * menu on LVM); `device` is the LUKS volume the prompt names.
 */
export async function setUpInFirmware(board: DiskKeyBoard, t: TestContext, consoleName: string, device: RegExp, beforeRecovery: (qemu: QemuBoard) => Promise<void> = async () => {}): Promise<void> {
  const qemu = await board.boot();
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
    await beforeRecovery(qemu);
    await qemu.waitFor(new RegExp(`Disk recovery passphrase of ${device.source} \\(try 1 of 3\\)`), 300_000);
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
    keepConsole(qemu, consoleName, "1-setup");
  }
}
