// The disk unlock key setup transaction (runtime/disk/setup.ts) on swtpm 2.0 with real LUKS1
// and LUKS2 images: a refused recovery passphrase or an unconfirmed occupied slot changes
// nothing; a finished setup releases a key that opens both volumes at the next boot, and only
// to the right passphrase with PCR 5 unchanged; a power cut in a reseal leaves a key.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Tpm } from "../../../tpm/index.ts";
import { createNodeSys } from "../../../runtime/host/node/sys.ts";
import { luksInfo } from "../../../runtime/platform/luks.ts";
import { measureLuksHeaders } from "../../../runtime/disk/headers.ts";
import { diskKeySecret } from "../../../runtime/disk/key.ts";
import { DiskSetupError, OccupiedSlotsError, setUpDiskKey, type DiskSetup } from "../../../runtime/disk/setup.ts";
import { unsealSecret } from "../../../runtime/sealing/unseal.ts";
import { parseEventLog } from "../../../tpm/eventlog/parse.ts";
import { DISK_PASSPHRASES, keyOpens, makeLuksImage } from "../../support/luks.ts";
import { startSwtpm, type Swtpm } from "../../support/swtpm.ts";
import { rootedSys } from "../../../runtime/host/rooted.ts";

const sys = createNodeSys();
const enc = (s: string) => new TextEncoder().encode(s);
const { recovery: RECOVERY, key: PASSPHRASE, owner: OWNER, other: OTHER } = DISK_PASSPHRASES;
let dir: string;
let state: string;
let secretDir: string;
let sw: Swtpm;
let luks2: string;
let luks1: string;

