// End to end on the QEMU board from a blank machine: fresh swtpm state, an unsigned demo
// /boot, an empty ROM image and a blank USB thumb drive. Boot 1 offers the OEM factory reset;
// with the defaults it clears the TPM (through the lockout hierarchy: SeaBIOS locks the
// platform one), makes a key, formats the drive as its backup (LUKS2 + public FAT), writes the
// keyring into the ROM's CBFS, signs /boot and seals the TOTP secret, whose base32 text is
// read off the QR screen. On the host: sfdisk, cryptsetup, mtools and cbfstool read what was
// written, and no secret is in the clear on the drive or /boot. Then a file in /boot changes.
// Boot 2, same state: the header's code is oathtool's, Default boot refuses the changed
// /boot, the key restored from the backup drive re-signs it, and Default boot kexecs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { QemuBoard } from "../../initrd/qemu/board.ts";
import { DEMO_OS_MARKER } from "../../initrd/qemu/demo-disk.ts";
import { answerDefaultsWithBackupDrive, BOARD, blankMachine, escape } from "./blank-machine.ts";
import { ensureTools, toolPath } from "../../initrd/host-tools.ts";
import { NO_OWNER_TITLE } from "../../runtime/flows/ownership.ts";
import { fingerprints, inspectBackupDrive, secretsInClear } from "../support/backup-drive.ts";


/** oathtool's codes for the 30 s window of `ms` and its neighbours. */
function codesAround(base32: string, ms: number): string[] {
  return [-30, 0, 30].map((d) => execFileSync("oathtool", ["--totp", "-b", `--now=@${Math.floor(ms / 1000) + d}`, base32], { encoding: "utf8" }).trim());
}

test(`${BOARD}: OEM reset with a backup drive from a blank machine → reboot → TOTP equals oathtool's, a changed /boot is refused, re-signed with the key from the backup drive, and kexecs`, { timeout: 1_500_000 }, async () => {
  ensureTools(["oathtool", "cbfstool", "sfdisk", "cryptsetup", "mtype", "debugfs", "gpg"]);
  const machine = await blankMachine("bootward-e2e-oem-");
  const { stateDir, main, disk, usb, boot } = machine;
  // The demo kernel happens to hold "12345678"; what counts is that no new copy appears.
  const before = secretsInClear([disk, usb]);
  let qemu: QemuBoard | undefined;
  try {
    // Boot 1: the offer, then the wizard with the defaults.
    qemu = await boot();
    await qemu.waitFor(new RegExp(NO_OWNER_TITLE), 240_000);
    await qemu.waitFor(/The firmware holds no OpenPGP public key/, 30_000);
    qemu.send("F");
    await answerDefaultsWithBackupDrive(qemu);
    const typed = await qemu.waitFor(/Or type this secret: ((?:[A-Z2-7]{4} ?){8})/, 600_000);
    const base32 = typed[1]!.replace(/ /g, "");
    await qemu.waitFor(/Scan the code, then press Enter/, 30_000);
    qemu.send("\r");
    await qemu.waitFor(/Re-Ownership: done/, 60_000);
    await qemu.waitFor(/Secret key backup: +the encrypted partition of \/dev\/sda/, 30_000);
    await qemu.waitFor(/Your public key is stored in the ROM/, 30_000);
    await qemu.waitFor(/Press Enter to restart/, 30_000);
    qemu.send("\r");
    // The reset restarts the machine; the board's -no-reboot makes that QEMU's exit.
    await qemu.exited;
    await qemu.stop();

    // cbfstool reads the keyring the wizard wrote into the board's flash.
    const rom = join(stateDir, "flash.rom");
    const listing = execFileSync(toolPath("cbfstool"), [rom, "print"], { encoding: "utf8" });
    assert.match(listing, /heads\/initrd\/\.gnupg\/pubring\.gpg/);
    execFileSync(toolPath("cbfstool"), [rom, "extract", "-n", "heads/initrd/.gnupg/pubring.gpg", "-f", join(stateDir, "pubring.gpg")], { stdio: "ignore" });
    const romKey = fingerprints(readFileSync(join(stateDir, "pubring.gpg")));
    assert.equal(romKey.length, 1);

    const drive = inspectBackupDrive(usb, stateDir);
    assert.deepEqual(drive.types, ["83", "c"], "a LUKS partition and a public FAT one, as Heads lays the drive out");
    assert.match(drive.luksDump, /Version:\s+2/);
    assert.match(drive.luksDump, /cipher:\s+aes-xts-plain64/);
    assert.match(drive.luksDump, /Cipher key:\s+512 bits/);
    assert.equal(drive.opens("12345678"), true, "the signing key passphrase opens the encrypted partition");
    assert.equal(drive.opens("12345679"), false, "another passphrase does not");
    assert.deepEqual(fingerprints(drive.publicKey), romKey, "the public partition's pubkey.asc is the key in the ROM");
    assert.deepEqual(secretsInClear([disk, usb]), before, "no secret was written in the clear to /boot or the USB drive");

    // A kernel update, as the OS would make it: a new file in /boot.
    execFileSync(toolPath("debugfs"), ["-w", "-R", `write ${join(stateDir, "pubring.gpg")} vmlinuz-update`, disk], { stdio: "ignore" });

    // Boot 2: owned — the code, no offer, and a verified boot into the demo OS.
    qemu = await boot();
    const shown = await qemu.waitFor(/TOTP: (\d{6}) \((\d+)s\)/, 240_000);
    const codes = codesAround(base32, Date.now());
    assert.ok(codes.includes(shown[1]!), `the header shows ${shown[1]}, oathtool says ${codes.join(" / ")} around now`);
    await qemu.waitFor(/INTEGRITY: OK/, 30_000);
    await qemu.waitFor(main, 30_000);
    assert.ok(!qemu.output().includes(NO_OWNER_TITLE), "an owned machine is not offered the reset");
    qemu.send("d");
    await qemu.waitFor(/\/boot integrity check failed/, 300_000);
    await qemu.waitFor(/vmlinuz-update/, 30_000);
    qemu.send("r");
    // Options → Update checksums and sign, with the key from the backup drive.
    await qemu.waitFor(main, 60_000);
    qemu.send("o");
    await qemu.waitFor(/Update checksums and sign/, 30_000);
    qemu.send("u");
    await qemu.waitFor(/Update checksums and sign \/boot/, 30_000);
    await qemu.waitFor(/\[y\/N\]/, 30_000);
    qemu.send("y");
    await qemu.waitFor(/Which entry should Default boot start\?/, 120_000);
    qemu.send("k");
    await qemu.waitFor(/The key backup on \/dev\/sda/, 60_000);
    qemu.send("b");
    await qemu.waitFor(/Signing key passphrase \(it opens the backup drive too\)/, 30_000);
    qemu.send("12345678\r");
    await qemu.waitFor(/\/boot is signed by [0-9A-F]{40}/, 300_000);
    qemu.send("\r");
    await qemu.waitFor(/Return to main menu/, 30_000);
    qemu.send("r");
    await qemu.waitFor(main, 60_000);
    qemu.send("d");
    await qemu.waitFor(new RegExp(escape(DEMO_OS_MARKER)), 300_000);
    const exit = await Promise.race([qemu.exited, new Promise<"hung">((r) => setTimeout(() => r("hung"), 120_000))]);
    assert.notEqual(exit, "hung", "the demo OS powers off after booting");
  } finally {
    await qemu?.stop();
    machine.remove();
  }
});
