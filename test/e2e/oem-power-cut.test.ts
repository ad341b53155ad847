// Power cuts during the OEM reset on the QEMU board: the wizard runs from a blank machine and
// QEMU is quit (the guest gets no shutdown, its caches are lost) as soon as the screen shows
// each step: key generation, the backup drive, the ROM write, signing /boot. Every next boot
// must first say "Reset incomplete — start again" naming that step, and nothing secret may be
// on /boot or the USB drive in the clear. Starting again from that screen each time, the last
// run finishes and restarts the machine, whose next boot shows the code and kexecs the
// verified demo OS. (The Node test cuts at every step boundary, the TPM reset and the TOTP
// seal included.)
import { test } from "node:test";
import assert from "node:assert/strict";
import type { QemuBoard } from "../../initrd/qemu/board.ts";
import { DEMO_OS_MARKER } from "../../initrd/qemu/demo-disk.ts";
import { answerDefaultsWithBackupDrive, BOARD, blankMachine, escape } from "./blank-machine.ts";
import { INCOMPLETE_TITLE, NO_OWNER_TITLE } from "../../runtime/flows/ownership.ts";
import { secretsInClear } from "../support/backup-drive.ts";


/** Where to cut: the progress line the wizard shows as the step starts, and how the next boot names the step. */
const CUTS = [
  { shown: /Generating the ed25519 signing key/, named: /stopped while making the signing key/ },
  { shown: /Writing the key backup to \/dev\/sda/, named: /stopped while writing the key backup/ },
  { shown: /Writing the keyring to the ROM/, named: /stopped while writing the keyring to the ROM/ },
  { shown: /Signing \/boot/, named: /stopped while signing \/boot/ },
];

test(`${BOARD}: a power cut at each step of the OEM reset → the next boot says "reset incomplete", starting again finishes it`, { timeout: 1_800_000 }, async (t) => {
  const machine = await blankMachine("bootward-e2e-cut-");
  const { main, disk, usb, boot } = machine;
  // The demo kernel happens to hold "12345678"; what counts is that no new copy appears.
  const before = secretsInClear([disk, usb]);
  const assertNoSecretInClear = (when: string) => assert.deepEqual(secretsInClear([disk, usb]), before, `a secret is in the clear on /boot or the USB drive ${when}`);
  let qemu: QemuBoard | undefined;
  try {
    qemu = await boot();
    await qemu.waitFor(new RegExp(NO_OWNER_TITLE), 240_000);
    await qemu.waitFor(/Continue to the main menu/, 30_000);
    for (const cut of CUTS) {
      qemu.send("F");
      await answerDefaultsWithBackupDrive(qemu);
      // After the first cut the TPM has the cut run's owner, and SeaBIOS locked the platform hierarchy.
      const next = await qemu.waitFor(new RegExp(`Current TPM owner passphrase|${cut.shown.source}`), 600_000);
      if (next[0].startsWith("Current TPM owner passphrase")) {
        qemu.send("12345678\r");
        await qemu.waitFor(cut.shown, 600_000);
      }
      const shownAt = qemu.elapsedMs();
      await qemu.stop();
      t.diagnostic(`cut at "${cut.shown.source}" ${shownAt} ms after power on`);
      assertNoSecretInClear(`after the cut at "${cut.shown.source}"`);

      qemu = await boot();
      await qemu.waitFor(new RegExp(INCOMPLETE_TITLE), 240_000);
      await qemu.waitFor(cut.named, 30_000);
      await qemu.waitFor(/Continue to the main menu/, 30_000);
    }
    // The last start again runs to the end; the machine then boots the verified demo OS.
    qemu.send("F");
    await answerDefaultsWithBackupDrive(qemu);
    const next = await qemu.waitFor(/Current TPM owner passphrase|Or type this secret/, 900_000);
    if (next[0].startsWith("Current TPM owner passphrase")) qemu.send("12345678\r");
    await qemu.waitFor(/Scan the code, then press Enter/, 900_000);
    qemu.send("\r");
    await qemu.waitFor(/Re-Ownership: done/, 60_000);
    await qemu.waitFor(/Press Enter to restart/, 30_000);
    qemu.send("\r");
    await qemu.exited;
    await qemu.stop();
    assertNoSecretInClear("after the reset finished");
    // Owned now: the code unseals, nothing is offered, Default boot verifies and kexecs.
    qemu = await boot();
    await qemu.waitFor(/TOTP: \d{6} \(\d+s\)/, 240_000);
    await qemu.waitFor(main, 30_000);
    assert.ok(!qemu.output().includes(INCOMPLETE_TITLE) && !qemu.output().includes(NO_OWNER_TITLE), "nothing is offered once the reset finished");
    qemu.send("d");
    await qemu.waitFor(new RegExp(escape(DEMO_OS_MARKER)), 300_000);
  } finally {
    await qemu?.stop();
    machine.remove();
  }
});
