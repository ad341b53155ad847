// 200 seal/unseal cycles with no resource manager: everything loaded must be flushed, or
// the TPM runs out of object/session slots (TPM_RC_OBJECT_MEMORY) within a few cycles.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { startSwtpm, type Swtpm } from "../support/swtpm.ts";
import { openTpm, TpmPolicyError, type Tpm } from "../../tpm/index.ts";
import type { Tpm2Backend } from "../../tpm/tpm2/backend.ts";
import { RecordingTransport } from "../../tpm/transport/recorder.ts";

let sw: Swtpm;
let tpm: Tpm;
let rec: RecordingTransport;

before(async () => {
  sw = await startSwtpm("2.0");
  rec = new RecordingTransport(sw.transport());
  assert.equal(rec.resourceManaged, false);
  tpm = await openTpm(rec);
  await tpm.reset({ ownerPassphrase: "o", primaryKeyType: "ecc" });
});

after(async () => {
  await tpm.shutdown();
  tpm.close();
  await sw.stop();
});

test("200 seal/unseal cycles (with refusals in between) leave nothing loaded", async () => {
  for (let i = 0; i < 200; i++) {
    const secret = Uint8Array.from({ length: 20 }, (_, j) => (i + j) & 255);
    const passphrase = i % 2 ? "p" + i : undefined;
    await tpm.seal(secret, { handle: 0x4d47, pcrs: [0, 1, 2, 3, 4, 7], passphrase, ownerPassphrase: "o" });
    assert.deepEqual(await tpm.unseal({ handle: 0x4d47, pcrs: [0, 1, 2, 3, 4, 7], passphrase }), secret);
    // A refused unseal must flush its session too.
    if (i % 10 === 0) await assert.rejects(tpm.unseal({ handle: 0x4d47, pcrs: [0, 1, 2, 3, 4] , passphrase }), TpmPolicyError);
  }
  assert.ok(!rec.log.some((e) => e.rc === 0x902 || e.rc === 0x903), "TPM_RC_OBJECT_MEMORY or SESSION_MEMORY seen");
  const c = (tpm as Tpm2Backend).cmd;
  assert.deepEqual(await c.getHandles(0x80000000), []);
  assert.deepEqual(await c.getHandles(0x02000000), []);
  assert.deepEqual(await c.getHandles(0x03000000), []);
});
