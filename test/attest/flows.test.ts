// The attestation flows on swtpm through the Prompt API: Options → TPM/TOTP/HOTP → Reset the
// TPM → a new secret, shown as a QR code, whose code then fills the header as oathtool
// computes it; a PCR 7 changed outside the log → red header and gui-init's failure menu
// naming PCR 7, and no new secret over an unverified /boot; the recovery shell's PCR 4
// extend → the code is refused for the rest of the boot; with /boot signed and verifying,
// the gate opens and a new secret is sealed to the changed firmware. On TPM 2.0 and TPM 1.2.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { join } from "node:path";
import { BootSignError, ROLLBACK_FILE, signBoot, verifyBoot } from "../../runtime/boot/index.ts";
import { readKeyring } from "../../gpg/verify.ts";
import { makeBoot } from "../boot/support.ts";
import { makeDemoKey } from "../support/signed-demo-boot.ts";
import { Board, OWNER, STOCK, TAMPERED7, text } from "./support/board.ts";
import { BOARD_CONFIG, entries, headerAt, MAIN, run, sys, T } from "./support/flows.ts";

const oathtool = (b32: string) => execFileSync("oathtool", ["--totp", "-b", `--now=@${T / 1000}`, b32], { encoding: "utf8" }).trim();

for (const version of ["2.0", "1.2"] as const) {
  describe(`TPM ${version}`, () => {
    let board: Board;
    let base32 = "";

    before(async () => {
      board = await Board.start(version);
      mkdirSync(join(board.root, "etc"), { recursive: true });
      writeFileSync(join(board.root, "etc/config"), BOARD_CONFIG);
    });
    after(async () => board.stop());

    test("Options → TPM/TOTP/HOTP → Reset the TPM → new secret: QR of the otpauth URL; the header then shows oathtool's code, green", async () => {
      await board.boot(STOCK);
      const p = await run(board, [
        { menu: "o" }, { menu: "t" }, { menu: "r" }, { confirm: true }, { password: OWNER }, { password: OWNER },
        { menu: "c" }, { menu: "m" }, { menu: "r" }, { menu: "p" },
      ]);
      const before = headerAt(p, MAIN, 0);
      assert.equal(before.integrity, "unknown", "no secret yet: yellow, not green");
      assert.deepEqual(before.totp, { error: "not configured" });
      const [qr] = entries(p, "qr");
      const m = /^otpauth:\/\/totp\/Test%20Board\?secret=([A-Z2-7]{32})$/.exec(qr!.payload);
      assert.ok(m, qr!.payload);
      base32 = m[1]!;
      assert.match(qr!.text, new RegExp(`Or type this secret: ${base32.replace(/(.{4})(?=.)/g, "$1 ")}`));
      assert.ok(qr!.text.includes(`This machine's clock: ${new Date(T).toISOString().slice(0, 19).replace("T", " ")} UTC.`), qr!.text);
      const check = entries(p, "menu").find((e) => e.title === "Check the code on your phone")!;
      assert.match(check.text!, new RegExp(`code now: ${oathtool(base32)} `));
      const afterGen = headerAt(p, MAIN, 1);
      assert.deepEqual(afterGen.totp, { code: oathtool(base32), expiresAt: Math.ceil((T + 1) / 30000) * 30000 });
      assert.equal(afterGen.integrity, "ok");
      assert.match(entries(p, "menu").filter((e) => e.title === MAIN)[1]!.text!, new RegExp(`TOTP: ${oathtool(base32)} \\| HOTP: not configured`));
      assert.deepEqual(entries(p, "message").map((e) => e.title), ["New TOTP/HOTP secret sealed"]);
    });

    test("next boot: the header shows the same code at once, green", async () => {
      assert.ok(base32, "needs the secret of the previous test");
      await board.boot(STOCK);
      const p = await run(board, [{ menu: "p" }]);
      const h = headerAt(p, MAIN);
      assert.deepEqual(h.totp, { code: oathtool(base32), expiresAt: Math.ceil((T + 1) / 30000) * 30000 });
      assert.equal(h.integrity, "ok");
    });

    test("PCR 7 changed outside the log → red header, failure menu g/p/i/x naming PCR 7; g refused while /boot does not verify", async () => {
      assert.ok(base32);
      await board.boot(TAMPERED7);
      const p = await run(board, [{ menu: "g" }, { menu: "i" }, { menu: "p" }]);
      const [failure] = entries(p, "menu");
      assert.equal(failure!.title, "ERROR: the TOTP/HOTP secret did not unseal");
      assert.deepEqual(failure!.items.map((i) => i.key), ["g", "p", "i", "x"]);
      assert.match(failure!.text!, /refused to unseal the secret because PCR 7 moved\./);
      assert.match(failure!.text!, /PCR 7 changed since the secret was sealed \(files the firmware carries/);
      assert.match(failure!.text!, /does not reproduce|does not match the event log/);
      const red = headerAt(p, failure!.title);
      assert.equal(red.integrity, "tampered");
      assert.match(red.reason!, /PCR 7/);
      const [refusal] = entries(p, "message");
      assert.equal(refusal!.title, "Generating a new secret is refused");
      assert.match(refusal!.text, /\/boot could not be checked|\/boot failed/);
      assert.equal(entries(p, "qr").length, 0, "no new secret");
      const main = headerAt(p, MAIN);
      assert.equal(main.integrity, "tampered", "ignoring the error keeps the header red");
      assert.deepEqual(main.totp, { error: "unseal failed: PCR 7 changed" });
    });

    test("recovery shell (PCR 4 extended) → the refreshed header refuses the code, red, PCR 4 named", async () => {
      assert.ok(base32);
      await board.boot(STOCK);
      const p = await run(board, [{ menu: "o" }, { menu: "x" }, { menu: "r" }, { menu: "r" }, { menu: "p" }]);
      assert.equal(headerAt(p, MAIN, 0).integrity, "ok");
      // main menu #1 is the return from Options; #2 follows the r refresh
      const after = headerAt(p, MAIN, 2);
      assert.equal(after.integrity, "tampered");
      assert.deepEqual(after.totp, { error: "unseal failed: PCR 4 changed" });
      assert.match(entries(p, "menu").filter((e) => e.title === MAIN)[2]!.text!, /TOTP: unseal failed: PCR 4 changed/);
    });

    test("after the failure, with /boot signed and verifying: the integrity report, then a new secret for the changed firmware, green", async () => {
      assert.ok(base32);
      const fixture = makeBoot();
      cpSync(fixture, join(board.root, "boot"), { recursive: true });
      rmSync(dirname(fixture), { recursive: true, force: true });
      const key = await makeDemoKey("Owner");
      mkdirSync(join(board.root, ".gnupg"), { recursive: true });
      writeFileSync(join(board.root, ".gnupg/pubring.asc"), key.publicArmored);
      await signBoot(sys, { bootDir: join(board.root, "boot"), signer: key.signer });
      await board.boot(TAMPERED7);
      const p = await run(board, [{ menu: "g" }, { confirm: true }, { password: OWNER }, { menu: "c" }, { menu: "p" }]);
      const [report] = entries(p, "confirm");
      assert.equal(report!.title, "Integrity report");
      assert.equal(report!.defaultYes, false);
      assert.match(report!.text, /PCR 7 changed/);
      assert.match(report!.text, /\/boot: the signature and every file's hash verify\./);
      const [qr] = entries(p, "qr");
      const fresh = /secret=([A-Z2-7]{32})$/.exec(qr!.payload)![1]!;
      assert.notEqual(fresh, base32, "a new secret");
      const main = headerAt(p, MAIN);
      assert.equal(main.integrity, "ok");
      assert.deepEqual(main.totp, { code: oathtool(fresh), expiresAt: Math.ceil((T + 1) / 30000) * 30000 });
    });

    test("Reset the TPM on a /boot signed with a rollback counter: the stale kexec_rollback.txt goes, the next signing starts a new counter that verifies", async () => {
      const bootDir = join(board.root, "boot");
      const fixture = makeBoot();
      rmSync(bootDir, { recursive: true, force: true });
      cpSync(fixture, bootDir, { recursive: true });
      rmSync(dirname(fixture), { recursive: true, force: true });
      const key = await makeDemoKey("Owner");
      mkdirSync(join(board.root, ".gnupg"), { recursive: true });
      writeFileSync(join(board.root, ".gnupg/pubring.asc"), key.publicArmored);
      const first = await board.with((tpm) => signBoot(sys, { bootDir, signer: key.signer, tpm, ownerPassphrase: text(OWNER) }));
      assert.ok(first.counter, "signed with a rollback counter");
      const stale = readFileSync(join(bootDir, ROLLBACK_FILE));
      // The firmware the previous test sealed to: the main menu comes first, no failure menu.
      await board.boot(TAMPERED7);
      await run(board, [{ menu: "o" }, { menu: "t" }, { menu: "r" }, { confirm: true }, { password: OWNER }, { password: OWNER }, { menu: "c" }, { menu: "m" }, { menu: "r" }, { menu: "p" }]);
      assert.equal(existsSync(join(bootDir, ROLLBACK_FILE)), false, "the reset removed the file naming the cleared counter");
      // Put back, the stale file makes signing stop with the way out, not a raw TPM error.
      writeFileSync(join(bootDir, ROLLBACK_FILE), stale);
      await assert.rejects(
        board.with((tpm) => signBoot(sys, { bootDir, signer: key.signer, tpm, ownerPassphrase: text(OWNER) })),
        (e: unknown) => e instanceof BootSignError && /cannot read rollback counter .* the TPM was reset or swapped/.test(e.message) && /Reset the TPM with \/boot present/.test(e.message),
      );
      rmSync(join(bootDir, ROLLBACK_FILE));
      const second = await board.with((tpm) => signBoot(sys, { bootDir, signer: key.signer, tpm, ownerPassphrase: text(OWNER) }));
      assert.ok(second.counter);
      const keys = await readKeyring(key.publicArmored);
      const verified = await board.with((tpm) => verifyBoot(sys, { bootDir, keys, tpm, date: new Date(T) }));
      assert.equal(verified.counter, second.counter.value);
    });
  });
}
