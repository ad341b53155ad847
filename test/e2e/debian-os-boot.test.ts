// End to end: bootward's Default boot of a signed /boot whose entry is a real Debian system:
// the pinned kernel with Debian 12's own initramfs (initrd/os-initramfs.ts) and its root on the
// LUKS2 root disk, attached as a second disk. No disk unlock key is sealed, so bootward kexecs
// the OS initrd as it is and Debian's cryptroot asks for the recovery passphrase on the
// console. This is the path the disk unlock key shortens: the base for the test in which
// bootward seals the key and appends the key cpio itself.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { kernelImage } from "../../initrd/image.ts";
import { processAlive, startQemu } from "../../initrd/qemu/board.ts";
import { LUKS_ROOT_CMDLINE, LUKS_ROOT_MAPPING, LUKS_ROOT_MARKER, LUKS_ROOT_SERIAL } from "../../initrd/qemu/luks-root-disk.ts";
import { makeDebianOsBoot, type DebianOsBoot } from "../support/debian-os.ts";

const repo = new URL("../../", import.meta.url).pathname;
const BOARD = "qemu-tpm2";
const RECOVERY = "debian recovery passphrase";

let dir: string;
let kernel: string;
let fixture: DebianOsBoot;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "bootward-debian-os-"));
  kernel = (await kernelImage()).path;
  fixture = await makeDebianOsBoot(join(dir, "fixture"), { recoveryPassphrase: RECOVERY, boardInitramfs: join(repo, "dist", `initramfs-${BOARD}.cpio.xz`) });
});

after(() => rmSync(dir, { recursive: true, force: true }));

test("Default boot kexecs Debian's initramfs; its cryptroot asks for the passphrase and mounts the LUKS root", { timeout: 900_000 }, async (t) => {
  const stateDir = join(dir, "board");
  cpSync(fixture.tpmState, join(stateDir, "tpm2"), { recursive: true });
  const qemu = await startQemu({ board: BOARD, kernel, initramfs: fixture.initramfs, disk: fixture.bootDisk, osDisk: fixture.osDisk, stateDir });
  try {
    await qemu.waitFor(/bootward Boot Menu/, 300_000);
    await qemu.waitFor(/\| HOTP: /, 60_000);
    const pressed = qemu.elapsedMs();
    qemu.send("d");
    const seen = await qemu.waitFor(new RegExp(`Please unlock disk ${LUKS_ROOT_MAPPING}: |integrity check failed|The OS did not start|unexpected error`), 300_000);
    assert.match(seen[0], /Please unlock disk/, `bootward did not reach Debian's prompt; console tail:\n${qemu.output().slice(-3000)}`);
    assert.match(qemu.output(), /bootward: booting bootward demo OS/, "the prompt came without bootward's kexec");
    const asked = qemu.elapsedMs();
    qemu.send(`${RECOVERY}\n`);
    await qemu.waitFor(new RegExp(LUKS_ROOT_MARKER), 180_000);
    t.diagnostic(`d pressed → Debian's passphrase prompt ${((asked - pressed) / 1000).toFixed(1)} s; passphrase → root ${((qemu.elapsedMs() - asked) / 1000).toFixed(1)} s`);
    await qemu.waitFor(new RegExp(`bootward-demo-os: root: /dev/mapper/${LUKS_ROOT_MAPPING} ext4`), 60_000);
    // The names the disk unlock key's device list will use: /boot, the flash, then the OS disk.
    await qemu.waitFor(new RegExp(`bootward-demo-os: disk: vdc serial=${LUKS_ROOT_SERIAL}`), 60_000);
    const cmdline = await qemu.waitFor(/bootward-demo-os: cmdline: ([^\r\n]*)\r?\n/, 60_000);
    assert.ok(cmdline[1]!.split(" ").includes(LUKS_ROOT_CMDLINE), `the signed entry's root is not on the OS's command line: ${cmdline[1]}`);
    await qemu.waitFor(/bootward-demo-os: powering off/, 60_000);
    const exit = await Promise.race([qemu.exited, sleep(120_000, "hung" as const, { ref: false })]);
    assert.notEqual(exit, "hung", "the demo OS did not power off");
    assert.equal(processAlive(qemu.pid), false);
  } finally {
    await qemu.stop();
  }
});
