// The OEM factory reset wizard through ScriptedPrompt on Node with swtpm, from a machine with
// an unsigned /boot and no key: defaults and custom answers; broken passphrase rules are
// refused with the rule shown; afterwards the TPM has the new owner, /boot verifies against
// the new keyring only, and the sealed TOTP secret is the one the QR code carries.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { openTpm, type Tpm } from "../../../tpm/index.ts";
import { createNodeSys } from "../../../runtime/host/node/sys.ts";
import { ScriptedPrompt, type ScriptedAnswer, type TranscriptEntry } from "../../../ui/scripted-prompt.ts";
import { plainUi } from "../../../runtime/flows/context.ts";
import { startFlows } from "../../../runtime/flows/boot.ts";
import { oemResetWizard, type OemResetOutcome } from "../../../runtime/flows/oem-reset/wizard.ts";
import { mainMenu } from "../../../runtime/flows/main-menu.ts";
import { inMemorySigner } from "../../../gpg/sign.ts";
import { readKeyring } from "../../../gpg/verify.ts";
import { BootVerifyError, signBoot, verifyBoot } from "../../../runtime/boot/index.ts";
import { unsealTotp } from "../../../runtime/attest/unseal.ts";
import { totpCode } from "../../../runtime/attest/otp.ts";
import { makeBoot } from "../../boot/support.ts";
import { makeRoot, useRig } from "./fixture.ts";
import { PENDING_FILE } from "../../../runtime/ownership/pending.ts";
import { rootedSys } from "../../../runtime/host/rooted.ts";

const sys = createNodeSys();
const rig = useRig();

function blankRoot(config = ""): string {
  const root = makeRoot(config);
  mkdirSync(join(root, "media"));
  const boot = makeBoot();
  rig.dirs.push(root, dirname(boot));
  cpSync(boot, join(root, "boot"), { recursive: true });
  return root;
}

async function wizard(root: string, answers: ScriptedAnswer[]): Promise<{ prompt: ScriptedPrompt; outcome: OemResetOutcome }> {
  const prompt = new ScriptedPrompt(answers);
  const ctx = await startFlows(rootedSys(sys, root), plainUi(prompt), { firmware: false, openTpm: () => openTpm(rig.sw.transport(), { random: (n) => sys.randomBytes(n) }) });
  try {
    const outcome = await oemResetWizard(ctx);
    prompt.assertDone();
    return { prompt, outcome };
  } finally {
    ctx.tpm?.close();
  }
}

type Of<K extends TranscriptEntry["kind"]> = Extract<TranscriptEntry, { kind: K }>;
const entries = <K extends TranscriptEntry["kind"]>(p: ScriptedPrompt, kind: K) => p.transcript.filter((e): e is Of<K> => e.kind === kind);

async function verifyWith(root: string, armoredKeys: string | Buffer, tpm: Tpm) {
  return verifyBoot(sys, { bootDir: join(root, "boot"), keys: await readKeyring(armoredKeys), tpm });
}

test("defaults: TPM owned with 12345678, /boot signed by the new key with a counter, TOTP sealed and shown, summary lists the secrets", async () => {
  const root = blankRoot();
  const { prompt, outcome } = await wizard(root, [{ confirm: true }, { confirm: true }, { menu: "n" }]);
  assert.equal(outcome, "done", JSON.stringify(entries(prompt, "message")));
  assert.deepEqual(entries(prompt, "menu")[0]!.items.map((i) => i.key), ["r", "f", "n"], "no USB drive is plugged in: the drive choice says to plug one in");
  assert.equal(existsSync(join(root, "boot", PENDING_FILE)), false, "a finished reset leaves no note in /boot");
  const keyring = readFileSync(join(root, ".gnupg/pubring.gpg"));
  const [publicKey] = await readKeyring(keyring);
  assert.deepEqual(publicKey!.getUserIDs().length, 1);
  assert.match(publicKey!.getUserIDs()[0]!, /^OEM Key \(OEM-generated key\) <oem-\d{14}@example\.com>$/);
  assert.equal(publicKey!.getAlgorithmInfo().algorithm, "eddsaLegacy");
  // GnuPG 2.2 reads the new public key.
  const imported = rig.gpg.gpg(["--import", "--import-options", "show-only", "--with-colons"], keyring).toString();
  assert.match(imported, new RegExp(`^fpr:+${publicKey!.getFingerprint().toUpperCase()}:`, "m"));

  const verified = await rig.sw.withTpm((tpm) => verifyWith(root, keyring, tpm));
  assert.equal(verified.signer, publicKey!.getFingerprint().toUpperCase());
  assert.notEqual(verified.counter, null, "a rollback counter was created");
  assert.equal(verified.defaultChoice?.index, 1);

  const qr = entries(prompt, "qr")[0];
  assert.ok(qr, "the QR code is shown in the same run");
  const base32 = /secret=([A-Z2-7]+)/.exec(qr.payload)![1]!;
  const unsealed = await rig.sw.withTpm((tpm) => unsealTotp(tpm, rootedSys(sys, root)));
  assert.ok("secret" in unsealed, JSON.stringify(unsealed));
  const now = Date.now();
  const oath = execFileSync("oathtool", ["--totp", "-b", `--now=@${Math.floor(now / 1000)}`, base32], { encoding: "utf8" }).trim();
  assert.equal(totpCode(unsealed.secret, now).code, oath, "the sealed secret is the one in the QR code");

  const done = entries(prompt, "message").find((m) => m.title.endsWith(": done"))!;
  assert.match(done.text, /TPM owner passphrase: +12345678/);
  assert.doesNotMatch(done.text, /Signing key passphrase/, "no copy was kept, so no passphrase protects anything");

  // The owner passphrase took: NV space needs it now.
  await rig.sw.withTpm(async (tpm) => {
    await assert.rejects(tpm.nvDefine(0x01c0ffee, 8, { ownerPassphrase: "wrong-pass" }));
    await tpm.nvDefine(0x01c0ffee, 8, { ownerPassphrase: "12345678" });
    await tpm.nvUndefine(0x01c0ffee, "12345678");
  });
});

