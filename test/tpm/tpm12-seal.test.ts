// TPM 1.2 sealing, NV and counters against swtpm owned by swtpm_setup (an independent owner
// with a known passphrase), in the layout Heads' tpmr / tpmtotp keep.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { startSwtpm12, type Swtpm12 } from "../support/swtpm12.ts";
import { openTpm, TpmError, TpmOwnerAuthError, TpmPolicyError, TpmSrkAuthError, TpmArgumentError } from "../../tpm/index.ts";
import { RecordingTransport } from "../../tpm/transport/recorder.ts";
import type { Tpm12Backend } from "../../tpm/tpm12/backend.ts";

const OWNER = "owner-pw";
const TOTP = { handle: 0x4d47, pcrs: [0, 1, 2, 3, 7] };
const sha1 = (...parts: (string | Uint8Array)[]) => {
  const h = createHash("sha1");
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};

let sw: Swtpm12;
let rec: RecordingTransport;
let tpm: Tpm12Backend;

before(async () => {
  sw = await startSwtpm12({ owner: OWNER });
  rec = new RecordingTransport(sw.transport());
  tpm = (await openTpm(rec)) as Tpm12Backend;
});

after(async () => {
  tpm.close();
  await sw.stop();
});

test("an SRK that does not take the well-known authorization is refused by name; the owner passphrase sets it", async () => {
  await assert.rejects(tpm.seal(new Uint8Array(20).fill(1), { ...TOTP, ownerPassphrase: OWNER }), TpmSrkAuthError);
  await assert.rejects(tpm.useWellKnownSrkAuth("not-the-owner"), TpmOwnerAuthError);
  await tpm.useWellKnownSrkAuth(OWNER);
});

test("seal to PCRs 0,1,2,3,7 at NV 0x4d47 unseals; PCR 7 extended is refused naming PCR 7", async () => {
  const secret = new Uint8Array(20).map((_, i) => i + 1);
  const sealedTo = await tpm.pcrRead(TOTP.pcrs);
  await tpm.seal(secret, { ...TOTP, ownerPassphrase: OWNER });
  assert.equal(await tpm.slotInUse(TOTP.handle), true);
  assert.equal(await tpm.slotInUse(0x4d00), false);
  rec.reset();
  assert.deepEqual(await tpm.unseal(TOTP), secret);
  assert.deepEqual(rec.names(), ["TPM_GetCapability", "TPM_NV_ReadValue", "TPM_OIAP", "TPM_OIAP", "TPM_Unseal"]);

  await tpm.extend(7, "a configuration change");
  const refused = await tpm.unseal({ ...TOTP, pcrValues: sealedTo }).then(() => null, (e: unknown) => e);
  assert.ok(refused instanceof TpmPolicyError, `expected a TpmPolicyError, got ${String(refused)}`);
  assert.equal(refused.reason, "pcr");
  assert.deepEqual(refused.pcrs, [7]);
  assert.match(refused.message, /PCR 7 changed/);
  assert.equal(refused.cause_.rcName, "TPM_WRONGPCRVAL");

  const blind = await tpm.unseal(TOTP).then(() => null, (e: unknown) => e);
  assert.ok(blind instanceof TpmPolicyError);
  assert.equal(blind.reason, "pcr");
  assert.deepEqual(blind.pcrs, [], "without the sealed values no PCR can be named");
});

test("the blob in NV is tpmtotp's TPM_STORED_DATA in a permission-0 index of 312 bytes", async () => {
  const values = await tpm.pcrRead(TOTP.pcrs);
  await tpm.seal(new Uint8Array(20).fill(9), { ...TOTP, ownerPassphrase: OWNER });
  assert.deepEqual(await tpm.cmd.nvPublic(TOTP.handle), { index: TOTP.handle, permission: 0, size: 312 });
  const raw = await tpm.nvRead(TOTP.handle);
  const view = Buffer.from(raw);
  assert.equal(raw.length, 312);
  assert.deepEqual([...raw.subarray(0, 4)], [1, 1, 0, 0]);
  assert.equal(view.readUInt32BE(4), 44);
  assert.equal(view.readUInt16BE(8), 2);
  assert.deepEqual([...raw.subarray(10, 12)], [0x8f, 0x00]);
  const composite = Buffer.concat([Buffer.from([0, 2, 0x8f, 0]), Buffer.from([0, 0, 0, 100]), ...TOTP.pcrs.map((p) => values.get(p)!)]);
  assert.deepEqual(raw.subarray(12, 32), sha1(composite));
  assert.deepEqual(raw.subarray(32, 52), sha1(composite), "digestAtCreation: sealed to the values of the moment");
  assert.equal(view.readUInt32BE(52), 256);
});

