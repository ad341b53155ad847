// A TPM 1.2 that cannot do what the flows ask, each met with a sentence that says the way
// out: disabled (the failure menu says so, and Reset the TPM enables it and seals a new
// secret), owned by someone whose passphrase nobody typed right, out of NV space, and reset
// since the secret was sealed (the blob outlives the clear in NV).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TpmNvSpaceError } from "../../tpm/index.ts";
import type { Tpm12Backend } from "../../tpm/tpm12/backend.ts";
import { TPM_PHYSICAL_PRESENCE_CMD_ENABLE, TPM_PHYSICAL_PRESENCE_PRESENT } from "../../tpm/tpm12/constants.ts";
import { sealNewTotpSecret } from "../../runtime/attest/seal.ts";
import { Board, OWNER, STOCK } from "./support/board.ts";
import { BOARD_CONFIG, entries, headerAt, MAIN, run, sys } from "./support/flows.ts";
import { rootedSys } from "../../runtime/host/rooted.ts";

let board: Board;

before(async () => {
  board = await Board.start("1.2");
  mkdirSync(join(board.root, "etc"), { recursive: true });
  writeFileSync(join(board.root, "etc/config"), BOARD_CONFIG);
  await board.boot(STOCK);
  await board.with((tpm) => tpm.reset({ ownerPassphrase: OWNER }));
});
after(async () => board.stop());

const TPM_ORD_PHYSICAL_DISABLE = 0x70;
/** The owner the first test's Reset the TPM sets. */
const NEW_OWNER = "new owner";

test("disabled: the failure menu says to enable it or reset it; Reset the TPM enables it and a new secret's code shows", async () => {
  await board.with((tpm) => sealNewTotpSecret(tpm, rootedSys(sys, board.root), { ownerPassphrase: OWNER }));
  await board.boot(STOCK);
  await board.with(async (tpm) => {
    const cmd = (tpm as Tpm12Backend).cmd;
    await cmd.physicalPresence(TPM_PHYSICAL_PRESENCE_CMD_ENABLE);
    await cmd.physicalPresence(TPM_PHYSICAL_PRESENCE_PRESENT);
    await cmd.run(TPM_ORD_PHYSICAL_DISABLE);
  });
  const p = await run(board, [{ menu: "p" }, { confirm: true }, { password: NEW_OWNER }, { password: NEW_OWNER }, { menu: "c" }, { menu: "p" }]);
  const [failure] = entries(p, "menu");
  assert.equal(failure!.title, "ERROR: the TOTP/HOTP secret did not unseal");
  assert.match(failure!.text!, /the TPM is disabled: enable it in the firmware's setup, or reset it from the TPM menu/);
  assert.deepEqual(entries(p, "message").map((m) => m.title), ["New TOTP/HOTP secret sealed"]);
  assert.equal(entries(p, "qr").length, 1);
  const main = headerAt(p, MAIN);
  assert.equal(main.integrity, "ok");
  assert.ok("code" in main.totp!, `the header shows ${JSON.stringify(main.totp)}`);
});

test("owned with a passphrase nobody types right: generating a secret says so and how to get out", async () => {
  await board.boot(STOCK);
  const p = await run(board, [{ menu: "o" }, { menu: "t" }, { menu: "g" }, { password: "a guess" }, { menu: "m" }, { menu: "r" }, { menu: "p" }]);
  const [refusal] = entries(p, "message");
  assert.equal(refusal!.title, "No new secret");
  assert.match(refusal!.text, /the TPM owner passphrase was not accepted: type it again; if nobody knows it, reset the TPM from the menu/);
  assert.equal(entries(p, "qr").length, 0);
});

test("out of NV space: generating a secret names the index and the way out, and the old secret still unseals", async () => {
  await board.boot(STOCK);
  // Fill the TPM's NV with owner indices until it refuses.
  await board.with(async (tpm) => {
    for (let index = 0x1000; ; index++) {
      try {
        await tpm.nvDefine(index, 256, { ownerPassphrase: NEW_OWNER });
      } catch (e) {
        if (e instanceof TpmNvSpaceError) return;
        throw e;
      }
      assert.ok(index < 0x1400, "the TPM never ran out of NV space");
    }
  });
  await board.boot(STOCK);
  const p = await run(board, [{ menu: "o" }, { menu: "t" }, { menu: "g" }, { password: NEW_OWNER }, { menu: "m" }, { menu: "r" }, { menu: "p" }]);
  const [refusal] = entries(p, "message");
  assert.equal(refusal!.title, "No new secret");
  assert.match(refusal!.text, /the TPM has no NV space left for index 0x4d48: remove an index that is no longer used, or reset the TPM/);
  assert.ok("code" in headerAt(p, MAIN).totp!, "the old secret still gives a code");
});

test("reset since the secret was sealed: the failure says so and to generate a new secret", async () => {
  await board.with((tpm) => tpm.reset({ ownerPassphrase: OWNER }));
  await board.boot(STOCK);
  const p = await run(board, [{ menu: "i" }, { menu: "p" }]);
  const [failure] = entries(p, "menu");
  assert.equal(failure!.title, "ERROR: the TOTP/HOTP secret did not unseal");
  assert.match(failure!.text!, /the secret at NV index 0x4d47 was sealed before the TPM was last reset: generate a new secret/);
});