/** A power-on: PCRs from zero, the modules measured into PCR 5 as PID 1 does, then (when set up) the headers into PCR 6. */
async function boot(module = "ext4 module bytes", headers?: string[]): Promise<void> {
  await sw?.stop();
  sw = await startSwtpm("2.0", state);
  await sw.withTpm(async (tpm) => {
    await tpm.extendDigest(5, createHash("sha256").update(module).digest());
    if (headers) await measureLuksHeaders(sys, tpm, headers, secretDir);
  });
}
const withTpm = <T>(f: (tpm: Tpm) => Promise<T>) => sw.withTpm(f);
const setup = (over: Partial<DiskSetup> = {}): DiskSetup => ({ devices: [luks2, luks1], recovery: enc(RECOVERY), passphrase: enc(PASSPHRASE), secretDir, ...over });

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "bootward-duk-setup-"));
  state = join(dir, "tpm");
  secretDir = join(dir, "secret");
  mkdirSync(state);
  mkdirSync(secretDir);
  luks2 = makeLuksImage(join(dir, "luks2.img"), 2, RECOVERY);
  luks1 = makeLuksImage(join(dir, "luks1.img"), 1, RECOVERY);
  writeFileSync(join(dir, "other"), OTHER);
  execFileSync("cryptsetup", ["luksAddKey", "--key-file", "-", "--key-slot", "3", luks2, join(dir, "other")], { input: RECOVERY });
  await boot();
  await withTpm((tpm) => tpm.reset({ ownerPassphrase: OWNER, primaryKeyType: "ecc" }));
});
after(async () => {
  await sw?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test("a wrong recovery passphrase stops with a sentence and changes nothing", async () => {
  const before = await luksInfo(sys, luks2);
  await assert.rejects(withTpm((tpm) => setUpDiskKey(sys, tpm, setup({ recovery: enc("not it") }), { ownerPassphrase: OWNER, log: null })), (e: unknown) => e instanceof DiskSetupError && /recovery passphrase opens no key slot of .*Nothing was changed/.test(e.message));
  assert.deepEqual((await luksInfo(sys, luks2)).slots, before.slots);
  await assert.rejects(withTpm((tpm) => setUpDiskKey(sys, tpm, setup({ passphrase: enc("too short") }), { ownerPassphrase: OWNER, log: null })), DiskSetupError);
});

test("an occupied slot is asked about before any change; kept when not confirmed; the key opens LUKS1 and LUKS2 at the next boot, only to the passphrase and unchanged PCR 5", async () => {
  await assert.rejects(withTpm((tpm) => setUpDiskKey(sys, tpm, setup(), { ownerPassphrase: OWNER, log: null })), (e: unknown) => e instanceof OccupiedSlotsError && e.slots.length === 1 && e.slots[0]!.slot === 3 && e.slots[0]!.device === luks2);
  assert.deepEqual((await luksInfo(sys, luks2)).slots, [0, 3], "nothing changed");
  const done = await withTpm((tpm) => setUpDiskKey(sys, tpm, setup({ wipe: [] }), { ownerPassphrase: OWNER, log: null }));
  assert.ok(keyOpens(luks2, OTHER, 3), "the slot the owner kept still opens");
  assert.deepEqual(execFileSync("ls", ["-A", secretDir]).toString(), "", "key file and header backups removed");
  const uuid = (d: string) => execFileSync("cryptsetup", ["luksUUID", d]).toString().trim();
  assert.equal(new TextDecoder().decode(done.lists.get("kexec_key_devices.txt")), `${luks2} ${uuid(luks2)}\n${luks1} ${uuid(luks1)}\n`);
  assert.match(new TextDecoder().decode(done.lists.get("kexec_lukshdr_hash.txt")), /^([0-9a-f]{64} {2}\/tmp\/lukshdr-\S+\n){2}$/);
  assert.equal(done.lists.get("kexec_key_lvm.txt"), null, "no volume group: a kexec_key_lvm.txt of an earlier setup is removed");
  assert.equal(done.lists.get("kexec_initrd_crypttab_overrides.txt"), null, "no overrides given: an earlier file is removed");
  assert.equal(done.sealed.recordProblem, undefined, "the sealed values are recorded, so a refusal can name the PCR");

  await boot(undefined, [luks2, luks1]);
  const got = await withTpm((tpm) => unsealSecret(tpm, sys, diskKeySecret(enc(PASSPHRASE)), { log: null }));
  assert.ok("secret" in got, JSON.stringify(got));
  assert.ok(keyOpens(luks2, got.secret, 31) && keyOpens(luks1, got.secret, 7), "the unsealed key opens both volumes");
  const wrong = await withTpm((tpm) => unsealSecret(tpm, sys, diskKeySecret(enc("not the passphrase")), { log: null }));
  assert.ok("failure" in wrong && wrong.failure.kind === "passphrase");

  await boot("a different module", [luks2, luks1]);
  // PID 1's record of what it extended into PCR 5 names the module.
  mkdirSync(join(dir, "tmp"), { recursive: true });
  writeFileSync(join(dir, "tmp/measured-modules.txt"), `${"ab".repeat(32)}  /lib/modules/evil.ko\n`);
  const moved = await withTpm((tpm) => unsealSecret(tpm, rootedSys(sys, dir), diskKeySecret(enc(PASSPHRASE)), { log: null }));
  assert.ok("failure" in moved && moved.failure.kind === "pcr" && moved.failure.pcrs.includes(5), JSON.stringify(moved));
  assert.match(moved.failure.explanation.join("\n"), /PCR 5 changed since the secret was sealed \(the kernel modules loaded differ\)\.\nKernel modules measured in this boot, in order: \/lib\/modules\/evil\.ko\./);

  // Reseal after the module change, cut after the old key was removed: the pending copy unseals.
  const cut = new Error("power cut");
  await assert.rejects(withTpm((tpm) => setUpDiskKey(sys, tpm, setup({ wipe: [] }), { ownerPassphrase: OWNER, log: null, onStep: (s) => { if (s === "main-evicted") throw cut; } })), (e) => e instanceof DiskSetupError && e.cause === cut);
  await boot("a different module", [luks2, luks1]);
  const after = await withTpm((tpm) => unsealSecret(tpm, sys, diskKeySecret(enc(PASSPHRASE)), { log: null }));
  assert.ok("secret" in after && after.source === "pending", JSON.stringify(after));
  assert.ok(keyOpens(luks2, after.secret, 31) && keyOpens(luks1, after.secret, 7));
  await boot("ext4 module bytes", [luks2, luks1]);
  const old = await withTpm((tpm) => unsealSecret(tpm, sys, diskKeySecret(enc(PASSPHRASE)), { log: null }));
  assert.ok("failure" in old, "the resealed key is refused with the old module");
});

test("TPM 1.2: the key sealed in NV index 3 (record in index 5) opens the volumes at the next boot, and not with a wrong passphrase", async () => {
  const state12 = join(dir, "tpm12");
  mkdirSync(state12);
  execFileSync("swtpm_setup", ["--tpm-state", state12, "--createek"], { stdio: "ignore" });
  let tpm12 = await startSwtpm("1.2", state12);
  try {
    await tpm12.withTpm((tpm) => tpm.reset({ ownerPassphrase: OWNER, primaryKeyType: "ecc" }));
    const done = await tpm12.withTpm((tpm) => setUpDiskKey(sys, tpm, setup({ wipe: [] }), { ownerPassphrase: OWNER, log: null }));
    assert.equal(done.sealed.recordProblem, undefined);
    await tpm12.stop();
    tpm12 = await startSwtpm("1.2", state12);
    await tpm12.withTpm((tpm) => measureLuksHeaders(sys, tpm, [luks2, luks1], secretDir));
    const got = await tpm12.withTpm((tpm) => unsealSecret(tpm, sys, diskKeySecret(enc(PASSPHRASE)), { log: null }));
    assert.ok("secret" in got, JSON.stringify(got));
    assert.ok(keyOpens(luks2, got.secret, 31) && keyOpens(luks1, got.secret, 7));
    const wrong = await tpm12.withTpm((tpm) => unsealSecret(tpm, sys, diskKeySecret(enc("not the passphrase")), { log: null }));
    assert.ok("failure" in wrong, JSON.stringify(wrong));
  } finally {
    await tpm12.stop();
  }
});

test("a seal refused after the slots changed (wrong owner passphrase) says the recovery passphrase still opens the disks and the old key no longer does", async () => {
  await boot(undefined, [luks2, luks1]);
  await assert.rejects(
    withTpm((tpm) => setUpDiskKey(sys, tpm, setup({ wipe: [] }), { ownerPassphrase: enc("not the owner passphrase"), log: null })),
    (e: unknown) => e instanceof DiskSetupError && new RegExp(`key slots of ${luks2}, ${luks1} were already changed: the disk recovery passphrase still opens them`).test(e.message),
  );
  assert.ok(keyOpens(luks2, RECOVERY, 0) && keyOpens(luks1, RECOVERY, 0), "the recovery slot was not touched");
  assert.deepEqual(execFileSync("ls", ["-A", secretDir]).toString(), "", "the key file was wiped");
});

test("on firmware that extends PCR 6 itself (a real SeaBIOS log: a separator in each of PCRs 0–7), the key sealed at setup unseals at the next boot, even when setup ran after the headers were measured", async () => {
  const log = parseEventLog(readFileSync(new URL("../../tpm/fixtures/seabios-tpm2.bin", import.meta.url)));
  /** A power-on of that firmware: its logged extends, then the modules, then (at Default boot) the headers. */
  async function firmwareBoot(headers: boolean): Promise<void> {
    await sw?.stop();
    sw = await startSwtpm("2.0", state);
    await sw.withTpm(async (tpm) => {
      for (const e of log.events) if (e.typeName !== "EV_NO_ACTION" && e.digests.has(0x0b)) await tpm.extendDigest(e.pcr, e.digests.get(0x0b)!);
      await tpm.extendDigest(5, createHash("sha256").update("ext4 module bytes").digest());
      if (headers) await measureLuksHeaders(sys, tpm, [luks2, luks1], secretDir);
    });
  }
  // Setup after a Default boot measured the headers: PCR 6 is no longer the firmware's value.
  await firmwareBoot(true);
  await withTpm((tpm) => setUpDiskKey(sys, tpm, setup({ wipe: [] }), { ownerPassphrase: OWNER, log }));
  await firmwareBoot(true);
  const got = await withTpm((tpm) => unsealSecret(tpm, sys, diskKeySecret(enc(PASSPHRASE)), { log }));
  assert.ok("secret" in got && got.source === "main", JSON.stringify(got));
  assert.ok(keyOpens(luks2, got.secret, 31) && keyOpens(luks1, got.secret, 7));
  // Without the header measurement PCR 6 holds only the separator: refused, and PCR 6 is named without blaming the firmware's log.
  await firmwareBoot(false);
  const unmeasured = await withTpm((tpm) => unsealSecret(tpm, sys, diskKeySecret(enc(PASSPHRASE)), { log }));
  assert.ok("failure" in unmeasured && unmeasured.failure.kind === "pcr", JSON.stringify(unmeasured));
  assert.deepEqual(unmeasured.failure.pcrs, [6]);
  assert.doesNotMatch(unmeasured.failure.explanation.join("\n"), /event log/);
});
