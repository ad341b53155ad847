// TPM 1.2 NV areas, counters and the refusals a user can act on (no NV space left, owner
// passphrase wrong, dictionary-attack lockout), against swtpm owned by swtpm_setup.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { startSwtpm12, type Swtpm12 } from "../support/swtpm12.ts";
import { openTpm, TpmLockoutError, TpmNvSpaceError, TpmOwnerAuthError, TpmPolicyError } from "../../tpm/index.ts";
import type { Tpm12Backend } from "../../tpm/tpm12/backend.ts";

const OWNER = "owner-pw";
let sw: Swtpm12;
let tpm: Tpm12Backend;

before(async () => {
  sw = await startSwtpm12({ owner: OWNER });
  tpm = (await openTpm(sw.transport())) as Tpm12Backend;
});

after(async () => {
  tpm.close();
  await sw.stop();
});

test("NV define/write/read/undefine with the owner passphrase; protected areas refuse other writers", async () => {
  await tpm.nvDefine(0x1000, 24, { ownerPassphrase: OWNER });
  await assert.rejects(tpm.nvDefine(0x1001, 24, { ownerPassphrase: "wrong" }), TpmOwnerAuthError);
  await assert.rejects(tpm.nvWrite(0x1000, new Uint8Array(24).fill(1), "wrong"), TpmOwnerAuthError);
  await tpm.nvWrite(0x1000, new Uint8Array(24).fill(6), OWNER);
  assert.deepEqual(await tpm.nvRead(0x1000), new Uint8Array(24).fill(6));
  await tpm.nvDefine(0x1002, 8, { ownerPassphrase: OWNER, auth: "index pw" });
  await assert.rejects(tpm.nvWrite(0x1002, new Uint8Array(8), "wrong"), TpmPolicyError);
  await tpm.nvWrite(0x1002, new Uint8Array(8).fill(2), "index pw");
  assert.deepEqual(await tpm.nvRead(0x1002), new Uint8Array(8).fill(2));
  await tpm.nvUndefine(0x1000, OWNER);
  await tpm.nvUndefine(0x1002, OWNER);
  assert.equal(await tpm.cmd.nvPublic(0x1000), null);
  assert.equal(await tpm.cmd.nvPublic(0x1002), null);
});

test("an NV area larger than the TPM's space is refused as TPM_NOSPACE with the way out", async () => {
  const refused = await tpm.nvDefine(0x2000, 60000, { ownerPassphrase: OWNER }).then(() => null, (e: unknown) => e);
  assert.ok(refused instanceof TpmNvSpaceError, `expected a TpmNvSpaceError, got ${String(refused)}`);
  assert.equal(refused.cause_.rcName, "TPM_NOSPACE");
  assert.match(refused.message, /no NV space left for index 0x2000: remove an index/);
});

test("counter: created with the owner passphrase and Heads' label, moves by one per increment", async () => {
  await assert.rejects(tpm.counterCreate({ ownerPassphrase: "wrong" }), TpmOwnerAuthError);
  const before = await tpm.counters();
  const id = await tpm.counterCreate({ ownerPassphrase: OWNER });
  assert.deepEqual(await tpm.counters(), [...before, id], "the owner's new counter is listed (the ownership evidence)");
  const start = await tpm.counterRead(id);
  assert.equal(start >> 32n, 0x000ebaddecafn, "tag TPM_TAG_COUNTER_VALUE and label 3135106223");
  const next = await tpm.counterIncrement(id);
  assert.equal(next, start + 1n);
  assert.equal(await tpm.counterRead(id), next);
});

test("after repeated wrong owner passphrases the TPM's lockout is its own typed refusal, even for the right one", async () => {
  let locked: unknown = null;
  for (let i = 0; i < 12 && !(locked instanceof TpmLockoutError); i++) {
    locked = await tpm.nvDefine(0x1003, 8, { ownerPassphrase: "wrong" }).then(() => null, (e: unknown) => e);
    assert.ok(locked instanceof TpmOwnerAuthError || locked instanceof TpmLockoutError, `unexpected ${String(locked)}`);
  }
  assert.ok(locked instanceof TpmLockoutError);
  assert.equal(locked.cause_.rcName, "TPM_DEFEND_LOCK_RUNNING");
  await assert.rejects(tpm.nvDefine(0x1003, 8, { ownerPassphrase: OWNER }), TpmLockoutError);
});
