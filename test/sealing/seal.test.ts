// sealing/ on swtpm, one table of cases run on TPM 2.0 and on TPM 1.2: seal → unseal on the
// next boot → the TOTP code oathtool computes; a moved PCR 2, 7 or 4 refuses and is named; a
// wrong passphrase refuses as such; a record that does not match the seal is not believed; a
// reseal cut short after any step still leaves a secret that unseals on the next boot. Then,
// on TPM 2.0, interop with a secret tpm2-tools sealed the way Heads' tpmr does, and back.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createNodeSys } from "../../runtime/host/node/sys.ts";
import { Board, FLASHED, OWNER, STOCK, TAMPERED7 } from "../attest/support/board.ts";
import { reseal as resealSecret, type ResealStep } from "../../runtime/sealing/seal.ts";
import { unsealSecret, type UnsealFailure, type Unsealed } from "../../runtime/sealing/unseal.ts";
import { readRecord, writeRecord } from "../../runtime/sealing/record.ts";
import type { SealedSecret } from "../../runtime/sealing/secret.ts";
import { TOTP_SECRET } from "../../runtime/attest/constants.ts";
import { sealNewTotpSecret } from "../../runtime/attest/seal.ts";
import { extendPcr4 } from "../../runtime/measure/pcr4.ts";
import { totpCode } from "../../runtime/attest/otp.ts";
import { base32Encode } from "../../runtime/attest/base32.ts";
import { toHex } from "../../lib/bytes.ts";
import { rootedSys } from "../../runtime/host/rooted.ts";

const sys = createNodeSys();

/** A second secret with a passphrase, as the disk key will be. */
const WITH_PASSPHRASE: SealedSecret = {
  handle: 0x3,
  pendingHandle: 0x4d4a,
  recordIndex: { "2.0": 0x01800003, "1.2": 0x4d4b },
  pcrs: [0, 1, 2, 3, 4, 7],
  passphrase: "disk passphrase",
};

function ok(r: Unsealed | UnsealFailure): Unsealed {
  if ("failure" in r) assert.fail(`unseal failed: ${r.failure.explanation.join(" / ")}`);
  return r;
}
function refused(r: Unsealed | UnsealFailure): UnsealFailure["failure"] {
  if (!("failure" in r)) assert.fail("the secret unsealed although it must not");
  return r.failure;
}

const STEPS: ResealStep[] = ["pending-sealed", "pending-proven", "recorded", "main-evicted", "main-sealed", "main-proven", "pending-evicted"];

