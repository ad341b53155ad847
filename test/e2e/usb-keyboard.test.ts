// End to end: keys typed on the USB keyboard reach the menu through tty1 (the framebuffer
// console) while the serial console stays live. The board's PS/2 controller is switched off,
// so the xHCI USB keyboard is the only keyboard QEMU can send a key press to.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { kernelImage } from "../../initrd/image.ts";
import { processAlive, startQemu, type QemuBoard } from "../../initrd/qemu/board.ts";
import { getBoard } from "../../initrd/boards.ts";
import { colourCount, encodePng, parsePpm } from "./ui-png.ts";
import { skipOwnershipOffer } from "./ownership-offer.ts";

const repo = new URL("../../", import.meta.url).pathname;
const artifacts = join(repo, "test-artifacts");
const BOARD = "qemu-tpm2";

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * Presses `key` on the USB keyboard until the console shows `expect`: the guest may still be
 * enumerating the keyboard when the menu first appears, and a press before that is lost.
 */
async function pressUntil(qemu: QemuBoard, key: string, expect: RegExp): Promise<RegExpExecArray> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 6; attempt++) {
    await qemu.monitor(`sendkey ${key}`);
    try {
      return await qemu.waitFor(expect, 15_000);
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

test(`${BOARD}: a key pressed on the USB keyboard (tty1) drives the menu; the serial console stays live`, { timeout: 420_000 }, async () => {
  const stateDir = mkdtempSync(join(tmpdir(), "bootward-e2e-usb-kbd-"));
  const kernel = await kernelImage();
  const name = getBoard(BOARD).config.find(([k]) => k === "CONFIG_BOARD_NAME")![1];
  const qemu = await startQemu({
    board: BOARD,
    kernel: kernel.path,
    initramfs: join(repo, "dist", `initramfs-${BOARD}.cpio.xz`),
    stateDir,
    // Merged with the board's -machine pc: no i8042, so no PS/2 keyboard to take the keys.
    extraArgs: ["-machine", "i8042=off"],
  });
  try {
    await skipOwnershipOffer(qemu, 180_000);
    await qemu.waitFor(new RegExp(`${escape(name)} \\| bootward Boot Menu`), 60_000);
    const usb = await qemu.monitor("info usb");
    assert.match(usb, /USB Keyboard/, `QEMU lists no USB keyboard:\n${usb}`);

    // "s" on the USB keyboard: System Info must appear on the serial console, with no byte
    // typed on the serial line, and without Enter (tty1 is in raw mode, not line-buffered).
    // Its TPM line, not the words "System Info", which the menu's own item shows.
    await pressUntil(qemu, "s", /TPM: 2\.0, manufacturer/);
    await qemu.waitFor(/Press Enter to continue/, 60_000);

    mkdirSync(artifacts, { recursive: true });
    const ppm = join(stateDir, "tty1.ppm");
    await qemu.monitor(`screendump ${ppm}`);
    const image = parsePpm(readFileSync(ppm));
    const png = join(artifacts, `tty1-usb-keyboard-${BOARD}.png`);
    writeFileSync(`${png}.tmp`, encodePng(image));
    renameSync(`${png}.tmp`, png);
    assert.ok(colourCount(image) > 1, `the tty1 screenshot (${png}) is one colour`);

    // Enter on the serial line: both keyboards are live at once.
    qemu.send("\r");
    await qemu.waitFor(/Boot Menu/, 60_000);

    // "p" on the USB keyboard powers off.
    await qemu.monitor("sendkey p");
    const exit = await Promise.race([qemu.exited, sleep(60_000, "hung" as const, { ref: false })]);
    assert.notEqual(exit, "hung", `QEMU did not exit after "p" on the USB keyboard:\n${qemu.output().slice(-2000)}`);
    assert.equal(processAlive(qemu.pid), false, "QEMU is still running");
  } finally {
    await qemu.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
});
