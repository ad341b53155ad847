// End to end: the QEMU board boots the initramfs whose /init is dist/bootward, with swtpm as
// its TPM. The main menu comes up on the serial console (and a copy on tty1, the framebuffer);
// System Info shows the TPM, PCRs 0–7 and PCR 16 as bootward extended it; p powers off and
// leaves no process behind.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { kernelImage } from "../../initrd/image.ts";
import { processAlive, startQemu } from "../../initrd/qemu/board.ts";
import { getBoard } from "../../initrd/boards.ts";
import { colourCount, encodePng, parsePpm } from "./ui-png.ts";
import { skipOwnershipOffer } from "./ownership-offer.ts";

const repo = new URL("../../", import.meta.url).pathname;
const dist = join(repo, "dist");
const artifacts = join(repo, "test-artifacts");

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

for (const [board, version, algorithm, size] of [
  ["qemu-tpm2", "2.0", "sha256", 32],
  ["qemu-tpm1", "1.2", "sha1", 20],
] as const) {
  test(`${board}: bootward is /init; main menu, System Info with TPM ${version} and PCRs 0-7, tty1 drawn, p powers off cleanly`, { timeout: 300_000 }, async () => {
    const stateDir = mkdtempSync(join(tmpdir(), `bootward-e2e-${board}-`));
    const kernel = await kernelImage();
    const name = getBoard(board).config.find(([k]) => k === "CONFIG_BOARD_NAME")![1];
    const qemu = await startQemu({ board, kernel: kernel.path, initramfs: join(dist, `initramfs-${board}.cpio.xz`), stateDir });
    try {
      await skipOwnershipOffer(qemu, 180_000);
      await qemu.waitFor(new RegExp(`${escape(name)} \\| bootward Boot Menu`), 60_000);
      await qemu.waitFor(/TOTP: not configured \| HOTP: not configured/, 60_000);

      // The copy of the screen on tty1 (bochs framebuffer, fbcon), as a PNG artifact.
      mkdirSync(artifacts, { recursive: true });
      const ppm = join(stateDir, "tty1.ppm");
      await qemu.monitor(`screendump ${ppm}`);
      const image = parsePpm(readFileSync(ppm));
      const png = join(artifacts, `tty1-${board}.png`);
      writeFileSync(`${png}.tmp`, encodePng(image));
      renameSync(`${png}.tmp`, png);
      assert.ok(colourCount(image) > 1, `the tty1 screenshot (${png}) is one colour: the framebuffer shows nothing`);

      qemu.send("s");
      await qemu.waitFor(/System Info/, 60_000);
      await qemu.waitFor(new RegExp(`TPM: ${escape(version)}, manufacturer`), 60_000);
      await qemu.waitFor(new RegExp(`PCRs \\(${algorithm}\\):`), 60_000);
      for (let pcr = 0; pcr <= 7; pcr++) {
        await qemu.waitFor(new RegExp(`PCR +${pcr}: [0-9a-f]{${size * 2}}`), 60_000);
      }
      await qemu.waitFor(/Press Enter to continue/, 60_000);
      qemu.send("\r");
      await qemu.waitFor(/Boot Menu/, 60_000);
      qemu.send("p");
      const exit = await Promise.race([qemu.exited, sleep(60_000, "hung" as const, { ref: false })]);
      assert.notEqual(exit, "hung", `QEMU did not exit after "p":\n${qemu.output().slice(-2000)}`);
      assert.equal(processAlive(qemu.pid), false, "QEMU is still running");
      await qemu.swtpm.exited;
      assert.equal(processAlive(qemu.swtpm.pid), false, "swtpm is still running");
    } finally {
      await qemu.stop();
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
}
