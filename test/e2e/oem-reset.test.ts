// End to end on the QEMU board from a blank machine: fresh swtpm state, an unsigned demo
// /boot, an empty ROM image and a blank USB thumb drive that is not plugged in yet.
//
// Boot 1 offers the OEM factory reset; with the defaults, the wizard asks where the key backup
// goes while no drive is there, the stick is plugged in (QEMU monitor) while the question
// shows and is offered without a key press. The power is cut when the screen says the
// keyring is being written to the ROM (QEMU quit: the guest's caches are lost); nothing secret
// may be on /boot or the drive in the clear. The Node test (test/unit/flows/oem-power-cut)
// cuts at every step boundary; here one cut on the real board is enough.
//
// Boot 2's first screen shows the TOTP/HOTP status, then says "Reset incomplete — start
// again" naming that step (or, should the ROM write have landed before the cut, that the
// firmware holds a key: the same screen in red, the reset still offered); starting again runs
// the wizard to the end: the TPM is cleared (through the lockout hierarchy: SeaBIOS locks the
// platform one) with the cut run's owner passphrase, a key is made, the drive is formatted as
// its backup (LUKS2 + public FAT), the keyring goes into the ROM's CBFS, /boot is signed and
// the TOTP secret sealed, whose base32 text is read off the QR screen. On the host: sfdisk,
// cryptsetup, mtools and cbfstool read what was written. Then a file in /boot changes.
//
// Boot 3, same state: the header's code is oathtool's, Default boot refuses the changed
// /boot, the key restored from the backup drive re-signs it, and Default boot kexecs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { base32Decode } from "../../runtime/attest/base32.ts";
import { join } from "node:path";
import type { QemuBoard } from "../../initrd/qemu/board.ts";
import { answerDefaultsWithBackupDrive, BOARD, blankMachine, codesAround, defaultBootRefusesTheOs } from "./blank-machine.ts";
import { ensureTools, toolPath } from "../../initrd/host-tools.ts";
import { INCOMPLETE_TITLE, NO_OWNER_TITLE, SIGNED_BEFORE_TITLE } from "../../runtime/flows/ownership.ts";
import { extFiles, fingerprints, inspectBackupDrive, secretsInClear } from "../support/backup-drive.ts";
import { secretsFound } from "../support/secret-scan.ts";

