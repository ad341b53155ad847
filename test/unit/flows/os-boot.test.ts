// The /boot items of the menus driven through ScriptedPrompt on Node, with swtpm holding the
// rollback counter: Default boot (verified → the kexec plan; tampered → refused, the check
// and the files named, nothing booted), the OS boot menu, the unsafe boot (PCR 4 extended,
// refused under Restricted Boot) and "Update checksums and sign" (wrong passphrase → nothing
// changed).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { appendFileSync, cpSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { openTpm, type Tpm } from "../../../tpm/index.ts";
import { createNodeSys } from "../../../runtime/host/node/sys.ts";
import { ScriptedPrompt, type ScriptedAnswer, type TranscriptEntry } from "../../../ui/scripted-prompt.ts";
import { plainUi, type FlowContext } from "../../../runtime/flows/context.ts";
import { startFlows } from "../../../runtime/flows/boot.ts";
import { mainMenu } from "../../../runtime/flows/main-menu.ts";
import { VERIFY_FAILED_TITLE } from "../../../runtime/flows/os-boot.ts";
import { inMemorySigner } from "../../../gpg/sign.ts";
import { signBoot, verifyBoot } from "../../../runtime/boot/index.ts";
import { readKeyring } from "../../../gpg/verify.ts";
import { makeBoot } from "../../boot/support.ts";
import { PCR4_STRINGS } from "../../../runtime/measure/pcr4.ts";
import { makeRoot, useRig } from "./fixture.ts";
import { rootedSys } from "../../../runtime/host/rooted.ts";

const sys = createNodeSys();
const rig = useRig();

/** A fixture root whose /boot is signed by the owner (default entry 1, counter on swtpm) and whose ROM keyring holds the owner's key. */
async function signedRoot(config = ""): Promise<string> {
  const root = makeRoot(config);
  const boot = makeBoot();
  rig.dirs.push(root, dirname(boot));
  cpSync(boot, join(root, "boot"), { recursive: true });
  mkdirSync(join(root, ".gnupg"));
  writeFileSync(join(root, ".gnupg/pubring.asc"), rig.gpg.ownerPublic());
  const signer = await inMemorySigner(rig.gpg.ownerSecret());
  await rig.sw.withTpm((tpm) => signBoot(sys, { bootDir: join(root, "boot"), signer, tpm, defaultIndex: 1 }));
  return root;
}

async function flows(root: string, answers: ScriptedAnswer[]): Promise<{ prompt: ScriptedPrompt; ctx: FlowContext }> {
  const prompt = new ScriptedPrompt(answers);
  const ctx = await startFlows(rootedSys(sys, root), plainUi(prompt), {
    firmware: false,
    shell: ["sh", "-c", "exit 0"],
    openTpm: () => openTpm(rig.sw.transport(), { random: (n) => sys.randomBytes(n) }),
  });
  return { prompt, ctx };
}

async function run(root: string, answers: ScriptedAnswer[]): Promise<ScriptedPrompt> {
  const { prompt, ctx } = await flows(root, [...answers, { menu: "p" }]);
  try {
    assert.equal(await mainMenu(ctx), "poweroff");
  } finally {
    ctx.tpm?.close();
  }
  prompt.assertDone();
  return prompt;
}

type Of<K extends TranscriptEntry["kind"]> = Extract<TranscriptEntry, { kind: K }>;
const entries = <K extends TranscriptEntry["kind"]>(p: ScriptedPrompt, kind: K) => p.transcript.filter((e): e is Of<K> => e.kind === kind);
const message = (p: ScriptedPrompt, title: string) => entries(p, "message").find((m) => m.title === title);
const failure = (p: ScriptedPrompt) => entries(p, "menu").find((m) => m.title === VERIFY_FAILED_TITLE);

test("Default boot: a signed /boot verifies and the signed default entry is planned with kexec", async () => {
  const root = await signedRoot();
  const prompt = await run(root, [{ menu: "d" }]);
  assert.equal(failure(prompt), undefined);
  const plan = message(prompt, "Boot plan (not PID 1: nothing is booted)");
  assert.ok(plan, JSON.stringify(prompt.titles()));
  assert.match(plan.text, /^boot: Debian GNU\/Linux$/m);
  // The verified copies in tmpfs are loaded, never /boot itself.
  const stage = "/tmp/kexec-boot";
  assert.ok(plan.text.includes(`copy: /boot/vmlinuz-6.1 → ${stage}/0-vmlinuz-6.1 (must hash to `), plan.text);
  assert.ok(plan.text.includes(`load: kexec -l ${stage}/0-vmlinuz-6.1 --initrd=${stage}/1-initrd.img-6.1 '--append=root=/dev/vda1 ro quiet'`), plan.text);
  assert.match(plan.text, /then: extend PCR 4; wipe secrets; TPM finalize; kexec -e/);
});

