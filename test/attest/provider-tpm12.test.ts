// On TPM 1.2, which the library cannot unseal on yet, the header says so in yellow: not a
// red "tampered" and no failure menu, which a machine that was never sealed must not get.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { startSwtpm, type Swtpm } from "../support/swtpm.ts";
import { openTpm, type Tpm } from "../../tpm/index.ts";
import { createNodeSys } from "../../runtime/host/node/sys.ts";
import { TpmAttestation, TPM12_UNSUPPORTED } from "../../runtime/attest/provider.ts";

let sw: Swtpm;
let tpm: Tpm;

before(async () => {
  sw = await startSwtpm("1.2");
  tpm = await openTpm(sw.transport());
});
after(async () => {
  tpm.close();
  await sw.stop();
});

test("TPM 1.2: no code, 'not supported' in yellow, no failure to report", async () => {
  assert.equal(tpm.version, "1.2");
  const provider = new TpmAttestation(tpm, createNodeSys());
  assert.deepEqual(await provider.status(), { error: TPM12_UNSUPPORTED });
  assert.equal(provider.integrity().integrity, "unknown");
  assert.equal(provider.failure(), null);
});
