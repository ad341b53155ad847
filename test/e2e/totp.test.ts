// End to end on the QEMU board, one swtpm state across three boots. The host first takes
// ownership of the TPM, as an OEM reset would (SeaBIOS locks the platform hierarchy, so the
// firmware's own "Reset the TPM" cannot clear it on this board). The first boot generates a
// secret from Options → TPM/TOTP/HOTP, and its base32 text is read off the enrolment screen; the second shows, in the header, the code oathtool computes for that
// secret at the guest's time; the third boots changed firmware (another SMBIOS manufacturer,
// which SeaBIOS measures into PCR 1) and gets a red header and the failure menu naming PCR 1.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { kernelImage } from "../../initrd/image.ts";
import { startQemu, type QemuBoard } from "../../initrd/qemu/board.ts";
import { getBoard } from "../../initrd/boards.ts";
import { startSwtpm } from "../support/swtpm.ts";
import { skipOwnershipOffer } from "./ownership-offer.ts";

const repo = new URL("../../", import.meta.url).pathname;
const BOARD = "qemu-tpm2";
const OWNER = "owner passphrase";
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

async function boot(stateDir: string, extraArgs: string[] = []): Promise<QemuBoard> {
  const kernel = await kernelImage();
  return startQemu({ board: BOARD, kernel: kernel.path, initramfs: join(repo, "dist", `initramfs-${BOARD}.cpio.xz`), stateDir, extraArgs });
}

async function powerOff(qemu: QemuBoard): Promise<void> {
  qemu.send("p");
  const exit = await Promise.race([qemu.exited, sleep(60_000, "hung" as const, { ref: false })]);
  assert.notEqual(exit, "hung", `QEMU did not exit after "p":\n${qemu.output().slice(-2000)}`);
  await qemu.swtpm.exited;
}

/** oathtool's codes for the 30 s window of `ms` and its neighbours. */
function codesAround(base32: string, ms: number): string[] {
  return [-30, 0, 30].map((d) => execFileSync("oathtool", ["--totp", "-b", `--now=@${Math.floor(ms / 1000) + d}`, base32], { encoding: "utf8" }).trim());
}

test(`${BOARD}: generate a TOTP secret, see oathtool's code in the header after a reboot, then changed firmware → red, PCR named`, { timeout: 900_000 }, async () => {
  const stateDir = mkdtempSync(join(tmpdir(), "bootward-e2e-totp-"));
  const name = getBoard(BOARD).config.find(([k]) => k === "CONFIG_BOARD_NAME")![1];
  const main = new RegExp(`${escape(name)} \\| bootward Boot Menu`);
  let qemu: QemuBoard | undefined;
  try {
    mkdirSync(join(stateDir, "tpm2"));
    const sw = await startSwtpm("2.0", join(stateDir, "tpm2"));
    try {
      await sw.withTpm((tpm) => tpm.reset({ ownerPassphrase: OWNER, primaryKeyType: "ecc" }));
    } finally {
      await sw.stop();
    }

    // Boot 1: Options → TPM/TOTP/HOTP → Generate new TOTP/HOTP secret.
    qemu = await boot(stateDir);
    await skipOwnershipOffer(qemu, 240_000);
    await qemu.waitFor(main, 60_000);
    await qemu.waitFor(/TOTP: not configured/, 60_000);
    qemu.send("o");
    await qemu.waitFor(/TPM\/TOTP\/HOTP Options/, 60_000);
    qemu.send("t");
    await qemu.waitFor(/TOTP\/HOTP does not match after refresh/, 60_000);
    qemu.send("g");
    await qemu.waitFor(/TPM owner passphrase \(empty if none was set\)/, 60_000);
    qemu.send(`${OWNER}\r`);
    const typed = await qemu.waitFor(/Or type this secret: ((?:[A-Z2-7]{4} ?){8})/, 120_000);
    const base32 = typed[1]!.replace(/ /g, "");
    assert.equal(base32.length, 32);
    await qemu.waitFor(/Scan the code, then press Enter/, 60_000);
    qemu.send("\r");
    await qemu.waitFor(/The codes match, continue/, 60_000);
    qemu.send("c");
    await qemu.waitFor(/New TOTP\/HOTP secret sealed/, 60_000);
    qemu.send("\r");
    await qemu.waitFor(/TOTP\/HOTP does not match after refresh/, 60_000);
    qemu.send("m");
    await qemu.waitFor(/Exit to recovery shell/, 60_000);
    qemu.send("r");
    await qemu.waitFor(main, 60_000);
    await powerOff(qemu);

    // Boot 2: same TPM state, same firmware → the header shows oathtool's code, green.
    qemu = await boot(stateDir);
    await skipOwnershipOffer(qemu, 240_000);
    const shown = await qemu.waitFor(/TOTP: (\d{6}) \((\d+)s\)/, 60_000);
    const codes = codesAround(base32, Date.now());
    assert.ok(codes.includes(shown[1]!), `the header shows ${shown[1]}, oathtool says ${codes.join(" / ")} around now`);
    await qemu.waitFor(/INTEGRITY: OK/, 60_000);
    await qemu.waitFor(main, 60_000);
    await powerOff(qemu);

    // Boot 3: another SMBIOS manufacturer → SeaBIOS measures different tables → no code, red, PCR named.
    qemu = await boot(stateDir, ["-smbios", "type=1,manufacturer=changed"]);
    await qemu.waitFor(/ERROR: the TOTP\/HOTP secret did not unseal/, 240_000);
    await qemu.waitFor(/PCR \d+ changed since the secret was sealed/, 60_000);
    await qemu.waitFor(/Exit to recovery shell/, 60_000);
    const screen = qemu.output();
    const named = new Set([...screen.matchAll(/PCR (\d+) changed since the secret was sealed/g)].map((m) => m[1]));
    assert.deepEqual([...named], ["1"], `expected only PCR 1 (SMBIOS tables) to be named, got ${[...named].join(", ")}`);
    assert.match(screen, /INTEGRITY: TAMPERED/);
    qemu.send("i");
    await skipOwnershipOffer(qemu, 60_000);
    await qemu.waitFor(main, 60_000);
    await powerOff(qemu);
  } finally {
    await qemu?.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
});
