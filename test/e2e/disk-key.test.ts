// End to end on the QEMU board: the disk unlock key with a real distribution initramfs. The
// demo /boot holds the pinned Debian kernel and Debian 12's own initramfs (mkinitramfs with
// cryptsetup-initramfs, initrd/os-initramfs.ts) for an OS whose root is on a LUKS2 disk, named
// root_crypt in its crypttab as a Debian installer names it (so Heads' generic luks-<UUID>
// lines would not do). The host owns the TPM and signs /boot, as an OEM reset would have; the
// owner's secret key is a file in the firmware's initramfs, since signing needs one.
//
// Boot 1: Options → TPM/TOTP/HOTP → d: entry 1 as default, the key file, "add a disk key?",
// the recovery passphrase, the key's passphrase twice, the owner passphrase; the firmware
// reads root_crypt out of the zstd initrd, adds the key to slot 31, seals it, signs /boot.
// Boot 2: Default boot asks the key's passphrase and kexecs Debian's initramfs, which opens
// root_crypt with the appended key: nobody is asked for a passphrase.
// Then a key slot is added on the host (a rewritten header, PCR 6). Boot 3: the key is not
// released, the screen says the headers changed, and the recovery path boots: Debian asks,
// the recovery passphrase opens the root.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { QemuBoard } from "../../initrd/qemu/board.ts";
import { keepConsole, poweredOff } from "./console.ts";
import { osInitramfs } from "../../initrd/os-initramfs.ts";
import { LUKS_ROOT_MARKER, LUKS_ROOT_UUID, makeLuksRootDisk } from "../../initrd/qemu/luks-root-disk.ts";
import { ensureTools, toolPath } from "../../initrd/host-tools.ts";
import { BOARD, BOOT_MS, DUK_PASSPHRASE, MAPPING, RECOVERY, diskKeyBoard, escape, setUpInFirmware, type DiskKeyBoard } from "./disk-key-board.ts";

let dir: string;
let rootDisk: string;
let board: DiskKeyBoard;

before(async () => {
  ensureTools(["cryptsetup", "mkfs.ext4", "debugfs"]);
  dir = mkdtempSync(join(tmpdir(), "bootward-e2e-disk-key-"));
  const os = await osInitramfs({ crypttab: [`${MAPPING} UUID=${LUKS_ROOT_UUID} none luks,discard,initramfs`] });
  rootDisk = makeLuksRootDisk({ outFile: join(dir, "root.img"), recoveryPassphrase: RECOVERY }).path;
  // root= names the OS's own mapping, so only its crypttab line (not Heads' generic luks-<UUID>) opens the root.
  board = await diskKeyBoard(dir, { osInitrd: os.path, rootArg: `root=/dev/mapper/${MAPPING}`, rootDisk });
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Debian's initramfs opened root_crypt and ran the root's /sbin/init, which powers off. */
async function reachRoot(qemu: QemuBoard): Promise<void> {
  await qemu.waitFor(new RegExp(escape(LUKS_ROOT_MARKER)), BOOT_MS);
  await qemu.waitFor(new RegExp(`bootward-demo-os: root: /dev/mapper/${MAPPING} ext4`), 60_000);
  await qemu.waitFor(/bootward-demo-os: powering off/, 60_000);
  await poweredOff(qemu, "the OS powered off");
}

test(`${BOARD}: disk key set up in the firmware, then Default boot opens the LUKS root through Debian's own initramfs without a passphrase; a rewritten header releases nothing and the recovery passphrase boots`, { timeout: 1_800_000 }, async (t) => {
  // Boot 1: set the key up from the TPM options.
  await setUpInFirmware(board, t, "disk-key", /\/dev\/vd[a-z]/);
  // What the firmware signed: the OS initrd's own name for the volume, pointed at the key.
  assert.equal(board.bootFile("kexec_initrd_crypttab_overrides.txt"), `/cryptroot/crypttab:${MAPPING} UUID=${LUKS_ROOT_UUID} /secret.key luks,discard,initramfs\n`);
  assert.match(execFileSync(toolPath("cryptsetup"), ["luksDump", rootDisk], { encoding: "utf8" }), /\n {2}31: luks2\n/, "the key is in slot 31");

  // Boot 2: Default boot with the key.
  let qemu = await board.boot();
  try {
    const pressed = qemu.elapsedMs();
    qemu.send("d");
    await qemu.waitFor(/Disk unlock key passphrase \(try 1 of 3/, BOOT_MS);
    qemu.send(`${DUK_PASSPHRASE}\r`);
    await reachRoot(qemu);
    t.diagnostic(`boot 2: d pressed → LUKS root mounted ${qemu.elapsedMs() - pressed} ms`);
    assert.match(qemu.output(), new RegExp(`cryptsetup: ${MAPPING}: set up successfully`));
    assert.doesNotMatch(qemu.output(), /Please unlock disk/, "the key was released, yet Debian's cryptroot asked for a passphrase");
  } finally {
    await qemu.stop();
    keepConsole(qemu, "disk-key", "2-key");
  }

  // A rewritten header: someone's own key in another slot.
  const extra = join(dir, "extra.key");
  writeFileSync(extra, "an attacker's passphrase");
  execFileSync(toolPath("cryptsetup"), ["luksAddKey", "--batch-mode", "--pbkdf", "pbkdf2", "--pbkdf-force-iterations", "1000", "--key-file", "-", rootDisk, extra], { input: RECOVERY });

  // Boot 3: nothing released, the reason shown, the recovery passphrase boots.
  qemu = await board.boot();
  try {
    qemu.send("d");
    await qemu.waitFor(/LUKS headers of the disk changed since the disk unlock key was sealed/, BOOT_MS);
    await qemu.waitFor(/Boot anyway and type the disk recovery passphrase/, 60_000);
    assert.doesNotMatch(qemu.output(), /Disk unlock key passphrase \(try/, "a passphrase was asked although the headers changed");
    qemu.send("y");
    await qemu.waitFor(new RegExp(`Please unlock disk ${MAPPING}: `), BOOT_MS);
    qemu.send(`${RECOVERY}\n`);
    await reachRoot(qemu);
  } finally {
    await qemu.stop();
    keepConsole(qemu, "disk-key", "3-recovery");
  }
});
