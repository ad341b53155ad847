// The minimal TPM 1.2 backend against swtpm in TPM 1.2 mode (the qemu-tpm1 board).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { startSwtpm, type Swtpm } from "../support/swtpm.ts";
import { openTpm, TpmNotSupportedError, TpmArgumentError, type Tpm } from "../../tpm/index.ts";
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

test("sealing and the rest say they are not supported on TPM 1.2 yet", async () => {
  await assert.rejects(tpm.seal(new Uint8Array(20), { handle: 0x4d47, pcrs: [0] }), TpmNotSupportedError);
  await assert.rejects(tpm.unseal({ handle: 0x4d47, pcrs: [0] }), /not supported on TPM 1.2 yet/);
  await assert.rejects(tpm.counterCreate(), TpmNotSupportedError);
  await assert.rejects(tpm.reset({ ownerPassphrase: "x" }), TpmNotSupportedError);
  await tpm.finalize();
});

test("shutdown (TPM_SaveState)", async () => {
  await tpm.shutdown();
  assert.equal(rec.names().at(-1), "TPM_SaveState");
});
