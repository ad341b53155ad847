// End to end on the TPM 1.2 QEMU board (SeaBIOS, swtpm 1.2 with its endorsement key and no
// owner), from a blank machine, sharing its boots:
//
// Boot 1 offers the OEM factory reset; with the defaults and no key backup, the wizard takes
// ownership of the TPM (SeaBIOS locked physical presence, so the unowned TPM is taken as it
// is), signs /boot with a TPM 1.2 rollback counter and seals the TOTP secret to the PCR 7 the
// next boot measures from the new ROM; its base32 text is read off the QR screen.
// Boot 2: the header's code is oathtool's, green; Default boot verifies /boot (rollback
// counter in tpmtotp's format) and kexecs the demo OS, whose root cannot unseal the secret.
// Then a user file is added to the ROM on the host (cbfstool).
// Boot 3: PCR 7 moved → the failure menu and a red header naming PCR 7.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { QemuBoard } from "../../initrd/qemu/board.ts";
import { blankMachine, codesAround, defaultBootRefusesTheOs } from "./blank-machine.ts";
import { ensureTools, toolPath } from "../../initrd/host-tools.ts";
import { NO_OWNER_TITLE } from "../../runtime/flows/ownership.ts";

const BOARD = "qemu-tpm1";

test(`${BOARD}: OEM reset → restart → the TOTP equals oathtool's → Default boot kexecs; a new ROM user file (PCR 7) → red header naming PCR 7`, { timeout: 2_400_000 }, async (t) => {
  ensureTools(["oathtool", "cbfstool"]);
  const machine = await blankMachine("bootward-e2e-tpm1-", BOARD);
  const { stateDir, main, boot } = machine;
  let qemu: QemuBoard | undefined;
  try {
    // Boot 1: the offer, the wizard with the defaults and no backup, the restart.
    qemu = await boot({ usb: false });
    await qemu.waitFor(new RegExp(NO_OWNER_TITLE), 240_000);
    await qemu.waitFor(/Continue to the main menu/, 60_000);
    qemu.send("F");
    await qemu.waitFor(/takes ownership of the machine/, 60_000);
    qemu.send("y");
    await qemu.waitFor(/Use the default configuration\?/, 60_000);
    qemu.send("y");
    await qemu.waitFor(/Keep a backup of the new signing key/, 60_000);
    qemu.send("n");
    const typed = await qemu.waitFor(/Or type this secret: ((?:[A-Z2-7]{4} ?){8})/, 900_000);
    const base32 = typed[1]!.replace(/ /g, "");
    await qemu.waitFor(/Scan the code, then press Enter/, 60_000);
    qemu.send("\r");
    await qemu.waitFor(/Re-Ownership: done/, 60_000);
    await qemu.waitFor(/The TOTP secret is sealed/, 60_000);
    await qemu.waitFor(/Press Enter to restart/, 60_000);
    t.diagnostic(`OEM reset done ${qemu.elapsedMs()} ms after power on`);
    qemu.send("\r");
    await qemu.exited;
    await qemu.stop();

    // Boot 2: the code, green; Default boot verifies and kexecs.
    qemu = await boot({ usb: false });
    const shown = await qemu.waitFor(/TOTP: (\d{6}) \((\d+)s\)/, 240_000);
    const codes = codesAround(base32, Date.now());
    assert.ok(codes.includes(shown[1]!), `the header shows ${shown[1]}, oathtool says ${codes.join(" / ")} around now`);
    await qemu.waitFor(/INTEGRITY: OK/, 60_000);
    await qemu.waitFor(main, 60_000);
    await defaultBootRefusesTheOs(qemu);
    await qemu.stop();

    // A new ROM user file, as another tool would add one: the boot measures it into PCR 7.
    const rom = join(stateDir, "flash.rom");
    const extra = join(stateDir, "extra");
    writeFileSync(extra, "not measured when the secret was sealed\n");
    execFileSync(toolPath("cbfstool"), [rom, "add", "-f", extra, "-n", "heads/initrd/etc/extra", "-t", "raw"], { stdio: "pipe" });

    // Boot 3: no code, red, PCR 7 named.
    qemu = await boot({ usb: false });
    await qemu.waitFor(/ERROR: the TOTP\/HOTP secret did not unseal/, 240_000);
    await qemu.waitFor(/Exit to recovery shell/, 60_000);
    const screen = qemu.output();
    assert.match(screen, /because PCR 7 moved/);
    const named = new Set([...screen.matchAll(/PCR (\d+) changed since the secret was sealed/g)].map((m) => m[1]));
    assert.deepEqual([...named], ["7"], `expected only PCR 7 (the ROM's user files) to be named, got ${[...named].join(", ")}`);
    assert.match(screen, /INTEGRITY: TAMPERED/);
    qemu.send("i");
    await qemu.waitFor(main, 60_000);
    await qemu.waitFor(/TOTP: unseal failed: PCR 7 changed/, 60_000);
  } finally {
    await qemu?.stop();
    machine.remove();
  }
});