test("Default boot with the firmware clock a day behind the signature: verified, with a warning about the clock", async () => {
  const root = await signedRoot();
  const prompt = new ScriptedPrompt([{ menu: "d" }, { menu: "p" }]);
  const behind = { ...sys, now: () => Date.now() - 24 * 3600 * 1000 };
  const ctx = await startFlows(rootedSys(behind, root), plainUi(prompt), { firmware: false, openTpm: () => openTpm(rig.sw.transport(), { random: (n) => sys.randomBytes(n) }) });
  try {
    assert.equal(await mainMenu(ctx), "poweroff");
  } finally {
    ctx.tpm?.close();
  }
  const warning = message(prompt, "The firmware clock is behind");
  assert.equal(warning?.tone, "warning");
  assert.match(warning!.text, /the clock is behind/);
  assert.ok(message(prompt, "Boot plan (not PID 1: nothing is booted)"), "the boot went on");
});

test("Default boot: one byte of the kernel changed → refused, the check and the file named, nothing planned, header red", async () => {
  const root = await signedRoot();
  appendFileSync(join(root, "boot/vmlinuz-6.1"), "x");
  const prompt = await run(root, [{ menu: "d" }, { menu: "r" }]);
  const menu = failure(prompt);
  assert.ok(menu, JSON.stringify(prompt.titles()));
  const lines = menu.text!.split("\n");
  assert.equal(lines[0], "Failed check: hashes");
  assert.ok(lines.includes("changed: /boot/vmlinuz-6.1"), menu.text);
  assert.match(menu.text!, /Nothing was booted/);
  assert.deepEqual(menu.items.map((i) => i.key), ["r", "i", "x"]);
  assert.equal(entries(prompt, "message").some((m) => m.title.startsWith("Boot plan")), false, "nothing may be booted");
  const red = entries(prompt, "status").find((s) => s.status.integrity === "tampered");
  assert.ok(red, "the header turns red");
  assert.equal(red.status.reason, "/boot hashes check failed");
});

test("Default boot: a file added, a file removed, grub.cfg edited → each refused with the file named", async () => {
  const cases: [string, (boot: string) => void, string][] = [
    ["appeared: /boot/evil.ko", (b) => writeFileSync(join(b, "evil.ko"), "x"), "hashes"],
    ["vanished: /boot/config-6.1", (b) => rmSync(join(b, "config-6.1")), "hashes"],
    ["changed: /boot/grub/grub.cfg", (b) => appendFileSync(join(b, "grub/grub.cfg"), "# edited\n"), "hashes"],
  ];
  for (const [line, tamper, check] of cases) {
    const root = await signedRoot();
    tamper(join(root, "boot"));
    const menu = failure(await run(root, [{ menu: "d" }, { menu: "r" }]));
    assert.ok(menu);
    assert.equal(menu.text!.split("\n")[0], `Failed check: ${check}`);
    assert.ok(menu.text!.split("\n").includes(line), `${line} not in:\n${menu.text}`);
  }
});

test("Default boot: signed by a key that is not in the ROM keyring → signature check refuses", async () => {
  const root = await signedRoot();
  const stranger = await inMemorySigner(rig.gpg.strangerSecret());
  await rig.sw.withTpm((tpm) => signBoot(sys, { bootDir: join(root, "boot"), signer: stranger, tpm, defaultIndex: 1 }));
  const menu = failure(await run(root, [{ menu: "d" }, { menu: "r" }]));
  assert.ok(menu);
  assert.equal(menu.text!.split("\n")[0], "Failed check: signature");
  assert.match(menu.text!, /not in the keyring/);
});

test("Default boot without a ROM keyring → refused with a sentence that says how to add one", async () => {
  const root = await signedRoot();
  rmSync(join(root, ".gnupg"), { recursive: true });
  const menu = failure(await run(root, [{ menu: "d" }, { menu: "r" }]));
  assert.ok(menu);
  assert.match(menu.text!, /no OpenPGP keyring was found .*add your public key/);
});

