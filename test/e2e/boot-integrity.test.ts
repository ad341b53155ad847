// End to end: /boot integrity on the QEMU board (qemu-tpm2). The demo /boot is signed on the
// host with an in-memory key and the TPM rollback counter, in the swtpm state the board then
// boots with; the owner's public key is the ROM keyring in the initramfs. "Default boot"
// verifies the signed set and kexecs the Debian kernel into the demo OS; each tampered
// variant is refused naming the failed check and the file, and nothing is kexec'd.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { cpSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { kernelImage } from "../../initrd/image.ts";
import { startQemu, type QemuBoard } from "../../initrd/qemu/board.ts";
import { keepConsole, poweredOff } from "./console.ts";
import { DEMO_OS_MARKER } from "../../initrd/qemu/demo-disk.ts";
import { readKeyring } from "../../gpg/verify.ts";
import { BootVerifyError, VerifiedBoot, verifyBoot } from "../../runtime/boot/index.ts";
import { createNodeSys } from "../../runtime/host/node/sys.ts";
import { startSwtpm } from "../support/swtpm.ts";
import { initramfsWithKeyring, makeSignedDemoBoot, type SignedDemoBoot, type Variant } from "../support/signed-demo-boot.ts";

const repo = new URL("../../", import.meta.url).pathname;
const BOARD = "qemu-tpm2";
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
/** The failure screen names files by their full path: "./vmlinuz" of the lists is /boot/vmlinuz. */
const shownPath = (path: string) => escape(`/boot${path.slice(1)}`);
/** What the firmware shows instead of booting: a test of the good set stops at the first. */
const FIRMWARE_REFUSALS = ["bootward hit an unexpected error", "The OS did not start", "/boot integrity check failed", "/boot is not available"].map(escape);

let dir: string;
let demo: SignedDemoBoot;
let initramfs: string;
let kernel: string;
let fixtureMs: number;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "bootward-e2e-integrity-"));
  const started = Date.now();
  demo = await makeSignedDemoBoot(join(dir, "demo"));
  initramfs = initramfsWithKeyring(join(repo, "dist", `initramfs-${BOARD}.cpio.xz`), demo.owner.publicArmored, join(dir, "initramfs.cpio.xz"));
  kernel = (await kernelImage()).path;
  fixtureMs = Date.now() - started;
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** A copy of the TPM state the host signed with, so every board starts from that state. */
function stateDirFor(name: string): string {
  const stateDir = join(dir, "boards", name);
  mkdirSync(stateDir, { recursive: true });
  cpSync(demo.tpmState, join(stateDir, "tpm2"), { recursive: true });
  return stateDir;
}

test("on the host, against the TPM state the boards boot with: the good set verifies, each variant fails its check", async (t) => {
  t.diagnostic(`signing, ${demo.variants.length} variants and their disks: ${fixtureMs} ms`);
  const sys = createNodeSys();
  const keys = await readKeyring(demo.owner.publicArmored);
  const swtpm = await startSwtpm("2.0", join(stateDirFor("host-check"), "tpm2"));
  try {
    for (const v of demo.variants) {
      const outcome = await swtpm.withTpm((tpm) => verifyBoot(sys, { bootDir: v.tree, keys, tpm })).then(
        (verified) => verified,
        (error: unknown) => error,
      );
      if (v.expected === null) {
        assert.ok(outcome instanceof VerifiedBoot, `${v.name}: ${String(outcome)}`);
        assert.equal(outcome.defaultChoice?.index, 1);
        continue;
      }
      assert.ok(outcome instanceof BootVerifyError, `${v.name}: expected a refusal, got ${String(outcome)}`);
      assert.equal(outcome.check, v.expected.check, `${v.name}: ${outcome.message}`);
      if (v.expected.file) assert.deepEqual(outcome.files[v.expected.file.kind], [v.expected.file.path], `${v.name}: ${outcome.message}`);
    }
  } finally {
    await swtpm.stop();
  }
});

async function bootToMenu(v: Variant): Promise<QemuBoard> {
  const qemu = await startQemu({ board: BOARD, kernel, initramfs, disk: v.disk, stateDir: stateDirFor(v.name) });
  await qemu.waitFor(/bootward Boot Menu/, 300_000);
  await qemu.waitFor(/\| HOTP: /, 60_000);
  return qemu;
}


// One board at a time: two at once (one TCG thread each on two cores) measured no faster.
describe(`${BOARD}: Default boot of a signed demo /boot`, () => {
  test("the good set verifies and kexecs the Debian kernel into the demo OS with the signed command line", { timeout: 900_000 }, async (t) => {
    const v = demo.variants.find((x) => x.expected === null)!;
    const qemu = await bootToMenu(v);
    try {
      const pressed = qemu.elapsedMs();
      qemu.send("d");
      const booted = `${DEMO_OS_MARKER} (kernel ${demo.kernelRelease})`;
      const seen = await qemu.waitFor(new RegExp([escape(booted), ...FIRMWARE_REFUSALS].join("|")), 300_000);
      assert.equal(seen[0], booted, `the firmware did not boot the demo OS; console tail:\n${qemu.output().slice(-3000)}`);
      assert.match(qemu.output(), /bootward: booting bootward demo OS/);
      t.diagnostic(`d pressed → demo OS running: ${qemu.elapsedMs() - pressed} ms (${qemu.accel})`);
      const cmdline = await qemu.waitFor(/bootward-demo-os: cmdline: ([^\r\n]*)\r?\n/, 60_000);
      assert.equal(cmdline[1]!.trim(), demo.defaultAppend);
      await qemu.waitFor(/bootward-demo-os: powering off/, 60_000);
      await poweredOff(qemu, "the demo OS powered off");
      assert.doesNotMatch(qemu.output(), /integrity check failed/);
    } finally {
      await qemu.stop();
      keepConsole(qemu, "boot-integrity", v.name);
    }
  });

  const tampered = ["kernel-byte", "file-added", "file-removed", "grub-edited", "other-key", "replayed"];
  for (const name of tampered) {
    test(`${name}: refused with the expected check and file, nothing kexec'd, r and p power off`, { timeout: 900_000 }, async (t) => {
      const v = demo.variants.find((x) => x.name === name)!;
      const expected = v.expected!;
      const qemu = await bootToMenu(v);
      try {
        const pressed = qemu.elapsedMs();
        qemu.send("d");
        await qemu.waitFor(/\/boot integrity check failed/, 300_000);
        t.diagnostic(`d pressed → failure shown: ${qemu.elapsedMs() - pressed} ms`);
        await qemu.waitFor(new RegExp(`Failed check: ${escape(expected.check)}\\b`), 60_000);
        if (expected.file) await qemu.waitFor(new RegExp(`${expected.file.kind}: ${shownPath(expected.file.path)}\\b`), 60_000);
        await qemu.waitFor(/Exit to recovery shell/, 60_000);
        qemu.send("r");
        await qemu.waitFor(/bootward Boot Menu/, 60_000);
        qemu.send("p");
        await poweredOff(qemu, '"r" then "p"');
        assert.doesNotMatch(qemu.output(), /bootward: booting/, `bootward started a kexec although /boot was ${name}`);
        assert.ok(!qemu.output().includes(DEMO_OS_MARKER), `the demo OS ran although /boot was ${name}`);
      } finally {
        await qemu.stop();
        keepConsole(qemu, "boot-integrity", name);
      }
    });
  }
});
