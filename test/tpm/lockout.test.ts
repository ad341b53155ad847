// Dictionary-attack lockout on a real swtpm: wrong passphrases until the TPM answers
// TPM_RC_LOCKOUT. The refusal says how long it lasts, and the rollback counters bootward
// makes now (noDA) stay readable, where a counter made as before (Heads' attributes) is refused.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startSwtpm, type Swtpm } from "../support/swtpm.ts";
import { openTpm, TpmLockoutError, TpmPolicyError, type Tpm } from "../../tpm/index.ts";
import { Tpm2Backend } from "../../tpm/tpm2/backend.ts";
import { ALG, NV, TPM_RH_LOCKOUT, TPM_RH_OWNER } from "../../tpm/tpm2/constants.ts";
import { password } from "../../tpm/tpm2/session.ts";
import { writeFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { readKeyring } from "../../gpg/verify.ts";
import { createNodeSys } from "../../runtime/host/node/sys.ts";
import { BootVerifyError, formatRollback, signBoot, verifyBoot } from "../../runtime/boot/index.ts";
import { makeBoot } from "../boot/support.ts";
import { makeDemoKey, type DemoKey } from "../support/signed-demo-boot.ts";

const text = (s: string) => new TextEncoder().encode(s);
const OWNER = "owner pass";
const HEADS_COUNTER = 0x01c0ffee;
const PASSPHRASE_SECRET = 0x4d50;
const TOTP_LIKE_SECRET = 0x4d51;

let sw: Swtpm;
let tpm: Tpm;
let newCounter: number;
let lockout: TpmLockoutError;
const sys = createNodeSys();
let key: DemoKey;
/** Signed before the lockout with the Heads-style counter. */
let headsBoot: string;

before(async () => {
  sw = await startSwtpm("2.0");
  tpm = await openTpm(sw.transport());
  await tpm.reset({ ownerPassphrase: OWNER, primaryKeyType: "ecc" });
  const cmd = (tpm as Tpm2Backend).cmd;
  // Three tries instead of Heads' ten, an hour to forget one: the same arithmetic, fewer commands.
  await cmd.dictionaryAttackParameters(TPM_RH_LOCKOUT, password(text(OWNER)), 3, 3600, 0);
  // A rollback counter as Heads' tpmr (and bootward before) defines it: no noDA.
  await cmd.nvDefineSpace(TPM_RH_OWNER, password(text(OWNER)), new Uint8Array(0), {
    index: HEADS_COUNTER,
    nameAlg: ALG.SHA256,
    attributes: NV.COUNTER | NV.OWNERREAD | NV.AUTHREAD | NV.AUTHWRITE,
    authPolicy: new Uint8Array(0),
    dataSize: 8,
  });
  await tpm.counterIncrement(HEADS_COUNTER);
  newCounter = await tpm.counterCreate({ ownerPassphrase: OWNER });
  await tpm.counterIncrement(newCounter);
  key = await makeDemoKey("Owner");
  headsBoot = makeBoot();
  writeFileSync(join(headsBoot, "kexec_rollback.txt"), formatRollback(HEADS_COUNTER, 1n));
  await signBoot(sys, { bootDir: headsBoot, signer: key.signer, tpm });
  await tpm.seal(text("disk key"), { handle: PASSPHRASE_SECRET, pcrs: [0, 7], passphrase: "right", ownerPassphrase: OWNER });
  await tpm.seal(text("totp secret"), { handle: TOTP_LIKE_SECRET, pcrs: [0, 7], ownerPassphrase: OWNER });

  for (let i = 0; i < 3; i++) {
    await assert.rejects(tpm.unseal({ handle: PASSPHRASE_SECRET, pcrs: [0, 7], passphrase: "wrong" }), (e: unknown) => e instanceof TpmPolicyError && /wrong passphrase/.test(e.message));
  }
  lockout = await tpm.unseal({ handle: PASSPHRASE_SECRET, pcrs: [0, 7], passphrase: "wrong" }).then(
    () => assert.fail("a fourth wrong passphrase unsealed"),
    (e: unknown) => {
      assert.ok(e instanceof TpmLockoutError, `expected the lockout, got ${String(e)}`);
      return e;
    },
  );
});

after(async () => {
  rmSync(dirname(headsBoot), { recursive: true, force: true });
  tpm.close();
  await sw.stop();
});

test("the lockout names the failures, the time left at most and how one is forgotten", async () => {
  assert.deepEqual(await tpm.lockoutState!(), { inLockout: true, failures: 3, maxTries: 3, recoveryTime: 3600, lockoutRecovery: 0 });
  assert.equal(lockout.secondsLeft, 3600);
  assert.equal(lockout.message, "the TPM is in dictionary-attack lockout after 3 failed authorizations (3 allowed): it accepts passphrases again in at most 60 minutes of powered-on time (one failure is forgotten every 60 minutes)");
  assert.equal(lockout.cause_.rcName, "TPM_RC_LOCKOUT");
});

test("in lockout even the right passphrase is refused, as a lockout and not as a wrong passphrase", async () => {
  await assert.rejects(tpm.unseal({ handle: PASSPHRASE_SECRET, pcrs: [0, 7], passphrase: "right" }), TpmLockoutError);
});

test("a counter made now (noDA) is read and moved on in lockout; one made with Heads' attributes is refused", async () => {
  assert.equal(await tpm.counterRead(newCounter), 1n);
  assert.equal(await tpm.counterIncrement(newCounter), 2n);
  await assert.rejects(tpm.counterRead(HEADS_COUNTER), (e: unknown) => e instanceof TpmLockoutError && /at most 60 minutes/.test(e.message));
  const pub = await (tpm as Tpm2Backend).cmd.nvReadPublic(newCounter);
  assert.ok(pub.area.attributes & NV.NO_DA, "the new counter lacks noDA");
});

test("a secret sealed to PCRs only (the TOTP's way) still unseals in lockout: no passphrase, no DA check", async () => {
  assert.deepEqual(await tpm.unseal({ handle: TOTP_LIKE_SECRET, pcrs: [0, 7] }), text("totp secret"));
  // Its PCR policy still holds in lockout.
  await tpm.extend(7, "changed");
  await assert.rejects(tpm.unseal({ handle: TOTP_LIKE_SECRET, pcrs: [0, 7] }), (e: unknown) => e instanceof TpmPolicyError && e.reason === "pcr");
});

test("the TOTP failure screen's sentence names the lockout, the time left and both ways out", async () => {
  const { lockoutAdvice } = await import("../../runtime/sealing/unseal.ts");
  assert.equal(
    lockoutAdvice(lockout),
    "The TPM is in dictionary-attack lockout after 3 failed authorizations (3 allowed): it accepts passphrases again in at most 60 minutes of powered-on time (one failure is forgotten every 60 minutes). Leave the machine on and wait, or reset the TPM (TPM/TOTP/HOTP Options → Reset the TPM), which ends the lockout along with everything sealed in it.",
  );
});

test("in lockout, /boot signed with a counter made now signs and verifies; one with a Heads-style counter fails its rollback check saying why", async () => {
  const keys = await readKeyring(key.publicArmored);
  const fresh = makeBoot();
  try {
    // No rollback file yet: signing creates a counter (owner authorization is DA-exempt) and moves it on.
    const signed = await signBoot(sys, { bootDir: fresh, signer: key.signer, tpm, ownerPassphrase: OWNER });
    const verified = await verifyBoot(sys, { bootDir: fresh, keys, tpm });
    assert.equal(verified.counter, signed.counter!.value);
  } finally {
    rmSync(dirname(fresh), { recursive: true, force: true });
  }
  await assert.rejects(
    verifyBoot(sys, { bootDir: headsBoot, keys, tpm }),
    (e: unknown) => e instanceof BootVerifyError && e.check === "rollback" && /dictionary-attack lockout .*at most 60 minutes/.test(e.message),
  );
});

test("every command buffer is zeroed once the TPM has answered: a password authorization travels in it in clear", async () => {
  const sent: Uint8Array[] = [];
  const inner = sw.transport();
  const keeping = { send: (c: Uint8Array) => (sent.push(c), inner.send(c)), close: () => inner.close?.() };
  tpm.close(); // swtpm serves one connection at a time
  const t = await openTpm(keeping);
  tpm = t;
  sent.length = 0;
  // In lockout the TPM refuses, after the authorizations have travelled all the same.
  await assert.rejects(t.unseal({ handle: PASSPHRASE_SECRET, pcrs: [0, 7], passphrase: "right" }), TpmLockoutError);
  await assert.rejects(t.nvRead(HEADS_COUNTER, 8, "index password"), TpmLockoutError);
  assert.ok(sent.length >= 3);
  for (const c of sent) assert.ok(c.every((b) => b === 0), `a command buffer was kept: ${Buffer.from(c).toString("hex").slice(0, 40)}…`);
});
