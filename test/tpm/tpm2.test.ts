// The TPM 2.0 face and commands against a real swtpm.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { startSwtpm, type Swtpm } from "../support/swtpm.ts";
import { openTpm, TpmError, TpmPolicyError, TpmResponseError, TpmArgumentError, TpmIntegrityError, type Tpm } from "../../tpm/index.ts";
import { RecordingTransport } from "../../tpm/transport/recorder.ts";
import { Tpm2Backend } from "../../tpm/tpm2/backend.ts";
import { ALG, CC, HR_PERSISTENT, TPM_RH_ENDORSEMENT, TPM_RH_LOCKOUT, TPM_RH_OWNER, TPM_RH_PLATFORM, TPM_PT_LOCKOUT_RECOVERY, TPM_PT_MAX_AUTH_FAIL, TPM_PT_LOCKOUT_INTERVAL } from "../../tpm/tpm2/constants.ts";
import { password } from "../../tpm/tpm2/session.ts";
import { RC } from "../../tpm/tpm2/rc.ts";

const sha256 = (...parts: (string | Uint8Array)[]) => {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};
const text = (s: string) => new TextEncoder().encode(s);

let sw: Swtpm;
let rec: RecordingTransport;
let tpm: Tpm;
const backend = () => tpm as Tpm2Backend;

before(async () => {
  sw = await startSwtpm("2.0");
  rec = new RecordingTransport(sw.transport());
  tpm = await openTpm(rec);
});

after(async () => {
  tpm.close();
  await sw.stop();
});

describe("TPM 2.0 basics", () => {
  test("openTpm starts a TPM that was not started and detects 2.0", () => {
    assert.equal(tpm.version, "2.0");
    assert.equal(tpm.pcrSize, 32);
    assert.deepEqual(rec.names().slice(0, 2), ["TPM2_GetCapability", "TPM2_Startup"]);
  });

  test("info names the manufacturer and firmware", async () => {
    const info = await tpm.info();
    assert.equal(info.version, "2.0");
    assert.equal(info.manufacturer, "IBM");
    assert.equal(info.vendorString, "SWTPM");
    assert.match(info.firmware, /^\d+\.\d+\.\d+\.\d+$/);
  });

  test("pcrRead reads all 24 sha256 PCRs (more than one PCR_Read)", async () => {
    rec.reset();
    const all = await tpm.pcrRead(Array.from({ length: 24 }, (_, i) => i));
    assert.equal(all.size, 24);
    for (const v of all.values()) assert.equal(v.length, 32);
    assert.ok(rec.counts()["TPM2_PCR_Read"]! >= 3);
  });

  test("extend digests the data as Heads' -ic does and returns the new value", async () => {
    const before = (await tpm.pcrRead([16])).get(16)!;
    const after = await tpm.extend(16, "bootward walking skeleton");
    assert.deepEqual(after, sha256(before, sha256("bootward walking skeleton")));
    assert.deepEqual((await tpm.pcrRead([16])).get(16), after);
    const bytes = await tpm.extend(16, Uint8Array.of(1, 2, 3));
    assert.deepEqual(bytes, sha256(after, sha256(Uint8Array.of(1, 2, 3))));
  });

  test("bad arguments are refused before reaching the TPM", async () => {
    await assert.rejects(tpm.pcrRead([24]), TpmArgumentError);
    await assert.rejects(tpm.extend(-1, "x"), TpmArgumentError);
    await assert.rejects(tpm.extendDigest(16, new Uint8Array(20)), TpmArgumentError);
  });

  test("GetRandom returns the bytes asked for", async () => {
    const r = await backend().cmd.getRandom(32);
    assert.equal(r.length, 32);
    assert.notDeepEqual(r, new Uint8Array(32));
  });

  test("an injected error code reaches the caller by name; TPM_RC_RETRY is resent", async () => {
    rec.inject({ command: "TPM2_PCR_Read", rc: 0x101 });
    await assert.rejects(tpm.pcrRead([0]), (e: unknown) => e instanceof TpmResponseError && e.rcName === "TPM_RC_FAILURE" && /failure mode/.test(e.message));
    rec.inject({ command: "TPM2_PCR_Read", rc: RC.RETRY, times: 3 });
    rec.reset();
    assert.equal((await tpm.pcrRead([0])).size, 1);
    assert.equal(rec.counts()["TPM2_PCR_Read"], 4);
  });
});