for (const version of ["2.0", "1.2"] as const) {
  describe(`TPM ${version}`, () => {
    let board: Board;
    const zero = "00".repeat(version === "2.0" ? 32 : 20);

    before(async () => {
      board = await Board.start(version);
      await board.boot(STOCK);
      await board.with((tpm) => tpm.reset({ ownerPassphrase: OWNER, primaryKeyType: "ecc" }));
    });
    after(async () => board.stop());

    const unseal = (secret = TOTP_SECRET) => board.with((tpm) => unsealSecret(tpm, rootedSys(sys, board.root), secret));
    const reseal = (onStep?: (s: ResealStep) => void) =>
      board.with((tpm) => sealNewTotpSecret(tpm, rootedSys(sys, board.root), { ownerPassphrase: OWNER, boardName: "qemu-tpm", onStep }));

    test("nothing sealed yet → absent", async () => {
      assert.equal(refused(await unseal()).kind, "absent");
    });

    test("seal → unseal on the next boot → the code oathtool computes; PCR 4 bound to the log's replay", async () => {
      const r = await reseal();
      assert.equal(r.secret.length, 20);
      assert.equal(r.proof, "unsealed");
      assert.equal(r.recordProblem, undefined);
      assert.match(r.enrolment.url, /^otpauth:\/\/totp\/qemu-tpm\?secret=[A-Z2-7]{32}$/);
      const b32 = base32Encode(r.secret);
      await board.boot(STOCK);
      const { secret, source } = ok(await unseal());
      assert.equal(source, "main");
      assert.deepEqual(secret, r.secret);
      const t = 1800000000;
      assert.equal(totpCode(secret, t * 1000).code, execFileSync("oathtool", ["--totp", "-b", `--now=@${t}`, b32], { encoding: "utf8" }).trim());
      // PCR 4's sealed value is the replay of the log's PCR 4 events, which the firmware left non-zero
      const rec = await board.with((tpm) => readRecord(tpm, TOTP_SECRET));
      const live4 = await board.with(async (tpm) => (await tpm.pcrRead([4])).get(4)!);
      assert.equal(toHex(rec!.values.get(4)!), toHex(live4));
      assert.notEqual(toHex(live4), zero);
      assert.equal(await board.with((tpm) => tpm.sealedObject(TOTP_SECRET.pendingHandle)), null, "the pending copy is gone once the reseal completed");
    });

    test("boot-time unseal: at most 5 TPM commands, no key created or loaded", async () => {
      await board.boot(STOCK);
      const { tpm, rec } = await board.open();
      try {
        rec.reset();
        ok(await unsealSecret(tpm, rootedSys(sys, board.root), TOTP_SECRET));
        const names = rec.names();
        assert.ok(!names.some((n) => /CreatePrimary|LoadKey|TPM_Seal/.test(n)), names.join(", "));
        assert.ok(names.length <= 5, `unseal took ${names.join(", ")}`);
      } finally {
        tpm.close();
      }
    });

    test("flashed firmware (PCR 2 moved, logged) → refused, PCR 2 named with the component", async () => {
      await board.boot(FLASHED);
      const f = refused(await unseal());
      assert.equal(f.kind, "pcr");
      assert.deepEqual(f.pcrs, [2]);
      const text = f.explanation.join("\n");
      assert.match(text, /PCR 2 changed/);
      assert.match(text, /option ROM v2 stand-in/);
    });

    test("PCR 7 extended outside the log → refused, PCR 7 named, the log does not reproduce it", async () => {
      await board.boot(TAMPERED7);
      const f = refused(await unseal());
      assert.deepEqual(f.pcrs, [7]);
      assert.match(f.explanation.join("\n"), /PCR 7 changed[\s\S]*does not reproduce/);
    });

    test("after the recovery extend of PCR 4 → refused for the rest of the boot, recovery named", async () => {
      await board.boot(STOCK);
      ok(await unseal());
      await board.with((tpm) => extendPcr4(tpm, "recovery"));
      const f = refused(await unseal());
      assert.deepEqual(f.pcrs, [4]);
      assert.match(f.explanation.join("\n"), /recovery shell/);
      await board.with((tpm) => extendPcr4(tpm, "unsafe"));
      assert.deepEqual(refused(await unseal()).pcrs, [4]);
      await board.boot(STOCK);
      ok(await unseal());
    });

    test("reseal with PCR 4 already extended: proven by the TPM's binding digest, unseals after a reboot and not before", async () => {
      await board.boot(STOCK);
      await board.with((tpm) => extendPcr4(tpm, "recovery"));
      const r = await reseal();
      assert.equal(r.proof, "binding");
      assert.deepEqual(refused(await unseal()).pcrs, [4]);
      await board.boot(STOCK);
      assert.deepEqual(ok(await unseal()).secret, r.secret);
    });

    test("a record that does not reproduce the seal is not believed: no PCR is named from it", async () => {
      await board.boot(STOCK);
      await reseal();
      const size = version === "2.0" ? 32 : 20;
      await board.with((tpm) => writeRecord(tpm, TOTP_SECRET, { pcrs: [0, 1, 2, 3, 4, 7], values: new Map([0, 1, 2, 3, 4, 7].map((p) => [p, new Uint8Array(size).fill(p + 1)])) }, OWNER));
      await board.boot(FLASHED);
      const forged = refused(await unseal());
      assert.equal(forged.kind, "pcr");
      assert.match(forged.explanation.join("\n"), /do not belong to the sealed secret/);
      assert.ok(!forged.pcrs.includes(0) && !forged.pcrs.includes(1), `a forged record named PCRs ${forged.pcrs.join(",")}`);
    });

    test("a secret with a passphrase: the right one unseals; a wrong one and a moved PCR are each refused as such", async () => {
      await board.boot(STOCK);
      const bytes = new Uint8Array(32).fill(0x5a);
      const r = await board.with((tpm) => resealSecret(tpm, rootedSys(sys, board.root), WITH_PASSPHRASE, bytes, { ownerPassphrase: OWNER }));
      assert.equal(r.proof, "unsealed");
      await board.boot(STOCK);
      assert.deepEqual(ok(await unseal(WITH_PASSPHRASE)).secret, bytes);
      const wrong = refused(await unseal({ ...WITH_PASSPHRASE, passphrase: "not the passphrase" }));
      assert.equal(wrong.kind, "passphrase");
      assert.match(wrong.explanation.join("\n"), /wrong passphrase/);
      await board.boot(TAMPERED7);
      const moved = refused(await unseal(WITH_PASSPHRASE));
      assert.equal(moved.kind, "pcr");
      assert.deepEqual(moved.pcrs, [7]);
    });

    for (const [i, step] of STEPS.entries()) {
      test(`reseal cut off after "${step}": the next boot still unseals a secret`, async () => {
        await board.boot(STOCK);
        const old = ok(await unseal()).secret;
        let fresh: Uint8Array | undefined;
        const cut = new Error("power cut");
        await assert.rejects(
          board.with((tpm) =>
            sealNewTotpSecret(tpm, { ...rootedSys(sys, board.root), randomBytes: (n: number) => (fresh = sys.randomBytes(n)).slice() }, {
              ownerPassphrase: OWNER,
              onStep: (s) => { if (s === step) throw cut; },
            })),
          (e) => e === cut,
        );
        await board.boot(STOCK);
        const got = ok(await unseal());
        const switched = i >= STEPS.indexOf("main-evicted");
        assert.deepEqual(got.secret, switched ? fresh : old, switched ? "the new secret" : "the old secret");
        if (step === "main-evicted") assert.equal(got.source, "pending");
        // a later complete reseal clears up whatever the cut left
        const done = await reseal();
        await board.boot(STOCK);
        assert.deepEqual(ok(await unseal()), { secret: done.secret, source: "main" });
      });
    }

    if (version === "2.0") {
      test("interop: a secret tpm2-tools sealed as Heads' tpmr does unseals through unsealSecret", async () => {
        await board.boot(STOCK);
        const f = (n: string) => join(board.root, n);
        const secret = Buffer.from("heads-sealed-secret!");
        // tpmr seal: PolicyPCR over current 0-3,7 and calcfuturepcr 4, from a value file
        const values = await board.with((tpm) => tpm.pcrRead([0, 1, 2, 3, 4, 7]));
        writeFileSync(f("secret"), secret);
        writeFileSync(f("pcrs.bin"), Buffer.concat([...values.values()]));
        const tool = (...a: string[]) => board.sw.tool(a);
        const owner = "hex:" + Buffer.from(OWNER).toString("hex");
        await tool("tpm2_startauthsession", "-Q", "-S", f("trial.ctx"));
        await tool("tpm2_policypcr", "-Q", "-l", "sha256:0,1,2,3,4,7", "-f", f("pcrs.bin"), "-S", f("trial.ctx"), "-L", f("policy.dat"));
        await tool("tpm2_flushcontext", "-Q", f("trial.ctx"));
        await tool("tpm2_create", "-Q", "-C", "0x81000000", "-i", f("secret"), "-u", f("s.pub"), "-r", f("s.priv"), "-L", f("policy.dat"), "-a", "fixedtpm|fixedparent|adminwithpolicy");
        await tool("tpm2_load", "-Q", "-C", "0x81000000", "-u", f("s.pub"), "-r", f("s.priv"), "-c", f("s.ctx"));
        await tool("tpm2_evictcontrol", "-Q", "-C", "o", "-P", owner, "-c", "0x81004d47"); // Heads evicts the old one first
        await tool("tpm2_evictcontrol", "-Q", "-C", "o", "-P", owner, "-c", f("s.ctx"), "0x81004d47");
        await tool("tpm2_flushcontext", "-t");
        await board.boot(STOCK);
        assert.deepEqual(Buffer.from(ok(await unseal()).secret), secret);
        // the record bootward left describes the same PCR values, so it still holds for this object
        await board.with((tpm) => extendPcr4(tpm, "recovery"));
        assert.deepEqual(refused(await unseal()).pcrs, [4]);
        // a Heads machine has no record: PCR 4 is still named (its clean value comes from the log), the others cannot be
        await tool("tpm2_nvundefine", "-C", "o", "-P", owner, "0x01804d47");
        const fail = refused(await unseal());
        assert.deepEqual(fail.pcrs, [4]);
        assert.match(fail.explanation.join("\n"), /No record of the PCR values[\s\S]*recovery shell/);
      });

      test("and back: a secret bootward sealed unseals with tpm2_unseal and a PolicyPCR session, as Heads' tpmr unseal does", async () => {
        await board.boot(STOCK);
        const r = await reseal();
        const f = (n: string) => join(board.root, n);
        const tool = (...a: string[]) => board.sw.tool(a);
        await tool("tpm2_startauthsession", "-Q", "--policy-session", "-S", f("session.ctx"));
        try {
          await tool("tpm2_policypcr", "-Q", "-l", "sha256:0,1,2,3,4,7", "-S", f("session.ctx"));
          assert.deepEqual(new Uint8Array((await tool("tpm2_unseal", "-p", "session:" + f("session.ctx"), "-c", "0x81004d47")).stdout), r.secret);
        } finally {
          await tool("tpm2_flushcontext", "-Q", f("session.ctx")).catch(() => undefined);
        }
      });
    }
  });
}
