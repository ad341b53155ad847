// Default boot with a disk unlock key configured in the signed /boot, driven through the
// scripted prompt on Node: swtpm (restarted for each power-on, its state kept) and a real
// LUKS2 volume image. The key is released only with the passphrase and unchanged headers;
// otherwise the screen says why and offers the recovery-passphrase boot, or stops.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openTpm } from "../../../tpm/index.ts";
import { createNodeSys } from "../../../runtime/host/node/sys.ts";
import { ScriptedPrompt, type ScriptedAnswer, type TranscriptEntry } from "../../../ui/scripted-prompt.ts";
import { plainUi } from "../../../runtime/flows/context.ts";
import { startFlows } from "../../../runtime/flows/boot.ts";
import { mainMenu } from "../../../runtime/flows/main-menu.ts";
import { VERIFY_FAILED_TITLE } from "../../../runtime/flows/os-boot.ts";
import { DISK_KEY_TITLE } from "../../../runtime/flows/disk-key.ts";
import { inMemorySigner } from "../../../gpg/sign.ts";
import { signBoot } from "../../../runtime/boot/index.ts";
import { addKey, luksInfo } from "../../../runtime/platform/luks.ts";
import { luksHeaderText } from "../../../runtime/disk/headers.ts";
import { DISK_KEY_SLOT } from "../../../runtime/disk/key.ts";
import { sealDiskKey } from "../../../runtime/disk/setup.ts";
import { formatKeyDevices, HEADER_HASH_FILE, KEY_DEVICES_FILE } from "../../../runtime/disk/config.ts";
import { makeBoot, makeGpgHome, type GpgHome } from "../../boot/support.ts";
import { makeLuksImage } from "../../support/luks.ts";
import { startSwtpm, type Swtpm } from "../../support/swtpm.ts";
import { makeRoot } from "./fixture.ts";
import { rootedSys } from "../../../runtime/host/rooted.ts";

const sys = createNodeSys();
const RECOVERY = "disk recovery passphrase";
const PASSPHRASE = "disk unlock passphrase";
const OWNER = "owner passphrase";
let dir: string;
let state: string;
let sw: Swtpm | undefined;
let gpg: GpgHome;
let image: string;
let root: string;

async function powerOn(): Promise<Swtpm> {
  await sw?.stop();
  sw = await startSwtpm("2.0", state);
  return sw;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "bootward-duk-flow-"));
  state = join(dir, "tpm");
  mkdirSync(state);
  gpg = makeGpgHome();
  image = makeLuksImage(join(dir, "disk.img"), 2, RECOVERY);
  // Setup as the disk-key wizard will do it: key into slot 31, headers measured, sealed, lists written, /boot signed.
  const tpm = await powerOn();
  const key = sys.randomBytes(128);
  writeFileSync(join(dir, "key"), key);
  await addKey(sys, image, new TextEncoder().encode(RECOVERY), join(dir, "key"), DISK_KEY_SLOT[2]);
  rmSync(join(dir, "key"));
  const headers = await luksHeaderText(sys, [image], dir);
  await tpm.withTpm(async (t) => {
    await t.reset({ ownerPassphrase: OWNER, primaryKeyType: "ecc" });
    await sealDiskKey(t, sys, key, new TextEncoder().encode(PASSPHRASE), headers, { log: null, ownerPassphrase: OWNER });
  });
  root = makeRoot();
  const boot = makeBoot();
  cpSync(boot, join(root, "boot"), { recursive: true });
  rmSync(join(boot, ".."), { recursive: true, force: true });
  mkdirSync(join(root, ".gnupg"));
  writeFileSync(join(root, ".gnupg/pubring.asc"), gpg.ownerPublic());
  writeFileSync(join(root, "boot", KEY_DEVICES_FILE), formatKeyDevices([{ device: image, uuid: (await luksInfo(sys, image)).uuid }]));
  writeFileSync(join(root, "boot", HEADER_HASH_FILE), headers);
  const signer = await inMemorySigner(gpg.ownerSecret());
  await signBoot(sys, { bootDir: join(root, "boot"), signer, defaultIndex: 1 });
});
after(async () => {
  await sw?.stop();
  gpg.cleanup();
  rmSync(dir, { recursive: true, force: true });
  rmSync(root, { recursive: true, force: true });
});

type Of<K extends TranscriptEntry["kind"]> = Extract<TranscriptEntry, { kind: K }>;
const entries = <K extends TranscriptEntry["kind"]>(p: ScriptedPrompt, kind: K) => p.transcript.filter((e): e is Of<K> => e.kind === kind);
const messages = (p: ScriptedPrompt, title: string) => entries(p, "message").filter((m) => m.title === title);
const PLAN = "Boot plan (not PID 1: nothing is booted)";