test("custom answers: short, mismatched and valid passphrases; custom identity; the key passphrase unlocks the key", async () => {
  const root = blankRoot();
  const { prompt, outcome } = await wizard(root, [
    { confirm: true }, { confirm: false }, { confirm: true },
    { password: "short" }, { password: "correct horse" }, { password: "correct hors" },
    { password: "correct horse" }, { password: "correct horse" },
    { confirm: true }, { input: "" }, { input: "Alice Owner" }, { input: "alice@example.org" }, { input: "laptop" },
    { menu: "f" }, { input: "/nowhere/key.sec" }, { input: "/boot/grub/grub.cfg" }, { input: "/media/privkey.sec" },
  ]);
  assert.equal(outcome, "done");
  const passwords = entries(prompt, "password");
  assert.equal(passwords[0]!.rejected, "The passphrase must be 8 to 25 characters long (this one has 5).", "the rule is shown");
  assert.ok(entries(prompt, "message").some((m) => m.text.startsWith("The two passphrases differ")));
  assert.match(entries(prompt, "input")[0]!.rejected!, /name must be 1 to 60 characters/);
  const [key] = await readKeyring(readFileSync(join(root, ".gnupg/pubring.gpg")));
  assert.equal(key!.getUserIDs()[0], "Alice Owner (laptop) <alice@example.org>");
  const done = entries(prompt, "message").find((m) => m.title.endsWith(": done"))!;
  assert.match(done.text, /TPM owner passphrase: +correct horse/);
  assert.deepEqual(entries(prompt, "input").slice(-3).map((i) => i.rejected), [
    "/nowhere is not a directory; mount the USB drive there first.",
    "/boot/grub/grub.cfg already exists; choose another name so no key is overwritten.",
    undefined,
  ]);
  const copy = readFileSync(join(root, "media/privkey.sec"));
  assert.match(copy.toString(), /^-----BEGIN PGP PRIVATE KEY BLOCK-----/);
  await assert.rejects(inMemorySigner(copy), /protected by a passphrase/, "the copy is never in clear");
  await assert.rejects(inMemorySigner(copy, new TextEncoder().encode("wrong horse")), /does not unlock/);
  assert.equal((await inMemorySigner(copy, new TextEncoder().encode("correct horse"))).fingerprint, key!.getFingerprint().toUpperCase());
  await rig.sw.withTpm(async (tpm) => {
    await tpm.nvDefine(0x01c0ffee, 8, { ownerPassphrase: "correct horse" });
    await tpm.nvUndefine(0x01c0ffee, "correct horse");
  });
});

test("separate passphrases: TPM owner under 8 and key passphrase under 6 are refused with their rules", async () => {
  const root = blankRoot();
  const { prompt, outcome } = await wizard(root, [
    { confirm: true }, { confirm: false }, { confirm: false },
    { password: "1234567" }, { password: "owner-pass" }, { password: "owner-pass" },
    { password: "12345" }, { password: "key-pass" }, { password: "key-pass" },
    { confirm: false }, { menu: "f" }, { input: "/media/separate.sec" },
  ]);
  assert.equal(outcome, "done");
  const rejected = entries(prompt, "password").map((p) => p.rejected).filter(Boolean);
  assert.deepEqual(rejected, [
    "The TPM owner passphrase must be 8 to 32 characters long (this one has 7).",
    "The signing key passphrase must be 6 to 25 characters long (this one has 5).",
  ]);
  const done = entries(prompt, "message").find((m) => m.title.endsWith(": done"))!;
  assert.match(done.text, /TPM owner passphrase: +owner-pass/);
  assert.match(done.text, /Signing key passphrase: +key-pass/);
});

