// The disk unlock key end to end on the host: swtpm (restarted between "boots", its state
// kept, so PCRs start from zero as on a power-on), real cryptsetup on LUKS1 and LUKS2 images.
// Each refusal is performed: wrong or no passphrase, a module that changed (PCR 5), a
// rewritten header (PCR 6), PCR 4 moved for the OS; and tpm2-tools seals as Heads' tpmr does.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createNodeSys } from "../../../runtime/host/node/sys.ts";
import type { Tpm } from "../../../tpm/index.ts";
import { addKey, testPassphrase } from "../../../runtime/platform/luks.ts";
import { luksHeaderText, measureLuksHeaders } from "../../../runtime/disk/headers.ts";
import { DISK_KEY_BYTES, DISK_KEY_SLOT, DiskKeyUnsealError, unsealDiskKey } from "../../../runtime/disk/key.ts";
import { sealDiskKey } from "../../../runtime/disk/setup.ts";
import { extendPcr4 } from "../../../runtime/measure/pcr4.ts";
import { MODULE_PCR } from "../../../runtime/pid1/modules.ts";
import { startSwtpm, type Swtpm } from "../../support/swtpm.ts";
import { makeLuksImage } from "../../support/luks.ts";

const sys = createNodeSys();
const RECOVERY = "disk recovery passphrase";
const PASSPHRASE = "disk unlock passphrase";
const OWNER = "owner passphrase";
let dir: string;
let state: string;
let sw: Swtpm;
let devices: string[];
let key: Uint8Array;
let signedHeaders: string;

const sha256 = (b: string | Uint8Array) => createHash("sha256").update(b).digest();

/** A power-on: a fresh TPM start (PCRs from zero), then the modules measured as PID 1 does. */
async function boot(module = "ext4 module bytes"): Promise<void> {
  await sw?.stop();
  sw = await startSwtpm("2.0", state);
  await sw.withTpm((tpm) => tpm.extendDigest(MODULE_PCR, sha256(module)));
}

const withTpm = <T>(f: (tpm: Tpm) => Promise<T>) => sw.withTpm(f);
const unseal = (tpm: Tpm, passphrase: string) => unsealDiskKey(tpm, sys, new TextEncoder().encode(passphrase), { log: null });
/** Refused because exactly these PCRs moved, as the failure screen will name them. */
const movedPcrs = (pcrs: number[]) => (e: unknown) => e instanceof DiskKeyUnsealError && e.failure.kind === "pcr" && e.failure.pcrs.join() === pcrs.join();
const wrongPassphrase = (e: unknown) => e instanceof DiskKeyUnsealError && e.failure.kind === "passphrase";

const luksImage = (version: 1 | 2) => makeLuksImage(join(dir, `luks${version}.img`), version, RECOVERY);

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "bootward-duk-"));
  state = join(dir, "tpm");
  execFileSync("mkdir", [state]);
  devices = [luksImage(2), luksImage(1)];
  await boot();
  await withTpm((tpm) => tpm.reset({ ownerPassphrase: OWNER, primaryKeyType: "ecc" }));
  // Setup, as kexec-seal-key.sh orders it: the key into each volume's slot, then the headers measured, then the seal.
  key = sys.randomBytes(DISK_KEY_BYTES);
  const keyFile = join(dir, "secret.key");
  writeFileSync(keyFile, key, { mode: 0o400 });
  await addKey(sys, devices[0]!, new TextEncoder().encode(RECOVERY), keyFile, DISK_KEY_SLOT[2]);
  await addKey(sys, devices[1]!, new TextEncoder().encode(RECOVERY), keyFile, DISK_KEY_SLOT[1]);
  rmSync(keyFile);
  signedHeaders = await luksHeaderText(sys, devices, dir);
  await withTpm((tpm) => sealDiskKey(tpm, sys, key, new TextEncoder().encode(PASSPHRASE), signedHeaders, { log: null, ownerPassphrase: OWNER }));
});
after(async () => {
  await sw.stop();
  rmSync(dir, { recursive: true, force: true });
});

test("next boot: the headers measured into PCR 6 match the signed text, the passphrase unseals the key, and the key opens both volumes", async () => {
  await boot();
  const unsealed = await withTpm(async (tpm) => {
    assert.equal(await measureLuksHeaders(sys, tpm, devices, dir), signedHeaders);
    return unseal(tpm, PASSPHRASE);
  });
  assert.deepEqual(unsealed, key);
  assert.equal(await testPassphrase(sys, devices[0]!, unsealed, DISK_KEY_SLOT[2]), true);
  assert.equal(await testPassphrase(sys, devices[1]!, unsealed, DISK_KEY_SLOT[1]), true);
});

