// The TPM 1.2 backend against a fresh swtpm in TPM 1.2 mode (the qemu-tpm1 board): no endorsement key, no owner.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { startSwtpm, type Swtpm } from "../support/swtpm.ts";
import { openTpm, TpmArgumentError, TpmError, TpmResponseError, type Tpm } from "../../tpm/index.ts";
import type { Tpm12Backend } from "../../tpm/tpm12/backend.ts";
import { TPM_PHYSICAL_PRESENCE_PRESENT } from "../../tpm/tpm12/constants.ts";
import { RecordingTransport } from "../../tpm/transport/recorder.ts";

const sha1 = (...parts: (string | Uint8Array)[]) => {
  const h = createHash("sha1");
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};

let sw: Swtpm;
let rec: RecordingTransport;
let tpm: Tpm;

before(async () => {
  sw = await startSwtpm("1.2");
  rec = new RecordingTransport(sw.transport());
  tpm = await openTpm(rec);
});

after(async () => {
  tpm.close();
  await sw.stop();
});

test("openTpm detects a TPM 1.2 and runs TPM_Startup when it is not started", () => {
  assert.equal(tpm.version, "1.2");
  assert.equal(tpm.pcrSize, 20);
  assert.ok(rec.names().includes("TPM_Startup"));
});

test("info", async () => {
  const info = await tpm.info();
  assert.equal(info.version, "1.2");
  assert.equal(info.manufacturer, "IBM");
  assert.match(info.firmware, /^\d+\.\d+$/);
});

test("pcrRead returns sha1 PCRs", async () => {
  const v = await tpm.pcrRead([0, 1, 2, 3, 4, 5, 6, 7]);
  assert.deepEqual([...v.keys()], [0, 1, 2, 3, 4, 5, 6, 7]);
  for (const x of v.values()) assert.equal(x.length, 20);
  await assert.rejects(tpm.pcrRead([24]), TpmArgumentError);
});

test("extend uses SHA-1(data) and returns the new value", async () => {
  const before = (await tpm.pcrRead([16])).get(16)!;
  const after = await tpm.extend(16, "bootward walking skeleton");
  assert.deepEqual(after, sha1(before, sha1("bootward walking skeleton")));
  assert.deepEqual((await tpm.pcrRead([16])).get(16), after);
});

test("reset on a TPM without an endorsement key says so", async () => {
  const refused = await tpm.reset({ ownerPassphrase: "x" }).then(() => null, (e: unknown) => e);
  assert.ok(refused instanceof TpmError && !(refused instanceof TpmResponseError), `expected a TpmError sentence, got ${String(refused)}`);
  assert.match(refused.message, /no endorsement key, so it cannot take an owner/);
  assert.equal((await (tpm as Tpm12Backend).cmd.stclearFlags()).physicalPresence, false, "a failed reset does not leave presence asserted");
  await assert.rejects(tpm.reset({ ownerPassphrase: "" }), TpmArgumentError);
});

test("finalize locks physical presence off: the OS can no longer assert it to clear the TPM", async () => {
  await tpm.finalize();
  const cmd = (tpm as Tpm12Backend).cmd;
  assert.deepEqual(await cmd.stclearFlags(), { deactivated: false, physicalPresence: false, physicalPresenceLock: true });
  await assert.rejects(cmd.physicalPresence(TPM_PHYSICAL_PRESENCE_PRESENT), TpmResponseError);
  // Without presence a reset can only take an unowned TPM as it is: no clear happens.
  await assert.rejects(tpm.reset({ ownerPassphrase: "x" }), /no endorsement key, so it cannot take an owner/);
  await tpm.finalize();
});

test("shutdown (TPM_SaveState)", async () => {
  await tpm.shutdown();
  assert.equal(rec.names().at(-1), "TPM_SaveState");
});
