// The offline policy calculator must equal what a trial session computes on the TPM.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { startSwtpm, type Swtpm } from "../support/swtpm.ts";
import { openTpm, PolicyCalculator, predictPcr, extendPcr, measurement, type Tpm } from "../../tpm/index.ts";
import type { Tpm2Backend } from "../../tpm/tpm2/backend.ts";
import { ALG, CC } from "../../tpm/tpm2/constants.ts";

let sw: Swtpm;
let tpm: Tpm;

before(async () => {
  sw = await startSwtpm("2.0");
  tpm = await openTpm(sw.transport());
  await tpm.extend(0, "firmware");
  await tpm.extend(2, "coreboot");
  await tpm.extend(7, "/.gnupg/pubring.kbx");
});

after(async () => {
  await tpm.shutdown();
  tpm.close();
  await sw.stop();
});

type Step = ["pcr", number[]] | ["authValue"] | ["password"] | ["commandCode", number];

const cases: [string, Step[]][] = [
  ["empty", []],
  ["TOTP: PCR 0,1,2,3,4,7", [["pcr", [0, 1, 2, 3, 4, 7]]]],
  ["disk key: PCR 0-7 + authValue", [["pcr", [0, 1, 2, 3, 4, 5, 6, 7]], ["authValue"]]],
  ["one PCR", [["pcr", [16]]]],
  ["high PCRs", [["pcr", [8, 9, 10, 23]]]],
  ["authValue alone", [["authValue"]]],
  ["password = authValue digest", [["pcr", [0]], ["password"]]],
  ["command code Unseal", [["commandCode", CC.Unseal]]],
  ["command code then PCR", [["commandCode", CC.NV_Read], ["pcr", [7]]]],
  ["PCR twice", [["pcr", [0]], ["pcr", [1, 2]]]],
  ["everything", [["pcr", [0, 2, 7]], ["commandCode", CC.Unseal], ["authValue"]]],
];

for (const [name, steps] of cases) {
  test(`calculator equals a trial session: ${name}`, async () => {
    const c = (tpm as Tpm2Backend).cmd;
    const s = await c.startAuthSession("trial");
    const calc = new PolicyCalculator();
    for (const step of steps) {
      if (step[0] === "pcr") {
        await c.policyPCR(s, [{ hash: ALG.SHA256, pcrs: step[1] }]);
        calc.pcr(step[1], await tpm.pcrRead(step[1]));
      } else if (step[0] === "authValue") {
        await c.policyAuthValue(s);
        calc.authValue();
      } else if (step[0] === "password") {
        await c.policyPassword(s);
        calc.password();
      } else {
        await c.policyCommandCode(s, step[1]);
        calc.commandCode(step[1]);
      }
    }
    assert.deepEqual(await c.policyGetDigest(s), calc.digest);
    await c.flushContext(s.handle);
  });
}

test("a wrong PCR value gives a different digest (the calculator binds values)", async () => {
  const values = await tpm.pcrRead([0]);
  const a = new PolicyCalculator().pcr([0], values).digest;
  const b = new PolicyCalculator().pcr([0], new Map([[0, new Uint8Array(32)]])).digest;
  assert.notDeepEqual(a, b);
});

test("PCR arithmetic predicts what the TPM computes", async () => {
  const start = (await tpm.pcrRead([12])).get(12)!;
  const digests = ["a", "b", "c"].map((s) => measurement("sha256", new TextEncoder().encode(s)));
  const predicted = predictPcr("sha256", digests, start);
  for (const s of ["a", "b", "c"]) await tpm.extend(12, s);
  assert.deepEqual((await tpm.pcrRead([12])).get(12), predicted);
  const h = createHash("sha256").update(new Uint8Array(32)).update(digests[0]!).digest();
  assert.deepEqual(extendPcr("sha256", new Uint8Array(32), digests[0]!), new Uint8Array(h));
  assert.equal(predictPcr("sha1", []).length, 20);
});