test("Failure menu → i: the unsafe boot extends PCR 4 and plans the chosen entry with Heads' forced-boot command line", async () => {
  const root = await signedRoot();
  appendFileSync(join(root, "boot/initrd.img-6.1"), "x");
  const before = await rig.sw.withTpm((tpm) => tpm.pcrRead([4]));
  const prompt = await run(root, [{ menu: "d" }, { menu: "i" }, { confirm: true }, { menu: "2" }]);
  const after = await rig.sw.withTpm((tpm) => tpm.pcrRead([4]));
  const expected = createHash("sha256").update(before.get(4)!).update(createHash("sha256").update(PCR4_STRINGS.unsafe).digest()).digest();
  assert.deepEqual(Buffer.from(after.get(4)!), expected, "PCR 4 = extend(H(\"unsafe-boot\"))");
  const plan = message(prompt, "Boot plan (not PID 1: nothing is booted)");
  assert.ok(plan);
  assert.match(plan.text, /^UNSAFE \(unverified\) boot: Debian GNU\/Linux \(recovery\)$/m);
  assert.match(plan.text, /vt\.default_red=0xff/);
  assert.ok(entries(prompt, "status").some((s) => s.status.integrity === "forced"));
});

test("Unsafe boot without a TPM: the screen says in red that nothing was measured before the entry is planned", async () => {
  const root = await signedRoot();
  const prompt = new ScriptedPrompt([{ menu: "d" }, { menu: "i" }, { confirm: true }, { menu: "1" }, { menu: "p" }]);
  const ctx = await startFlows(rootedSys(sys, root), plainUi(prompt), { firmware: false, openTpm: () => Promise.reject(new Error("the TPM did not answer")) });
  assert.equal(ctx.tpm, null);
  assert.equal(await mainMenu(ctx), "poweroff");
  prompt.assertDone();
  // The signed counter cannot be read without the TPM, so verification fails first.
  assert.match(failure(prompt)?.text ?? "", /rollback/);
  const warning = message(prompt, "Nothing was measured");
  assert.equal(warning?.tone, "error");
  assert.match(warning!.text, /The TPM could not be opened \(the TPM did not answer\), so PCR 4 was not extended/);
  const titles = prompt.titles();
  assert.ok(titles.indexOf("Nothing was measured") < titles.indexOf("Boot plan (not PID 1: nothing is booted)"), JSON.stringify(titles));
});

test("Unsafe boot declined at the confirmation → PCR 4 untouched, nothing planned", async () => {
  const root = await signedRoot();
  const before = await rig.sw.withTpm((tpm) => tpm.pcrRead([4]));
  const prompt = await run(root, [{ menu: "o" }, { menu: "b" }, { menu: "i" }, { confirm: false }, { menu: "r" }, { menu: "r" }]);
  const after = await rig.sw.withTpm((tpm) => tpm.pcrRead([4]));
  assert.deepEqual(after.get(4), before.get(4));
  assert.equal(message(prompt, "Boot plan (not PID 1: nothing is booted)"), undefined);
});

test("Restricted Boot: no unsafe item in Boot Options nor in the failure menu", async () => {
  const root = await signedRoot('export CONFIG_RESTRICTED_BOOT="y"\n');
  appendFileSync(join(root, "boot/vmlinuz-6.1"), "x");
  const prompt = await run(root, [{ menu: "o" }, { menu: "b" }, { menu: "r" }, { menu: "r" }, { menu: "d" }, { menu: "r" }]);
  const bootOptions = entries(prompt, "menu").find((m) => m.title === "Boot Options");
  assert.deepEqual(bootOptions!.items.map((i) => i.key), ["m", "r"]);
  assert.deepEqual(failure(prompt)!.items.map((i) => i.key), ["r"]);
});

test("Show OS boot menu: verified entries listed, the chosen one planned", async () => {
  const root = await signedRoot();
  const prompt = await run(root, [{ menu: "o" }, { menu: "b" }, { menu: "m" }, { menu: "2" }, { menu: "r" }, { menu: "r" }]);
  const list = entries(prompt, "menu").find((m) => m.title === "Boot menu");
  assert.deepEqual(list!.items.map((i) => i.label), ["Debian GNU/Linux", "Debian GNU/Linux (recovery)"]);
  assert.match(message(prompt, "Boot plan (not PID 1: nothing is booted)")!.text, /^boot: Debian GNU\/Linux \(recovery\)$/m);
});