test("a wrong owner passphrase on seal to a new index is refused as such, and defines nothing", async () => {
  const refused = await tpm.seal(new Uint8Array(20).fill(2), { handle: 0x4d48, pcrs: [0], ownerPassphrase: "wrong" }).then(() => null, (e: unknown) => e);
  assert.ok(refused instanceof TpmOwnerAuthError, `expected a TpmOwnerAuthError, got ${String(refused)}`);
  assert.equal(refused.cause_.rcName, "TPM_AUTHFAIL");
  assert.match(refused.message, /owner passphrase was not accepted/);
  assert.equal(await tpm.cmd.nvPublic(0x4d48), null);
});

test("sealed with a passphrase: a wrong one and none are refused, the right one unseals", async () => {
  const secret = new Uint8Array(32).fill(5);
  const where = { handle: 0x3, pcrs: [0, 1, 2, 3] };
  await tpm.seal(secret, { ...where, passphrase: "disk key", ownerPassphrase: OWNER });
  for (const passphrase of ["disk kez", undefined]) {
    const refused = await tpm.unseal({ ...where, passphrase }).then(() => null, (e: unknown) => e);
    assert.ok(refused instanceof TpmPolicyError, `expected a TpmPolicyError, got ${String(refused)}`);
    assert.equal(refused.reason, "passphrase");
    assert.equal(refused.cause_.rcName, "TPM_AUTH2FAIL");
  }
  assert.deepEqual(await tpm.unseal({ ...where, passphrase: "disk key" }), secret);
});

test("sealing to predicted values: refused now, unseals once the PCR reaches them", async () => {
  const now = (await tpm.pcrRead([8])).get(8)!;
  const predicted = sha1(now, sha1("next boot"));
  const secret = new Uint8Array(20).fill(8);
  await tpm.seal(secret, { handle: 0x4d49, pcrs: [0, 8], pcrValues: new Map([[8, predicted]]), ownerPassphrase: OWNER });
  const refused = await tpm.unseal({ handle: 0x4d49, pcrs: [0, 8] }).then(() => null, (e: unknown) => e);
  assert.ok(refused instanceof TpmPolicyError && refused.reason === "pcr", `expected a PCR refusal, got ${String(refused)}`);
  await tpm.extend(8, "next boot");
  assert.deepEqual(await tpm.unseal({ handle: 0x4d49, pcrs: [0, 8] }), secret);
  await assert.rejects(tpm.seal(secret, { handle: 0x4d49, pcrs: [16] }), TpmArgumentError);
});

test("seal replaces what was there; destroy wipes (as tpmr does) or deletes with the owner passphrase", async () => {
  await tpm.seal(new Uint8Array(20).fill(3), { ...TOTP, pcrs: [0], ownerPassphrase: OWNER });
  await tpm.seal(new Uint8Array(20).fill(4), { ...TOTP, pcrs: [0] });
  assert.deepEqual(await tpm.unseal({ ...TOTP, pcrs: [0] }), new Uint8Array(20).fill(4));
  await tpm.destroy(TOTP.handle);
  await assert.rejects(tpm.unseal(TOTP), (e: unknown) => e instanceof TpmError && /was wiped/.test(e.message));
  await tpm.destroy(TOTP.handle, OWNER);
  assert.equal(await tpm.cmd.nvPublic(TOTP.handle), null);
  await assert.rejects(tpm.unseal(TOTP), (e: unknown) => e instanceof TpmError && /nothing is sealed/.test(e.message));
});
