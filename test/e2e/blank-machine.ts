// The OEM reset tests' blank machine on the QEMU board: fresh swtpm state and an empty ROM in
// a new state dir, the unsigned demo /boot on a virtio disk, and a blank 256 MiB USB drive.
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { kernelImage } from "../../initrd/image.ts";
import { startQemu, type QemuBoard } from "../../initrd/qemu/board.ts";
import { getBoard } from "../../initrd/boards.ts";
import { makeExt4Image } from "../../initrd/qemu/demo-disk.ts";
import { writeTestDemoTree } from "../support/signed-demo-boot.ts";

const repo = new URL("../../", import.meta.url).pathname;
export const BOARD = "qemu-tpm2";
export const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

export interface BlankMachine {
  stateDir: string;
  /** The main menu's title line. */
  main: RegExp;
  disk: string;
  usb: string;
  boot(): Promise<QemuBoard>;
  remove(): void;
}

export async function blankMachine(prefix: string): Promise<BlankMachine> {
  const stateDir = mkdtempSync(join(tmpdir(), prefix));
  const name = getBoard(BOARD).config.find(([k]) => k === "CONFIG_BOARD_NAME")![1];
  const kernel = await kernelImage();
  const tree = join(stateDir, "tree");
  await writeTestDemoTree(tree);
  const disk = makeExt4Image({ tree, outFile: join(stateDir, "disk.img") }).path;
  const usb = join(stateDir, "usb.img");
  writeFileSync(usb, "");
  truncateSync(usb, 256 * 1024 * 1024);
  return {
    stateDir,
    main: new RegExp(`${escape(name)} \\| bootward Boot Menu`),
    disk,
    usb,
    boot: () => startQemu({ board: BOARD, kernel: kernel.path, initramfs: join(repo, "dist", `initramfs-${BOARD}.cpio.xz`), disk, usbDisk: usb, stateDir }),
    remove: () => rmSync(stateDir, { recursive: true, force: true }),
  };
}

/** The wizard from its warning on: the defaults, and the USB drive (/dev/sda) as the backup with a 25 % share. */
export async function answerDefaultsWithBackupDrive(qemu: QemuBoard): Promise<void> {
  await qemu.waitFor(/takes ownership of the machine/, 30_000);
  qemu.send("y");
  await qemu.waitFor(/Use the default configuration\?/, 30_000);
  qemu.send("y");
  await qemu.waitFor(/Keep a backup of the new signing key/, 30_000);
  qemu.send("d");
  await qemu.waitFor(/How much of the drive should the encrypted partition take\?/, 30_000);
  qemu.send("2");
  await qemu.waitFor(/Everything on \/dev\/sda: .* will be erased/, 30_000);
  qemu.send("y");
}