test("Update checksums and sign: a kernel update is re-signed with entry 2 as default; the counter moves on; Default boot then plans entry 2", async () => {
  const root = await signedRoot();
  const counterBefore = await rig.sw.withTpm((tpm) => verifyCounter(root, tpm));
  appendFileSync(join(root, "boot/vmlinuz-6.1"), "updated kernel");
  await assert.rejects(rig.sw.withTpm((tpm) => verifyCounter(root, tpm)), /hashes check/, "the changed kernel does not verify before signing");
  const keyFile = join(root, "media/privkey.sec");
  mkdirSync(dirname(keyFile));
  writeFileSync(keyFile, rig.gpg.ownerSecret());
  const prompt = await run(root, [
    { menu: "o" }, { menu: "u" }, { confirm: true }, { menu: "2" }, { menu: "f" }, { input: "/media/privkey.sec" }, { password: "" }, { confirm: false }, { menu: "r" },
    { menu: "d" },
  ]);
  const done = entries(prompt, "message").find((m) => m.title === "Update checksums and sign /boot");
  assert.ok(done, JSON.stringify(prompt.titles()));
  assert.equal(done.tone, "success", done.text);
  assert.match(done.text, new RegExp(`signed by ${rig.gpg.owner}`));
  assert.ok(readdirSync(join(root, "boot")).includes("kexec_default.2.txt"));
  assert.match(message(prompt, "Boot plan (not PID 1: nothing is booted)")!.text, /^boot: Debian GNU\/Linux \(recovery\)$/m);
  assert.equal(await rig.sw.withTpm((tpm) => verifyCounter(root, tpm)), counterBefore! + 1n, "the rollback counter moved on by one");
});

test("Update checksums and sign with the wrong passphrase → refused, /boot unchanged", async () => {
  const root = await signedRoot();
  const keyFile = join(root, "media/locked.sec");
  mkdirSync(dirname(keyFile));
  rig.gpg.gpg(["--passphrase", "right", "--quick-gen-key", "Locked <locked@bootward.test>", "ed25519", "sign", "never"]);
  writeFileSync(keyFile, rig.gpg.gpg(["--passphrase", "right", "--armor", "--export-secret-keys", "Locked"]));
  const listing = readdirSync(join(root, "boot")).sort();
  const prompt = await run(root, [{ menu: "o" }, { menu: "u" }, { confirm: true }, { menu: "k" }, { menu: "f" }, { input: "/media/locked.sec" }, { password: "wrong" }, { menu: "r" }]);
  const refusal = entries(prompt, "message").find((m) => m.title === "Update checksums and sign /boot");
  assert.ok(refusal);
  assert.equal(refusal.tone, "error");
  assert.match(refusal.text, /Nothing was changed in \/boot/);
  assert.deepEqual(readdirSync(join(root, "boot")).sort(), listing);
});

async function verifyCounter(root: string, tpm: Tpm): Promise<bigint | null> {
  const keys = await readKeyring(rig.gpg.ownerPublic());
  return (await verifyBoot(sys, { bootDir: join(root, "boot"), keys, tpm })).counter;
}

// Last in this file: it gives the shared swtpm an owner passphrase.
test("Update checksums and sign on an owned TPM without a rollback counter: the owner passphrase is asked; a wrong one changes nothing", async () => {
  const root = makeRoot();
  const boot = makeBoot();
  rig.dirs.push(root, dirname(boot));
  cpSync(boot, join(root, "boot"), { recursive: true });
  mkdirSync(join(root, ".gnupg"));
  writeFileSync(join(root, ".gnupg/pubring.asc"), rig.gpg.ownerPublic());
  mkdirSync(join(root, "media"));
  writeFileSync(join(root, "media/privkey.sec"), rig.gpg.ownerSecret());
  await rig.sw.withTpm((tpm) => tpm.reset({ ownerPassphrase: "owner-secret" }));
  const listing = readdirSync(join(root, "boot")).sort();
  const sign = (owner: string): ScriptedAnswer[] => [{ menu: "o" }, { menu: "u" }, { confirm: true }, { menu: "1" }, { menu: "f" }, { input: "/media/privkey.sec" }, { password: "" }, { confirm: false }, { password: owner }, { menu: "r" }];

  const refused = await run(root, sign("not-the-owner"));
  const error = entries(refused, "message").find((m) => m.title === "Update checksums and sign /boot");
  assert.equal(error?.tone, "error");
  assert.deepEqual(readdirSync(join(root, "boot")).sort(), listing, "nothing was written");

  const signed = await run(root, sign("owner-secret"));
  assert.equal(entries(signed, "message").find((m) => m.title === "Update checksums and sign /boot")?.tone, "success");
  assert.notEqual(await rig.sw.withTpm((tpm) => verifyCounter(root, tpm)), null, "the new counter is in the signed set");
});