test("re-ownership: the previous owner's signed /boot and keyring are replaced; their key no longer verifies /boot", async () => {
  const root = blankRoot();
  const previous = await inMemorySigner(rig.gpg.ownerSecret());
  await signBoot(sys, { bootDir: join(root, "boot"), signer: previous, defaultIndex: 2 });
  mkdirSync(join(root, ".gnupg"));
  writeFileSync(join(root, ".gnupg/pubring.kbx"), "an old keybox, read before pubring.gpg");
  const { outcome } = await wizard(root, [{ confirm: true }, { confirm: true }, { menu: "n" }]);
  assert.equal(outcome, "done");
  assert.equal(existsSync(join(root, ".gnupg/pubring.kbx")), false, "the old keyring, read before pubring.gpg, is gone");
  assert.deepEqual(readdirSync(join(root, "boot")).filter((n) => n.startsWith("kexec_default.")), ["kexec_default.1.txt"]);
  await rig.sw.withTpm(async (tpm) => {
    await assert.rejects(verifyWith(root, rig.gpg.ownerPublic(), tpm), (e) => e instanceof BootVerifyError && e.check === "signature");
    await verifyWith(root, readFileSync(join(root, ".gnupg/pubring.gpg")), tpm);
  });
});

test("cancelled at the warning or at the questions: TPM owner, /boot and keyring untouched", async () => {
  const owner = "kept-owner";
  await rig.sw.withTpm((tpm) => tpm.reset({ ownerPassphrase: owner }));
  for (const answers of [[{ confirm: false }], [{ confirm: true }, { confirm: false }, { confirm: true }, { password: null }]] as ScriptedAnswer[][]) {
    const root = blankRoot();
    const before = readdirSync(join(root, "boot")).sort();
    const { outcome } = await wizard(root, answers);
    assert.equal(outcome, "cancelled");
    assert.deepEqual(readdirSync(join(root, "boot")).sort(), before);
    assert.equal(existsSync(join(root, ".gnupg")), false);
    await rig.sw.withTpm(async (tpm) => {
      await tpm.nvDefine(0x01c0ffee, 8, { ownerPassphrase: owner });
      await tpm.nvUndefine(0x01c0ffee, owner);
    });
  }
});

test("an unknown CONFIG_GPG_ALGO stops the wizard before the TPM is touched", async () => {
  const root = blankRoot('export CONFIG_GPG_ALGO="p256"\n');
  const { prompt, outcome } = await wizard(root, []);
  assert.equal(outcome, "failed");
  assert.match(entries(prompt, "message")[0]!.text, /CONFIG_GPG_ALGO="p256" is not a key type bootward can generate/);
});

test("the secret key copy re-signs /boot after a kernel update, from Options, with the key passphrase", async () => {
  const root = blankRoot();
  const { outcome } = await wizard(root, [{ confirm: true }, { confirm: true }, { menu: "f" }, { input: "/media/privkey.sec" }]);
  assert.equal(outcome, "done");
  writeFileSync(join(root, "boot/vmlinuz-6.1"), "a new kernel");
  const keyring = readFileSync(join(root, ".gnupg/pubring.gpg"));
  await rig.sw.withTpm(async (tpm) => assert.rejects(verifyWith(root, keyring, tpm), /hashes check/));
  const prompt = new ScriptedPrompt([
    { menu: "o" }, { menu: "u" }, { confirm: true }, { menu: "k" }, { menu: "f" }, { input: "/media/privkey.sec" }, { password: "12345678" }, { menu: "r" }, { menu: "p" },
  ]);
  const ctx = await startFlows(rootedSys(sys, root), plainUi(prompt), { firmware: false, openTpm: () => openTpm(rig.sw.transport(), { random: (n) => sys.randomBytes(n) }) });
  try {
    assert.equal(await mainMenu(ctx), "poweroff");
  } finally {
    ctx.tpm?.close();
  }
  const signed = entries(prompt, "message").find((m) => m.title === "Update checksums and sign /boot");
  assert.equal(signed?.tone, "success", signed?.text);
  const v = await rig.sw.withTpm((tpm) => verifyWith(root, keyring, tpm));
  assert.equal(v.defaultChoice?.index, 1, "the default chosen by the reset is kept");
});
