// Resetting the TPM where the firmware locked the platform hierarchy, as SeaBIOS does on the
// QEMU board: the clear goes through the lockout hierarchy — with an empty authorization on a
// TPM never owned, with the current owner passphrase after a reset (bootward sets the lockout
// authorization to it); without it, or with a wrong one, the reset is refused with a sentence.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { openTpm, type Tpm, TpmError } from "../../tpm/index.ts";
import type { Tpm2Backend } from "../../tpm/tpm2/backend.ts";
import { TPM_RH_OWNER, TPM_RH_PLATFORM } from "../../tpm/tpm2/constants.ts";
import { password } from "../../tpm/tpm2/session.ts";
import { startSwtpm, type Swtpm } from "../support/swtpm.ts";

let sw: Swtpm;
let tpm: Tpm;
const backend = () => tpm as unknown as Tpm2Backend;
const text = (s: string) => new TextEncoder().encode(s);

before(async () => {
  sw = await startSwtpm("2.0");
  tpm = await openTpm(sw.transport());
  // What SeaBIOS does before it boots the payload: a platform password nobody learns.
  await backend().cmd.hierarchyChangeAuth(TPM_RH_PLATFORM, password(), crypto.getRandomValues(new Uint8Array(32)));
});
after(async () => {
  tpm.close();
  await sw.stop();
});

async function ownerIs(passphrase: string): Promise<boolean> {
  try {
    await backend().cmd.hierarchyControl(TPM_RH_OWNER, password(text(passphrase)), TPM_RH_OWNER, true);
    return true;
  } catch {
    return false;
  }
}

test("a never-owned TPM behind a locked platform hierarchy is cleared through the lockout hierarchy", async () => {
  await tpm.reset({ ownerPassphrase: "first owner", primaryKeyType: "ecc" });
  assert.ok(await ownerIs("first owner"));
});

test("once owned: refused without the current owner passphrase, cleared with it", async () => {
  await assert.rejects(tpm.reset({ ownerPassphrase: "second owner" }), (e) => e instanceof TpmError && /give the current TPM owner passphrase/.test(e.message));
  assert.ok(await ownerIs("first owner"), "nothing changed");
  await tpm.reset({ ownerPassphrase: "second owner", currentOwnerPassphrase: "first owner", primaryKeyType: "ecc" });
  assert.ok(await ownerIs("second owner"));
});

test("a wrong current owner passphrase is refused and nothing is cleared", async () => {
  await assert.rejects(
    tpm.reset({ ownerPassphrase: "third owner", currentOwnerPassphrase: "not it" }),
    (e) => e instanceof TpmError && /was not accepted/.test(e.message),
  );
  assert.ok(await ownerIs("second owner"));
});

test("finalize before kexec accepts a platform hierarchy the firmware already locked", async () => {
  await tpm.finalize();
  // Still locked with the firmware's password: the empty one is refused.
  await assert.rejects(backend().cmd.hierarchyChangeAuth(TPM_RH_PLATFORM, password(), new Uint8Array(0)));
});
