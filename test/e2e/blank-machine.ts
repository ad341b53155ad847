// The OEM reset tests' blank machine on a QEMU board: fresh swtpm state (a TPM 1.2 with the
// endorsement key its vendor made) and an empty ROM in a new state dir, the unsigned demo
// /boot on a virtio disk, and a blank 256 MiB USB drive.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { kernelImage } from "../../initrd/image.ts";
import { startQemu, type QemuBoard } from "../../initrd/qemu/board.ts";
import { getBoard } from "../../initrd/boards.ts";
import { DEMO_OS_MARKER, DEMO_OS_UNSEAL_MARKER, makeExt4Image } from "../../initrd/qemu/demo-disk.ts";
import { setTimeout as sleep } from "node:timers/promises";
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
  /** Powers the board on, with the USB drive plugged in unless `usb` is false. */
  boot(opts?: { usb?: boolean }): Promise<QemuBoard>;
  /** Plugs the USB drive into a running board, as a person would (QEMU monitor hot-plug). */
  plugUsb(qemu: QemuBoard): Promise<void>;
  remove(): void;
}

export async function blankMachine(prefix: string, board = BOARD): Promise<BlankMachine> {
  const stateDir = mkdtempSync(join(tmpdir(), prefix));
  const name = getBoard(board).config.find(([k]) => k === "CONFIG_BOARD_NAME")![1];
  const kernel = await kernelImage();
  const tree = join(stateDir, "tree");
  // bootward in the demo OS: once booted, it tries to unseal the TOTP secret as an attacker in the OS would.
  await writeTestDemoTree(tree, { bootwardBinary: join(repo, "dist", "bootward") });
  const disk = makeExt4Image({ tree, outFile: join(stateDir, "disk.img") }).path;
  const usb = join(stateDir, "usb.img");
  writeFileSync(usb, "");
  truncateSync(usb, 256 * 1024 * 1024);
  return {
    stateDir,
    main: new RegExp(`${escape(name)} \\| bootward Boot Menu`),
    disk,
    usb,
    boot: (opts = {}) =>
      startQemu({ board, kernel: kernel.path, initramfs: join(repo, "dist", `initramfs-${board}.cpio.xz`), disk, usbDisk: opts.usb === false ? undefined : usb, stateDir }),
    async plugUsb(qemu) {
      for (const command of [`drive_add 0 if=none,id=usbdisk,format=raw,file=${usb}`, "device_add usb-storage,bus=xhci.0,drive=usbdisk,id=usbstick"]) {
        const answer = await qemu.monitor(command);
        if (/error|could not|can't|failed/i.test(answer)) throw new Error(`The QEMU monitor refused "${command}": ${answer}`);
      }
    },
    remove: () => rmSync(stateDir, { recursive: true, force: true }),
  };
}

/** The backup question's item for a plugged-in drive; "plug one in, then choose this" while there is none. */
const DRIVE_ITEM = /d {2}On a USB thumb drive: an encrypted/;
const NO_DRIVE_ITEM = /r {2}On a USB thumb drive: plug one in/;

/**
 * The wizard from its warning on: the defaults, and the USB drive (/dev/sda) as the backup
 * with a 25 % share. With `plugIn`, no drive is plugged in when the backup question comes: it
 * is plugged in while the question shows, and must be offered without a key press.
 */
export async function answerDefaultsWithBackupDrive(qemu: QemuBoard, opts: { plugIn?: () => Promise<void> } = {}): Promise<void> {
  await qemu.waitFor(/takes ownership of the machine/, 60_000);
  qemu.send("y");
  await qemu.waitFor(/Use the default configuration\?/, 60_000);
  qemu.send("y");
  await qemu.waitFor(/Keep a backup of the new signing key/, 60_000);
  if (opts.plugIn) {
    await qemu.waitFor(NO_DRIVE_ITEM, 60_000);
    await opts.plugIn();
  }
  // The stick's disk may appear a few seconds after the question (or after the plug-in): the
  // question redraws with the drive, and only then is there a "d" to press.
  await qemu.waitFor(DRIVE_ITEM, 120_000);
  qemu.send("d");
  await qemu.waitFor(/How much of the drive should the encrypted partition take\?/, 60_000);
  qemu.send("2");
  await qemu.waitFor(/Everything on \/dev\/sda: .* will be erased/, 60_000);
  qemu.send("y");
}

/** oathtool's codes for the 30 s window of `ms` and its neighbours. */
export function codesAround(base32: string, ms: number): string[] {
  return [-30, 0, 30].map((d) => execFileSync("oathtool", ["--totp", "-b", `--now=@${Math.floor(ms / 1000) + d}`, base32], { encoding: "utf8" }).trim());
}

/**
 * Default boot from the main menu into the demo OS. Root there runs the unseal with the TOTP's
 * exact policy: PCR 4 moved before the kexec, so the TPM refuses (the host test in
 * test/boot/kexec-attacks.test.ts is the control: the same unseal succeeds while PCR 4 is
 * unchanged). The demo OS then powers off.
 */
export async function defaultBootRefusesTheOs(qemu: QemuBoard): Promise<void> {
  qemu.send("d");
  await qemu.waitFor(new RegExp(escape(DEMO_OS_MARKER)), 300_000);
  const unsealed = await qemu.waitFor(new RegExp(`${escape(DEMO_OS_UNSEAL_MARKER)} (\\d+)`), 120_000);
  assert.notEqual(unsealed[1], "0", "the OS unsealed the TOTP secret");
  assert.match(qemu.output(), /unseal refused: the PCR values \(0,1,2,3,4,7\) are not those the secret was sealed to/);
  const exit = await Promise.race([qemu.exited, sleep(120_000, "hung" as const, { ref: false })]);
  assert.notEqual(exit, "hung", "the demo OS powers off after booting");
}
