// End to end on the QEMU board from a blank machine: fresh swtpm state, an unsigned demo
// /boot, an empty ROM image. Boot 1 offers the OEM factory reset; with the defaults it clears
// the TPM (through the lockout hierarchy: SeaBIOS locks the platform one), makes a key, writes
// it into the ROM's CBFS, signs /boot and seals the TOTP secret, whose base32 text is read off
// the QR screen. Boot 2, same state: the keyring comes from the ROM, the header's code is
// oathtool's for that secret, nothing is offered, and Default boot verifies and kexecs into
// the demo OS. cbfstool then reads the keyring bootward wrote into the ROM.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { kernelImage } from "../../initrd/image.ts";
import { startQemu, type QemuBoard } from "../../initrd/qemu/board.ts";
import { getBoard } from "../../initrd/boards.ts";
import { DEMO_OS_MARKER, makeExt4Image } from "../../initrd/qemu/demo-disk.ts";
import { ensureTools, toolPath } from "../../initrd/host-tools.ts";
import { NO_OWNER_TITLE } from "../../runtime/flows/ownership.ts";
import { writeTestDemoTree } from "../support/signed-demo-boot.ts";

const repo = new URL("../../", import.meta.url).pathname;
const BOARD = "qemu-tpm2";
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** oathtool's codes for the 30 s window of `ms` and its neighbours. */
function codesAround(base32: string, ms: number): string[] {
  return [-30, 0, 30].map((d) => execFileSync("oathtool", ["--totp", "-b", `--now=@${Math.floor(ms / 1000) + d}`, base32], { encoding: "utf8" }).trim());
}

test(`${BOARD}: OEM reset from a blank machine → reboot → TOTP equals oathtool's, keyring from the ROM, Default boot kexecs`, { timeout: 900_000 }, async () => {
  ensureTools(["oathtool", "cbfstool"]);
  const stateDir = mkdtempSync(join(tmpdir(), "bootward-e2e-oem-"));
  const name = getBoard(BOARD).config.find(([k]) => k === "CONFIG_BOARD_NAME")![1];
  const main = new RegExp(`${escape(name)} \\| bootward Boot Menu`);
  const kernel = await kernelImage();
  const tree = join(stateDir, "tree");
  await writeTestDemoTree(tree);
  const disk = makeExt4Image({ tree, outFile: join(stateDir, "disk.img") }).path;
  const boot = () => startQemu({ board: BOARD, kernel: kernel.path, initramfs: join(repo, "dist", `initramfs-${BOARD}.cpio.xz`), disk, stateDir });
  let qemu: QemuBoard | undefined;
  try {
    // Boot 1: the offer, then the wizard with the defaults.
    qemu = await boot();
    await qemu.waitFor(new RegExp(NO_OWNER_TITLE), 240_000);
    await qemu.waitFor(/The firmware holds no OpenPGP public key/, 30_000);
    qemu.send("F");
    await qemu.waitFor(/takes ownership of the machine/, 30_000);
    qemu.send("y");
    await qemu.waitFor(/Use the default configuration\?/, 30_000);
    qemu.send("y");
    await qemu.waitFor(/Save a copy of the new signing key/, 30_000);
    qemu.send("n");
    const typed = await qemu.waitFor(/Or type this secret: ((?:[A-Z2-7]{4} ?){8})/, 300_000);
    const base32 = typed[1]!.replace(/ /g, "");
    await qemu.waitFor(/Scan the code, then press Enter/, 30_000);
    qemu.send("\r");
    await qemu.waitFor(/Re-Ownership: done/, 60_000);
    await qemu.waitFor(/Your public key is stored in the ROM/, 30_000);
    qemu.send("\r");
    await qemu.waitFor(main, 60_000);
    qemu.send("p");
    await qemu.exited;
    await qemu.stop();

    // cbfstool reads the keyring the wizard wrote into the board's flash.
    const listing = execFileSync(toolPath("cbfstool"), [join(stateDir, "flash.rom"), "print"], { encoding: "utf8" });
    assert.match(listing, /heads\/initrd\/\.gnupg\/pubring\.gpg/);

    // Boot 2: owned — the code, no offer, and a verified boot into the demo OS.
    qemu = await boot();
    const shown = await qemu.waitFor(/TOTP: (\d{6}) \((\d+)s\)/, 240_000);
    const codes = codesAround(base32, Date.now());
    assert.ok(codes.includes(shown[1]!), `the header shows ${shown[1]}, oathtool says ${codes.join(" / ")} around now`);
    await qemu.waitFor(/INTEGRITY: OK/, 30_000);
    await qemu.waitFor(main, 30_000);
    assert.ok(!qemu.output().includes(NO_OWNER_TITLE), "an owned machine is not offered the reset");
    qemu.send("d");
    await qemu.waitFor(new RegExp(escape(DEMO_OS_MARKER)), 300_000);
    const exit = await Promise.race([qemu.exited, new Promise<"hung">((r) => setTimeout(() => r("hung"), 120_000))]);
    assert.notEqual(exit, "hung", "the demo OS powers off after booting");
  } finally {
    await qemu?.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
});