/** A power-on, then "d" and the given answers, then power off. */
async function defaultBoot(answers: ScriptedAnswer[], atPowerOn?: (tpm: Swtpm) => Promise<void>): Promise<ScriptedPrompt> {
  const tpm = await powerOn();
  await atPowerOn?.(tpm);
  const prompt = new ScriptedPrompt([{ menu: "d" }, ...answers, { menu: "p" }]);
  const ctx = await startFlows(rootedSys(sys, root), plainUi(prompt), { firmware: false, openTpm: () => openTpm(tpm.transport(), { random: (n) => sys.randomBytes(n) }) });
  try {
    assert.equal(await mainMenu(ctx), "poweroff");
  } finally {
    ctx.tpm?.close();
  }
  prompt.assertDone();
  return prompt;
}

test("the right passphrase releases the key: the plan boots with it", async () => {
  const prompt = await defaultBoot([{ password: PASSPHRASE }]);
  assert.match(entries(prompt, "password")[0]!.label, /^Disk unlock key passphrase \(try 1 of 3/);
  const plan = messages(prompt, PLAN)[0];
  assert.ok(plan, JSON.stringify(prompt.titles()));
  assert.match(plan.text, /disk unlock key: released/);
});

test("three wrong passphrases: each counted, then the recovery-passphrase boot is offered; declining boots nothing", async () => {
  const prompt = await defaultBoot([{ password: "wrong 1" }, { password: "wrong 2" }, { password: "wrong 3" }, { confirm: false }]);
  const wrong = messages(prompt, DISK_KEY_TITLE).filter((m) => /^Wrong passphrase/.test(m.text));
  assert.equal(wrong.length, 3);
  // The TPM's own dictionary-attack count, read after each refusal, goes up by one each time.
  const counts = wrong.map((m) => Number(/The TPM has now counted (\d+) failed authorizations; it locks out at \d+\./.exec(m.text)?.[1]));
  assert.ok(counts.every((c) => Number.isInteger(c)), wrong.map((m) => m.text).join("\n"));
  assert.deepEqual(counts, [counts[0], counts[0]! + 1, counts[0]! + 2]);
  assert.match(entries(prompt, "confirm")[0]!.text, /wrong 3 times\.\n\nBoot anyway and type the disk recovery passphrase/);
  assert.equal(messages(prompt, PLAN).length, 0);
});

test("Escape at the passphrase, then yes: the boot goes on without the key (the OS asks for the recovery passphrase)", async () => {
  const prompt = await defaultBoot([{ password: null }, { confirm: true }]);
  assert.match(messages(prompt, PLAN)[0]!.text, /disk unlock key: not released; the OS asks for the recovery passphrase/);
});

test("a module that differs from the sealed boot's (PCR 5 moved): the screen names PCR 5 and the module, and offers the recovery-passphrase boot", async () => {
  const record = join(root, "tmp/measured-modules.txt");
  mkdirSync(join(root, "tmp"), { recursive: true });
  try {
    // What PID 1 does for each module it loads: extend PCR 5 with its hash and note its name.
    const prompt = await defaultBoot([{ password: PASSPHRASE }, { confirm: true }], async (tpm) => {
      await tpm.withTpm((t) => t.extendDigest(5, sys.randomBytes(32)));
      writeFileSync(record, `${"cd".repeat(32)}  /lib/modules/6.1.0/kernel/drivers/evil.ko\n`);
    });
    const offer = entries(prompt, "confirm")[0]!.text;
    assert.match(offer, /The TPM did not release the disk unlock key\.\nPCR 5 changed since the secret was sealed \(the kernel modules loaded differ\)/);
    assert.match(offer, /Kernel modules measured in this boot, in order: \/lib\/modules\/6\.1\.0\/kernel\/drivers\/evil\.ko/);
    assert.match(offer, /reseal the key from "Update checksums and sign"; otherwise treat the machine as tampered with\.\n\nBoot anyway and type the disk recovery passphrase/);
    assert.match(messages(prompt, PLAN)[0]!.text, /disk unlock key: not released; the OS asks for the recovery passphrase/);
  } finally {
    rmSync(record, { force: true });
  }
});

test("a rewritten LUKS header: no passphrase is asked, the key stays sealed, and the offer names the header change; no boots nothing, yes boots without the key", async () => {
  const saved = `${image}.saved`;
  execFileSync("cp", [image, saved]);
  writeFileSync(join(dir, "extra"), "someone else's passphrase");
  execFileSync("cryptsetup", ["luksAddKey", "--key-file", "-", image, join(dir, "extra")], { input: RECOVERY });
  try {
    const declined = await defaultBoot([{ confirm: false }]);
    assert.match(entries(declined, "confirm")[0]!.text, /LUKS headers of the disk changed since the disk unlock key was sealed.*the key is not released\.\n\nBoot anyway and type the disk recovery passphrase/s);
    assert.equal(entries(declined, "password").length, 0);
    assert.equal(messages(declined, PLAN).length, 0);
    const accepted = await defaultBoot([{ confirm: true }]);
    assert.equal(entries(accepted, "password").length, 0);
    assert.match(messages(accepted, PLAN)[0]!.text, /disk unlock key: not released; the OS asks for the recovery passphrase/);
  } finally {
    execFileSync("mv", [saved, image]);
  }
});

test("a key device that vanished, and one whose LUKS header is truncated: a sentence naming the device, nothing booted, nothing left in /tmp/secret", async () => {
  const saved = `${image}.saved`;
  // The fixture's own files in /tmp/secret stay (they are wiped before a kexec or the shell); the disk key adds none.
  const secretBefore = readdirSync(join(root, "tmp/secret")).sort();
  execFileSync("mv", [image, saved]);
  try {
    const gone = await defaultBoot([]);
    assert.match(messages(gone, DISK_KEY_TITLE)[0]!.text, new RegExp(`${image.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}.*\n\nNothing was booted\.`, "s"));
    assert.equal(messages(gone, DISK_KEY_TITLE)[0]!.tone, "error");
    assert.equal(messages(gone, PLAN).length, 0);
    assert.deepEqual(readdirSync(join(root, "tmp/secret")).sort(), secretBefore);
    // The first KiB of a LUKS2 header: cryptsetup refuses it.
    writeFileSync(image, readFileSync(saved).subarray(0, 1024));
    const truncated = await defaultBoot([]);
    const said = messages(truncated, DISK_KEY_TITLE)[0]!;
    assert.match(said.text, new RegExp(`${image.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}.*\n\nNothing was booted\.`, "s"));
    assert.equal(entries(truncated, "password").length, 0);
    assert.equal(messages(truncated, PLAN).length, 0);
    assert.deepEqual(readdirSync(join(root, "tmp/secret")).sort(), secretBefore);
  } finally {
    execFileSync("mv", [saved, image]);
  }
});

test("a key-device list planted on /boot after signing is not believed: the signature check refuses /boot", async () => {
  const list = join(root, "boot", KEY_DEVICES_FILE);
  execFileSync("cp", [list, `${list}.saved`]);
  writeFileSync(list, `${image} 00000000-0000-4000-8000-000000000000\n/dev/evil 00000000-0000-4000-8000-000000000001\n`);
  try {
    const prompt = await defaultBoot([{ menu: "r" }]);
    const failed = entries(prompt, "menu").find((m) => m.title === VERIFY_FAILED_TITLE);
    assert.match(failed?.text ?? "", /^Failed check: signature/);
    assert.equal(entries(prompt, "password").length, 0);
  } finally {
    execFileSync("mv", [`${list}.saved`, list]);
  }
});

test("devices in an LVM volume group (kexec_key_lvm.txt, signed): the group is activated before the headers are read, then the key is released; without an lvm tool the recovery path is offered", async () => {
  // No lvm on the test host: a stand-in on PATH records its argv, as Heads' kexec-insert-key runs `lvm vgchange -a y VG`.
  const bin = join(dir, "bin");
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, "lvm"), `#!/bin/sh\necho "$@" >> ${join(dir, "lvm.log")}\n`, { mode: 0o755 });
  const path = process.env.PATH;
  process.env.PATH = `${bin}:${path}`;
  const boot = join(root, "boot");
  writeFileSync(join(boot, "kexec_key_lvm.txt"), "vg0\n");
  const signer = await inMemorySigner(gpg.ownerSecret());
  await signBoot(sys, { bootDir: boot, signer });
  try {
    const prompt = await defaultBoot([{ password: PASSPHRASE }]);
    assert.equal(readFileSync(join(dir, "lvm.log"), "utf8"), "vgchange -a y vg0\n");
    assert.match(messages(prompt, PLAN)[0]!.text, /disk unlock key: released/);
    const refused = await defaultBoot([{ password: "wrong 1" }, { password: "wrong 2" }, { password: "wrong 3" }, { confirm: false }]);
    assert.equal(messages(refused, PLAN).length, 0);
    // A firmware without lvm (the board's has none): said in a sentence, the key stays sealed, the recovery path boots.
    const empty = join(dir, "no-tools");
    mkdirSync(empty, { recursive: true });
    const noLvm = await defaultBoot([{ confirm: true }], async () => {
      process.env.PATH = empty;
    });
    assert.match(entries(noLvm, "confirm")[0]!.text, /^activating the LVM volume group vg0 failed: this firmware has no lvm tool \(.*\), so LUKS volumes on LVM logical volumes \(kexec_key_lvm\.txt\) cannot be reached\. The disk unlock key stays sealed\.\n\nBoot anyway/s);
    assert.equal(entries(noLvm, "password").length, 0);
    assert.match(messages(noLvm, PLAN)[0]!.text, /disk unlock key: not released; the OS asks for the recovery passphrase/);
  } finally {
    process.env.PATH = path;
    rmSync(join(boot, "kexec_key_lvm.txt"));
    await signBoot(sys, { bootDir: boot, signer });
  }
});
