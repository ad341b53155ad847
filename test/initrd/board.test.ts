import { test, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildInitramfs, kernelImage } from "../../initrd/image.ts";
import { makeDemoDisk, DEMO_OS_MARKER } from "../../initrd/qemu/demo-disk.ts";
import { startQemu, processAlive, BoardRunError, type QemuBoard } from "../../initrd/qemu/board.ts";
import { buildStandinInit } from "./standin.ts";

const dir = mkdtempSync(join(tmpdir(), "bootward-board-"));
const boards: QemuBoard[] = [];
after(async () => {
  await Promise.all(boards.map((b) => b.stop()));
  rmSync(dir, { recursive: true, force: true });
});

const prepared = new Map<string, { kernel: string; initramfs: string }>();
async function prepare(board: string) {
  let p = prepared.get(board);
  if (p === undefined) {
    const kernel = await kernelImage();
    const initramfs = await buildInitramfs({ board, bootwardBinary: buildStandinInit(), outFile: join(dir, `${board}.cpio.xz`) });
    p = { kernel: kernel.path, initramfs: initramfs.path };
    prepared.set(board, p);
  }
  return p;
}

function assertGone(b: QemuBoard) {
  assert.ok(!processAlive(b.pid), `QEMU (pid ${b.pid}) is still running`);
  assert.ok(!processAlive(b.swtpm.pid), `swtpm (pid ${b.swtpm.pid}) is still running`);
  assert.ok(!existsSync(b.swtpm.ctrlSocket), "the swtpm control socket was left behind");
}

test("qemu-tpm2 boots the stand-in /init with a TPM 2.0, modules, kexec and cryptsetup, then powers off", { timeout: 240_000 }, async (t) => {
  const { kernel, initramfs } = await prepare("qemu-tpm2");
  const disk = await makeDemoDisk({ outFile: join(dir, "disk.img") });
  const b = await startQemu({ board: "qemu-tpm2", kernel, initramfs, disk: disk.path, stateDir: join(dir, "state-tpm2") });
  boards.push(b);
  await b.waitFor(/bootward-standin: init started as pid 1\r?\n/, 120_000);
  const firstLineMs = b.elapsedMs();
  await b.waitFor(/bootward-standin: tpm0=yes tpmrm0=yes/, 10_000);
  await b.waitFor(/tpm_version_major=2/, 10_000);
  await b.waitFor(/modprobe virtio_blk rc=0 vda=yes/, 60_000);
  await b.waitFor(/modprobe ext4 rc=0/, 60_000);
  await b.waitFor(/kexec-tools 2\.0\.\d+[\s\S]*kexec rc=0/, 60_000);
  await b.waitFor(/cryptsetup 2\.\d+\.\d+[\s\S]*cryptsetup rc=0/, 60_000);
  await b.waitFor(/bootward-standin: powering off/, 10_000);
  const exit = await b.exited;
  assert.equal(exit.code, 0, `QEMU exit ${JSON.stringify(exit)}`);
  await b.stop();
  assertGone(b);
  t.diagnostic(`QEMU start → stand-in first line: ${firstLineMs} ms (${b.accel})`);
});

test("from the board, kexec boots the demo disk's Debian kernel into the demo OS", { timeout: 300_000 }, async (t) => {
  const { kernel, initramfs } = await prepare("qemu-tpm2");
  const disk = await makeDemoDisk({ outFile: join(dir, "disk-kexec.img") });
  const b = await startQemu({
    board: "qemu-tpm2", kernel, initramfs, disk: disk.path, stateDir: join(dir, "state-kexec"), appendCmdline: "standin_kexec",
  });
  boards.push(b);
  await b.waitFor(/mount \/boot rc=0/, 180_000);
  await b.waitFor(/kexec -l rc=0/, 60_000);
  const kexecAt = b.elapsedMs();
  await b.waitFor(new RegExp(`${DEMO_OS_MARKER} \\(kernel ${disk.kernelRelease}\\)`), 120_000);
  t.diagnostic(`kexec -l done → demo OS line: ${b.elapsedMs() - kexecAt} ms`);
  await b.waitFor(/bootward-demo-os: powering off/, 60_000);
  assert.equal((await b.exited).code, 0);
  await b.stop();
  assertGone(b);
});

test("qemu-tpm1 gives the guest a TPM 1.2 (/dev/tpm0, no resource manager)", { timeout: 240_000 }, async (t) => {
  const { kernel, initramfs } = await prepare("qemu-tpm1");
  const b = await startQemu({ board: "qemu-tpm1", kernel, initramfs, stateDir: join(dir, "state-tpm1") });
  boards.push(b);
  await b.waitFor(/bootward-standin: tpm0=yes tpmrm0=no/, 120_000);
  await b.waitFor(/tpm_version_major=1/, 10_000);
  const state = await b.waitFor(/tpm1: enabled=(\S+) active=(\S+) owned=(\S+)/, 10_000);
  t.diagnostic(`fresh swtpm TPM 1.2: enabled=${state[1]} active=${state[2]} owned=${state[3]}`);
  await b.stop();
  assertGone(b);
});

test("stop() ends a board that is still running, and waitFor reports QEMU's exit with the console tail", { timeout: 240_000 }, async () => {
  const { kernel, initramfs } = await prepare("qemu-tpm2");
  const b = await startQemu({ board: "qemu-tpm2", kernel, initramfs, stateDir: join(dir, "state-stop") });
  boards.push(b);
  await b.waitFor(/bootward-standin: init started/, 120_000);
  const late = b.waitFor(/this line never appears/, 120_000);
  await b.stop();
  await assert.rejects(late, (e: unknown) => e instanceof BoardRunError && /QEMU exited before/.test(e.message) && /bootward-standin/.test(e.message));
  assertGone(b);
});

test("a missing kernel is refused before anything starts", async () => {
  await assert.rejects(
    startQemu({ board: "qemu-tpm2", kernel: join(dir, "nope"), initramfs: join(dir, "nope"), stateDir: join(dir, "state-bad") }),
    BoardRunError,
  );
});
