// End to end: the QEMU board boots the initramfs whose /init is dist/bootward, with swtpm as
// its TPM; bootward shows the TPM and extends PCR 16; power off leaves no process behind.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { kernelImage } from "../../initrd/image.ts";
import { processAlive, startQemu } from "../../initrd/qemu/board.ts";
import { SKELETON_MEASUREMENT, SKELETON_PCR } from "../../runtime/flows/boot.ts";

const dist = new URL("../../dist/", import.meta.url).pathname;

/** What PCR 16 holds after one extend of H(text) from its reset value of zeros. */
function expectedPcr16(algorithm: "sha256" | "sha1", size: number): string {
  const digest = createHash(algorithm).update(SKELETON_MEASUREMENT).digest();
  return createHash(algorithm).update(Buffer.alloc(size)).update(digest).digest("hex");
}

for (const [board, version, algorithm, size] of [
  ["qemu-tpm2", "2.0", "sha256", 32],
  ["qemu-tpm1", "1.2", "sha1", 20],
] as const) {
  test(`${board}: bootward is /init, shows TPM ${version} and PCR ${SKELETON_PCR}, and powers off cleanly`, { timeout: 300_000 }, async () => {
    const stateDir = mkdtempSync(join(tmpdir(), `bootward-e2e-${board}-`));
    const kernel = await kernelImage();
    const qemu = await startQemu({ board, kernel: kernel.path, initramfs: join(dist, `initramfs-${board}.cpio.xz`), stateDir });
    try {
      await qemu.waitFor(/bootward \S+ on /, 180_000);
      await qemu.waitFor(new RegExp(`TPM ${version.replace(".", "\\.")} \\(manufacturer`), 30_000);
      for (let pcr = 0; pcr <= 7; pcr++) {
        await qemu.waitFor(new RegExp(`PCR +${pcr} \\(${algorithm}\\): [0-9a-f]{${size * 2}}`), 30_000);
      }
      const shown = await qemu.waitFor(new RegExp(`PCR ${SKELETON_PCR} extended with "${SKELETON_MEASUREMENT}": ([0-9a-f]+)`), 30_000);
      assert.equal(shown[1], expectedPcr16(algorithm, size));
      await qemu.waitFor(/Press p to power off/, 30_000);
      qemu.send("p");
      const exit = await Promise.race([qemu.exited, new Promise<"hung">((r) => setTimeout(() => r("hung"), 60_000))]);
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