describe("ownership, sealing and counters", () => {
  test("reset takes ownership as Heads does (rsa SRK at 0x81000000, DA 10/3600/0)", async () => {
    await tpm.reset({ ownerPassphrase: "owner pass", primaryKeyType: "rsa" });
    const srk = await backend().cmd.readPublic(0x81000000);
    assert.equal(srk.area.type, ALG.RSA);
    const props = await backend().cmd.getProperties(TPM_PT_MAX_AUTH_FAIL, 3);
    assert.equal(props.get(TPM_PT_MAX_AUTH_FAIL), 10);
    assert.equal(props.get(TPM_PT_LOCKOUT_INTERVAL), 3600);
    assert.equal(props.get(TPM_PT_LOCKOUT_RECOVERY), 0);
    // Owner auth is now the passphrase: the empty one is refused, the right one accepted.
    await assert.rejects(backend().cmd.hierarchyControl(TPM_RH_OWNER, password(), TPM_RH_OWNER, true), TpmResponseError);
    await backend().cmd.hierarchyControl(TPM_RH_OWNER, password(text("owner pass")), TPM_RH_OWNER, true);
    await assert.rejects(backend().cmd.hierarchyChangeAuth(TPM_RH_ENDORSEMENT, password(), text("x")), TpmResponseError);
    // Lockout auth is the owner passphrase: the way to clear where the firmware locks the platform hierarchy.
    await backend().cmd.dictionaryAttackLockReset(TPM_RH_LOCKOUT, password(text("owner pass")));
    await assert.rejects(backend().cmd.dictionaryAttackLockReset(TPM_RH_LOCKOUT, password()), TpmResponseError);
  });

  for (const kind of ["rsa", "ecc"] as const) {
    test(`seal → unseal round trip, salted with an ${kind} SRK, TOTP unseal in ≤ 5 commands`, async () => {
      await tpm.reset({ ownerPassphrase: "owner pass", primaryKeyType: kind });
      const secret = Uint8Array.from({ length: 20 }, (_, i) => i * 7);
      await tpm.seal(secret, { handle: 0x4d47, pcrs: [0, 1, 2, 3, 4, 7], ownerPassphrase: "owner pass" });
      const fresh = new RecordingTransport(sw.transport());
      tpm.close();
      tpm = await openTpm(fresh);
      fresh.reset();
      assert.deepEqual(await tpm.unseal({ handle: 0x4d47, pcrs: [0, 1, 2, 3, 4, 7] }), secret);
      assert.ok(fresh.log.length <= 5, fresh.names().join(" "));
      assert.ok(!fresh.names().includes("TPM2_CreatePrimary"));
      rec = fresh;
      // Nothing stays loaded: the TPM flushed the policy session itself.
      assert.deepEqual(await backend().cmd.getHandles(0x03000000), []);
      assert.deepEqual(await backend().cmd.getHandles(0x80000000), []);
      // The PCR policy is enforced, not only computed.
      await tpm.extend(7, "changed");
      await assert.rejects(tpm.unseal({ handle: 0x4d47, pcrs: [0, 1, 2, 3, 4, 7] }), (e: unknown) => e instanceof TpmPolicyError && e.reason === "pcr");
    });
  }

  test("sealing replaces what was at the handle", async () => {
    await tpm.seal(text("first"), { handle: 0x4d47, pcrs: [0, 7], ownerPassphrase: "owner pass" });
    await tpm.seal(text("second"), { handle: 0x81004d47, pcrs: [0, 7], ownerPassphrase: "owner pass" });
    assert.deepEqual(await tpm.unseal({ handle: 0x4d47, pcrs: [0, 7] }), text("second"));
    await tpm.extend(7, "changed");
    await assert.rejects(tpm.unseal({ handle: 0x4d47, pcrs: [0, 7] }), (e: unknown) => e instanceof TpmPolicyError && e.reason === "pcr");
  });

  test("extending a bound PCR makes unseal refuse with a named policy error", async () => {
    await tpm.seal(text("totp secret"), { handle: 0x4d47, pcrs: [0, 1, 2, 3, 4, 7], ownerPassphrase: "owner pass" });
    await tpm.extend(4, "recovery");
    await assert.rejects(tpm.unseal({ handle: 0x4d47, pcrs: [0, 1, 2, 3, 4, 7] }), (e: unknown) => e instanceof TpmPolicyError && e.reason === "pcr" && e.cause_.rcName === "TPM_RC_POLICY_FAIL");
    // An unbound PCR does not matter.
    await tpm.seal(text("totp secret"), { handle: 0x4d47, pcrs: [0, 1, 2, 3, 4, 7], ownerPassphrase: "owner pass" });
    await tpm.extend(5, "module");
    assert.deepEqual(await tpm.unseal({ handle: 0x4d47, pcrs: [0, 1, 2, 3, 4, 7] }), text("totp secret"));
  });

  test("sealing to a future PCR value (calcfuturepcr) unseals only once the PCR gets there", async () => {
    const now = (await tpm.pcrRead([4])).get(4)!;
    const future = sha256(now, sha256("generic"));
    await tpm.seal(text("disk key"), { handle: 3, pcrs: [0, 4], pcrValues: new Map([[4, future]]), ownerPassphrase: "owner pass" });
    await assert.rejects(tpm.unseal({ handle: 3, pcrs: [0, 4] }), TpmPolicyError);
    await tpm.extend(4, "generic");
    assert.deepEqual(await tpm.unseal({ handle: 3, pcrs: [0, 4] }), text("disk key"));
  });

  test("a passphrase-sealed secret needs the right passphrase", async () => {
    await tpm.seal(text("disk unlock key"), { handle: 3, pcrs: [0, 1, 2, 3], passphrase: "correct horse", ownerPassphrase: "owner pass" });
    assert.deepEqual(await tpm.unseal({ handle: 3, pcrs: [0, 1, 2, 3], passphrase: "correct horse" }), text("disk unlock key"));
    await assert.rejects(tpm.unseal({ handle: 3, pcrs: [0, 1, 2, 3], passphrase: "wrong horse" }), (e: unknown) => e instanceof TpmPolicyError && e.reason === "passphrase" && /wrong passphrase/.test(e.message));
    await assert.rejects(tpm.unseal({ handle: 3, pcrs: [0, 1, 2, 3] }), (e: unknown) => e instanceof TpmPolicyError && /needs a passphrase/.test(e.message));
    await tpm.extend(3, "x");
    await assert.rejects(tpm.unseal({ handle: 3, pcrs: [0, 1, 2, 3], passphrase: "correct horse" }), (e: unknown) => e instanceof TpmPolicyError && e.reason === "pcr");
  });

  test("the sealed object does not unseal by password alone (no userWithAuth)", async () => {
    await tpm.seal(text("pw only?"), { handle: 3, pcrs: [0], passphrase: "pw", ownerPassphrase: "owner pass" });
    const obj = await backend().cmd.readPublic(0x81000003);
    assert.equal(obj.area.attributes & 0x40, 0, "userWithAuth must be clear");
    assert.notEqual(obj.area.attributes & 0x80, 0, "adminWithPolicy must be set");
    await assert.rejects(backend().cmd.unseal(0x81000003, password(text("pw"))), (e: unknown) => e instanceof TpmResponseError && e.rcName === "TPM_RC_AUTH_UNAVAILABLE");
  });

  test("unseal of an empty handle says nothing is sealed there", async () => {
    await assert.rejects(tpm.unseal({ handle: 0x1234, pcrs: [0] }), /0x81001234|nothing/);
  });

  test("destroy evicts the sealed object", async () => {
    await tpm.destroy(3, "owner pass");
    assert.deepEqual(await backend().cmd.getHandles(0x81000003).then((h) => h.filter((x) => x === 0x81000003)), []);
  });

  test("a tampered response HMAC is detected", async () => {
    await tpm.seal(text("integrity"), { handle: 0x4d47, pcrs: [0], ownerPassphrase: "owner pass" });
    const t = new RecordingTransport(sw.transport());
    const inner = t.send.bind(t);
    let flip = false;
    t.send = async (cmd) => {
      const r = await inner(cmd);
      if (flip && t.log.at(-1)!.name === "TPM2_Unseal") r[r.length - 1] ^= 1;
      return r;
    };
    tpm.close();
    tpm = await openTpm(t);
    flip = true;
    await assert.rejects(tpm.unseal({ handle: 0x4d47, pcrs: [0] }), TpmIntegrityError);
    flip = false;
    rec = t;
  });

  test("counters: create, fresh read refused until an increment, increment, read", async () => {
    const id = await tpm.counterCreate({ ownerPassphrase: "owner pass" });
    assert.equal(id >>> 24, 0x01);
    await assert.rejects(tpm.counterRead(id), (e: unknown) => e instanceof TpmResponseError && e.rcName === "TPM_RC_NV_UNINITIALIZED");
    const one = await tpm.counterIncrement(id);
    assert.equal(await tpm.counterIncrement(id), one + 1n);
    assert.equal(await tpm.counterRead(id), one + 1n);
    await assert.rejects(tpm.counterCreate({ ownerPassphrase: "wrong" }), TpmResponseError);
    await tpm.nvUndefine(id, "owner pass");
    await assert.rejects(tpm.counterRead(id), TpmResponseError);
  });

  test("counters lists counter indices only; slotInUse follows seal and destroy", async () => {
    const ordinary = 0x01500002;
    await tpm.nvDefine(ordinary, 8, { ownerPassphrase: "owner pass" });
    const id = await tpm.counterCreate({ ownerPassphrase: "owner pass" });
    try {
      const listed = await tpm.counters();
      assert.ok(listed.includes(id), `counter 0x${id.toString(16)} is listed: ${listed.map((i) => i.toString(16))}`);
      assert.ok(!listed.includes(ordinary), "an ordinary NV index is no counter");
    } finally {
      await tpm.nvUndefine(id, "owner pass");
      await tpm.nvUndefine(ordinary, "owner pass");
    }
    assert.ok(!(await tpm.counters()).includes(id), "an undefined counter is gone from the list");

    await tpm.seal(text("slot"), { handle: 0x4d49, pcrs: [0], ownerPassphrase: "owner pass" });
    assert.equal(await tpm.slotInUse(0x4d49), true);
    await tpm.destroy(0x4d49, "owner pass");
    assert.equal(await tpm.slotInUse(0x4d49), false);
  });

  test("NV define, write, read back, undefine", async () => {
    const index = 0x01500001;
    await tpm.nvDefine(index, 700, { ownerPassphrase: "owner pass" });
    const data = Uint8Array.from({ length: 700 }, (_, i) => (i * 13) & 255);
    await tpm.nvWrite(index, data);
    assert.deepEqual(await tpm.nvRead(index), data);
    assert.deepEqual(await tpm.nvRead(index, 10), data.subarray(0, 10));
    await assert.rejects(tpm.nvDefine(index, 8, { ownerPassphrase: "owner pass" }), (e: unknown) => e instanceof TpmResponseError && e.rcName === "TPM_RC_NV_DEFINED");
    await assert.rejects(tpm.nvRead(0x81000000), TpmArgumentError);
    await tpm.nvUndefine(index, "owner pass");
    await assert.rejects(tpm.nvRead(index), TpmResponseError);
  });

  test("policy sessions: PolicyPassword and PolicyCommandCode work on the TPM", async () => {
    const c = backend().cmd;
    const s = await c.startAuthSession("trial");
    await c.policyCommandCode(s, CC.Unseal);
    await c.policyPassword(s);
    assert.equal((await c.policyGetDigest(s)).length, 32);
    await c.flushContext(s.handle);
  });

  test("DictionaryAttackLockReset and HierarchyControl, with known auths", async () => {
    const c = backend().cmd;
    // Give lockout a known auth (from the platform) to exercise the DA commands.
    await c.clear(TPM_RH_PLATFORM, password());
    await c.dictionaryAttackParameters(TPM_RH_LOCKOUT, password(), 5, 60, 0);
    await c.dictionaryAttackLockReset(TPM_RH_LOCKOUT, password());
    await c.hierarchyControl(TPM_RH_PLATFORM, password(), TPM_RH_ENDORSEMENT, false);
    await assert.rejects(c.createPrimary(TPM_RH_ENDORSEMENT, password(), (await import("../../tpm/tpm2/types.ts")).srkTemplate("ecc")), (e: unknown) => e instanceof TpmResponseError && e.rcName === "TPM_RC_HIERARCHY");
    await c.hierarchyControl(TPM_RH_PLATFORM, password(), TPM_RH_ENDORSEMENT, true);
  });

  test("finalize locks the platform hierarchy: reset then needs the current owner passphrase", async () => {
    await tpm.reset({ ownerPassphrase: "owner pass", primaryKeyType: "ecc" });
    await tpm.finalize();
    await assert.rejects(tpm.reset({ ownerPassphrase: "again" }), (e: unknown) => e instanceof TpmError && /platform hierarchy is locked .* give the current TPM owner passphrase/.test(e.message));
    assert.equal(Tpm2Backend.persistentHandle(0x4d47), HR_PERSISTENT + 0x4d47);
  });

  test("shutdown is accepted", async () => {
    await tpm.shutdown();
    assert.ok(rec.names().includes("TPM2_Shutdown"));
  });
});
