// reset() on TPM 1.2 as Heads' tpm-reset does it (physical presence by command, enable,
// activate, ForceClear, TakeOwnership), against swtpm prepared by swtpm_setup; and the
// disabled / deactivated states it must get out of, or explain.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startSwtpm12 } from "../support/swtpm12.ts";
import { openTpm, TpmDisabledError, TpmOwnerAuthError } from "../../tpm/index.ts";
import type { Tpm12Backend } from "../../tpm/tpm12/backend.ts";
import { TPM_PHYSICAL_PRESENCE_CMD_ENABLE, TPM_PHYSICAL_PRESENCE_LOCK, TPM_PHYSICAL_PRESENCE_NOTPRESENT, TPM_PHYSICAL_PRESENCE_PRESENT } from "../../tpm/tpm12/constants.ts";

const open = async (sw: { transport(): Parameters<typeof openTpm>[0] }) => (await openTpm(sw.transport())) as Tpm12Backend;

test("reset takes ownership with the new passphrase: owner-authorized NV works with it, not with the old one", async () => {
  const sw = await startSwtpm12({ owner: "old-owner" });
  const tpm = await open(sw);
  try {
    await tpm.reset({ ownerPassphrase: "new-owner" });
    assert.equal(await tpm.cmd.owned(), true);
    const flags = await tpm.cmd.permanentFlags();
    assert.deepEqual([flags.disable, flags.deactivated], [false, false]);
    assert.equal((await tpm.cmd.stclearFlags()).physicalPresence, false, "presence is not left asserted");
    await tpm.nvDefine(0x1000, 8, { ownerPassphrase: "new-owner" });
    await assert.rejects(tpm.nvDefine(0x1001, 8, { ownerPassphrase: "old-owner" }), TpmOwnerAuthError);
    const secret = new Uint8Array(20).fill(3);
    await tpm.seal(secret, { handle: 0x4d47, pcrs: [0, 1, 2, 3, 7], ownerPassphrase: "new-owner" });
    assert.deepEqual(await tpm.unseal({ handle: 0x4d47, pcrs: [0, 1, 2, 3, 7] }), secret, "no restart needed after the clear");
  } finally {
    tpm.close();
    await sw.stop();
  }
});

test("a disabled TPM is refused by name, and reset enables it", async () => {
  const sw = await startSwtpm12({ owner: "old-owner" });
  let tpm = await open(sw);
  try {
    await tpm.cmd.physicalPresence(TPM_PHYSICAL_PRESENCE_CMD_ENABLE);
    await tpm.cmd.physicalPresence(TPM_PHYSICAL_PRESENCE_PRESENT);
    await tpm.cmd.run(0x70); // TPM_PhysicalDisable
    const refused = await tpm.counterCreate({ ownerPassphrase: "old-owner" }).then(() => null, (e: unknown) => e);
    assert.ok(refused instanceof TpmDisabledError, `expected a TpmDisabledError, got ${String(refused)}`);
    assert.equal(refused.state, "disabled");
    await tpm.reset({ ownerPassphrase: "new-owner" });
    assert.ok((await tpm.counterCreate({ ownerPassphrase: "new-owner" })) >= 0);
  } finally {
    tpm.close();
    await sw.stop();
  }
});

test("a TPM deactivated at start: refused by name; reset says to restart, and after the restart it works", async () => {
  const sw = await startSwtpm12({ owner: "old-owner" });
  let tpm = await open(sw);
  try {
    await tpm.cmd.physicalPresence(TPM_PHYSICAL_PRESENCE_CMD_ENABLE);
    await tpm.cmd.physicalPresence(TPM_PHYSICAL_PRESENCE_PRESENT);
    await tpm.cmd.physicalSetDeactivated(true);
    tpm.close();
    await sw.powerCycle();
    tpm = await open(sw);
    const refused = await tpm.seal(new Uint8Array(20), { handle: 0x4d47, pcrs: [0], ownerPassphrase: "old-owner" }).then(() => null, (e: unknown) => e);
    assert.ok(refused instanceof TpmDisabledError, `expected a TpmDisabledError, got ${String(refused)}`);
    assert.equal(refused.state, "deactivated");
    const reset = await tpm.reset({ ownerPassphrase: "new-owner" }).then(() => null, (e: unknown) => e);
    assert.ok(reset instanceof TpmDisabledError, `expected a TpmDisabledError, got ${String(reset)}`);
    assert.match(reset.message, /restart the machine, then reset the TPM again/);
    tpm.close();
    await sw.powerCycle();
    tpm = await open(sw);
    await tpm.reset({ ownerPassphrase: "new-owner" });
    await tpm.nvDefine(0x1000, 8, { ownerPassphrase: "new-owner" });
  } finally {
    tpm.close();
    await sw.stop();
  }
});

test("presence locked by the firmware (SeaBIOS): an unowned TPM is taken as it is; an owned one is not cleared, and the sentence says where to clear it", async () => {
  const sw = await startSwtpm12();
  const tpm = await open(sw);
  const lock = () => tpm.cmd.physicalPresence(TPM_PHYSICAL_PRESENCE_NOTPRESENT | TPM_PHYSICAL_PRESENCE_LOCK);
  try {
    await tpm.cmd.physicalPresence(TPM_PHYSICAL_PRESENCE_CMD_ENABLE);
    await lock();
    assert.equal(await tpm.cmd.owned(), false);
    await tpm.reset({ ownerPassphrase: "first owner" });
    assert.equal(await tpm.cmd.owned(), true);
    await tpm.nvDefine(0x1000, 8, { ownerPassphrase: "first owner" });
    const refused = await tpm.reset({ ownerPassphrase: "second owner" }).then(() => null, (e: unknown) => e);
    assert.ok(refused instanceof Error, "an owned TPM was reset without presence");
    assert.match(refused.message, /physical presence cannot be asserted by command on this TPM \(the firmware locked it\): clear the TPM in the firmware's setup/);
    await tpm.nvDefine(0x1001, 8, { ownerPassphrase: "first owner" });
    await assert.rejects(tpm.nvDefine(0x1002, 8, { ownerPassphrase: "second owner" }), TpmOwnerAuthError);
  } finally {
    tpm.close();
    await sw.stop();
  }
});