test(`${BOARD}: OEM reset from a blank machine: a stick plugged in at the backup question is offered; a power cut at the ROM write → "reset incomplete", starting again finishes it; after the restart the TOTP equals oathtool's, a changed /boot is refused, re-signed with the key from the backup drive, and kexecs`, { timeout: 2_400_000 }, async (t) => {
  ensureTools(["oathtool", "cbfstool", "sfdisk", "cryptsetup", "mtype", "mcopy", "debugfs", "gpg"]);
  const machine = await blankMachine("bootward-e2e-oem-");
  const { stateDir, main, disk, usb, boot } = machine;
  // The demo kernel happens to hold "12345678"; what counts is that no new copy appears.
  const before = secretsInClear([disk, usb]);
  const assertNoSecretInClear = (when: string) => assert.deepEqual(secretsInClear([disk, usb]), before, `a secret is in the clear on /boot or the USB drive ${when}`);
  let qemu: QemuBoard | undefined;
  try {
    // Boot 1: the offer, the wizard with the defaults, the stick plugged in late, the cut.
    qemu = await boot({ usb: false });
    await qemu.waitFor(new RegExp(NO_OWNER_TITLE), 240_000);
    await qemu.waitFor(/The firmware holds no OpenPGP public key/, 60_000);
    await qemu.waitFor(/Continue to the main menu/, 60_000);
    qemu.send("F");
    const board = qemu;
    await answerDefaultsWithBackupDrive(qemu, { plugIn: () => machine.plugUsb(board) });
    await qemu.waitFor(/Writing the keyring to the ROM/, 600_000);
    t.diagnostic(`power cut at "Writing the keyring to the ROM" ${qemu.elapsedMs()} ms after power on`);
    await qemu.stop();
    assertNoSecretInClear("after the power cut");

    // Boot 2: the TOTP/HOTP status, then the interrupted reset, naming its step; starting again finishes it.
    qemu = await boot();
    await qemu.waitFor(new RegExp(`${INCOMPLETE_TITLE}|${escape(SIGNED_BEFORE_TITLE)}`), 240_000);
    await qemu.waitFor(/TOTP: not configured \| HOTP: not configured/, 60_000);
    await qemu.waitFor(/stopped while writing the keyring to the ROM/, 60_000);
    await qemu.waitFor(/Continue to the main menu/, 60_000);
    qemu.send("F");
    await answerDefaultsWithBackupDrive(qemu);
    // The cut run took the TPM with the default owner passphrase.
    await qemu.waitFor(/Current TPM owner passphrase/, 600_000);
    qemu.send("12345678\r");
    const typed = await qemu.waitFor(/Or type this secret: ((?:[A-Z2-7]{4} ?){8})/, 900_000);
    const base32 = typed[1]!.replace(/ /g, "");
    await qemu.waitFor(/Scan the code, then press Enter/, 60_000);
    qemu.send("\r");
    await qemu.waitFor(/Re-Ownership: done/, 60_000);
    await qemu.waitFor(/Secret key backup: +the encrypted partition of \/dev\/sda/, 60_000);
    await qemu.waitFor(/Your public key is stored in the ROM/, 60_000);
    await qemu.waitFor(/Press Enter to restart/, 60_000);
    qemu.send("\r");
    // The reset restarts the machine; the board's -no-reboot makes that QEMU's exit.
    await qemu.exited;
    await qemu.stop();
    assertNoSecretInClear("after the reset finished");
    // The TOTP secret itself, raw and as the base32 text the QR screen showed, is on neither.
    const rawTotp = Buffer.from(base32Decode(base32));
    for (const image of [disk, usb]) {
      const bytes = readFileSync(image);
      assert.ok(!bytes.includes(rawTotp), `${image} holds the raw TOTP secret`);
      assert.ok(!bytes.includes(base32) && !bytes.includes(typed[1]!), `${image} holds the TOTP secret in base32`);
    }

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
    // File by file, as GnuPG reads them: no secret-key packet on /boot, none in the clear on the
    // drive's public partition. The default passphrase is left to the counts above: the demo
    // kernel happens to hold it.
    const known = { passphrases: [], totp: [rawTotp] };
    assert.deepEqual(secretsFound(extFiles(disk, join(stateDir, "boot-files")), { ...known, noSecretKeyAtAll: true }), []);
    assert.ok(drive.publicFiles.some((f) => f.endsWith("pubkey.asc")), "the public partition's files were copied out for the scan");
    assert.deepEqual(secretsFound(drive.publicFiles, known), []);

    // A kernel update, as the OS would make it: a new file in /boot.
    execFileSync(toolPath("debugfs"), ["-w", "-R", `write ${join(stateDir, "pubring.gpg")} vmlinuz-update`, disk], { stdio: "ignore" });

    // Boot 3: owned — the code, no offer, and a verified boot into the demo OS.
    qemu = await boot();
    const shown = await qemu.waitFor(/TOTP: (\d{6}) \((\d+)s\)/, 240_000);
    const codes = codesAround(base32, Date.now());
    assert.ok(codes.includes(shown[1]!), `the header shows ${shown[1]}, oathtool says ${codes.join(" / ")} around now`);
    await qemu.waitFor(/INTEGRITY: OK/, 60_000);
    await qemu.waitFor(main, 60_000);
    assert.ok(!qemu.output().includes(NO_OWNER_TITLE) && !qemu.output().includes(INCOMPLETE_TITLE), "an owned machine is offered nothing");
    qemu.send("d");
    await qemu.waitFor(/\/boot integrity check failed/, 300_000);
    await qemu.waitFor(/vmlinuz-update/, 60_000);
    qemu.send("r");
    // Options → Update checksums and sign, with the key from the backup drive.
    await qemu.waitFor(main, 60_000);
    qemu.send("o");
    await qemu.waitFor(/Update checksums and sign/, 60_000);
    qemu.send("u");
    await qemu.waitFor(/Update checksums and sign \/boot/, 60_000);
    await qemu.waitFor(/\[y\/N\]/, 60_000);
    qemu.send("y");
    await qemu.waitFor(/Which entry should Default boot start\?/, 120_000);
    qemu.send("k");
    // The backup drive is offered once it is probed (a second or so after the question).
    await qemu.waitFor(/b {2}The key backup on \/dev\/sda/, 120_000);
    qemu.send("b");
    await qemu.waitFor(/Signing key passphrase \(it opens the backup drive too\)/, 60_000);
    qemu.send("12345678\r");
    await qemu.waitFor(/\/boot is signed by [0-9A-F]{40}/, 300_000);
    qemu.send("\r");
    await qemu.waitFor(/Return to main menu/, 60_000);
    qemu.send("r");
    await qemu.waitFor(main, 60_000);
    await defaultBootRefusesTheOs(qemu);
  } finally {
    await qemu?.stop();
    machine.remove();
  }
});