test("a wrong passphrase, or none, is refused as a passphrase failure", async () => {
  await boot();
  await withTpm(async (tpm) => {
    await measureLuksHeaders(sys, tpm, devices, dir);
    await assert.rejects(unseal(tpm, "not the passphrase"), wrongPassphrase);
    await assert.rejects(unseal(tpm, ""), (e: unknown) => wrongPassphrase(e) && /needs a passphrase/.test((e as Error).message));
  });
});

test("PCR 4 moved for the OS: even the right passphrase is refused (the OS cannot unseal the key)", async () => {
  await boot();
  await withTpm(async (tpm) => {
    await measureLuksHeaders(sys, tpm, devices, dir);
    await extendPcr4(tpm, "generic");
    await assert.rejects(unseal(tpm, PASSPHRASE), movedPcrs([4]));
  });
});

test("a module that changed (PCR 5) → refused; the headers not measured (PCR 6 still zero) → refused", async () => {
  await boot("ext4 module bytes, patched");
  await withTpm(async (tpm) => {
    await measureLuksHeaders(sys, tpm, devices, dir);
    await assert.rejects(unseal(tpm, PASSPHRASE), movedPcrs([5]));
  });
  await boot();
  await assert.rejects(withTpm((tpm) => unseal(tpm, PASSPHRASE)), movedPcrs([6]));
});

test("a rewritten header: its text differs from the signed one (checked before any unseal), and PCR 6 no longer unseals", async () => {
  const saved = `${devices[0]}.saved`;
  execFileSync("cp", [devices[0]!, saved]);
  const extra = join(dir, "extra");
  writeFileSync(extra, "an attacker's own passphrase");
  execFileSync("cryptsetup", ["luksAddKey", "--key-file", "-", devices[0]!, extra], { input: RECOVERY });
  try {
    await boot();
    await withTpm(async (tpm) => {
      assert.notEqual(await measureLuksHeaders(sys, tpm, devices, dir), signedHeaders);
      await assert.rejects(unseal(tpm, PASSPHRASE), movedPcrs([6]));
    });
  } finally {
    execFileSync("mv", [saved, devices[0]!]);
  }
});

test("interop: a key sealed by tpm2-tools as Heads' tpmr seals it (PCRs 0–7 + passphrase at 0x81000003) unseals with bootward", async () => {
  await boot();
  const f = (n: string) => join(dir, n);
  const pass = "hex:" + Buffer.from(PASSPHRASE).toString("hex");
  writeFileSync(f("heads.key"), Buffer.alloc(DISK_KEY_BYTES, 0x42));
  await sw.tool(["tpm2_evictcontrol", "-Q", "-C", "o", "-P", "hex:" + Buffer.from(OWNER).toString("hex"), "-c", "0x81000003"]);
  await sw.tool(["tpm2_pcrread", "-Q", "-o", f("pcrs.bin"), "sha256:0,1,2,3,4,5,6,7"]);
  await sw.tool(["tpm2_startauthsession", "-Q", "-S", f("trial.ctx")]);
  await sw.tool(["tpm2_policypcr", "-Q", "-l", "sha256:0,1,2,3,4,5,6,7", "-f", f("pcrs.bin"), "-S", f("trial.ctx")]);
  await sw.tool(["tpm2_policyauthvalue", "-Q", "-S", f("trial.ctx"), "-L", f("policy.dat")]);
  await sw.tool(["tpm2_flushcontext", "-Q", f("trial.ctx")]);
  await sw.tool(["tpm2_create", "-Q", "-C", "0x81000000", "-i", f("heads.key"), "-p", pass, "-u", f("k.pub"), "-r", f("k.priv"), "-L", f("policy.dat"), "-a", "fixedtpm|fixedparent|adminwithpolicy"]);
  await sw.tool(["tpm2_load", "-Q", "-C", "0x81000000", "-u", f("k.pub"), "-r", f("k.priv"), "-c", f("k.ctx")]);
  await sw.tool(["tpm2_evictcontrol", "-Q", "-C", "o", "-P", "hex:" + Buffer.from(OWNER).toString("hex"), "-c", f("k.ctx"), "0x81000003"]);
  await sw.tool(["tpm2_flushcontext", "-t"]);
  assert.deepEqual(Buffer.from(await withTpm((tpm) => unseal(tpm, PASSPHRASE))), readFileSync(f("heads.key")));
  await assert.rejects(withTpm((tpm) => unseal(tpm, "wrong passphrase")), wrongPassphrase);
});
