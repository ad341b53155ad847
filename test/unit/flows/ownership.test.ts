// The startup's ownership screen on Node with swtpm, as the firmware shows it after the TOTP
// check. An evil maid who can write /boot (delete kexec.sig, plant the OEM reset's note, or
// both) must not turn an owned machine into one that offers re-ownership by default: the
// first screen shows the TOTP code, says in red that /boot was signed before, lists the
// evidence from the ROM and the TPM and names what is missing. A machine that never had an
// owner is still offered the OEM factory reset first.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { openTpm } from "../../../tpm/index.ts";
import { createNodeSys } from "../../../runtime/host/node/sys.ts";
import { ScriptedPrompt, type ScriptedAnswer, type TranscriptEntry } from "../../../ui/scripted-prompt.ts";
import { plainUi, type AttestationProvider, type FlowContext } from "../../../runtime/flows/context.ts";
import { startFlows, startupScreens } from "../../../runtime/flows/boot.ts";
import { mainMenu } from "../../../runtime/flows/main-menu.ts";
import { oemResetWizard } from "../../../runtime/flows/oem-reset/wizard.ts";
import { INCOMPLETE_TITLE, NO_OWNER_TITLE, SIGNED_BEFORE_TITLE, UNKNOWN_OWNER_TITLE } from "../../../runtime/flows/ownership.ts";
import { PENDING_FILE } from "../../../runtime/ownership/pending.ts";
import { inMemorySigner } from "../../../gpg/sign.ts";
import { signBoot } from "../../../runtime/boot/index.ts";
import { startSwtpm, type Swtpm } from "../../support/swtpm.ts";
import { Workdir } from "../../flash/cbfstool.ts";
import { makeBoot, makeGpgHome, type GpgHome } from "../../boot/support.ts";
import { makeRoot } from "./fixture.ts";
import { rootedSys } from "../../../runtime/host/rooted.ts";

const sys = createNodeSys();
const CONFIG = 'export CONFIG_BOOTWARD_FLASH="/flash.rom"\n';
const dirs: string[] = [];
const running: Swtpm[] = [];
let gpg: GpgHome;
let emptyRom: Uint8Array;
/** An owned machine's disk, ROM and TPM state, copied for each test: the OEM reset ran on it. */
let owned: Machine;

/** A machine: what survives a power cut (/boot, the ROM, the TPM's state) and the TPM's version. */
interface Machine {
  boot: string;
  /** Null on a board without a ROM bootward can write: the keyring then lasts until power off. */
  rom: string | null;
  tpm: string;
  version: "1.2" | "2.0";
}

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

function blankMachine(version: "1.2" | "2.0" = "2.0", withRom = true): Machine {
  const boot = makeBoot();
  dirs.push(dirname(boot));
  const rom = withRom ? join(tempDir("bootward-owner-"), "flash.rom") : null;
  if (rom) writeFileSync(rom, emptyRom);
  return { boot, rom, tpm: tempDir("bootward-owner-tpm-"), version };
}

/** A copy of the owned machine, for one attack. */
function ownedMachine(): Machine {
  const boot = join(tempDir("bootward-owned-boot-"), "boot");
  cpSync(owned.boot, boot, { recursive: true });
  const rom = join(tempDir("bootward-owned-rom-"), "flash.rom");
  cpSync(owned.rom!, rom);
  const tpm = tempDir("bootward-owned-tpm-");
  cpSync(owned.tpm, tpm, { recursive: true });
  return { boot, rom, tpm, version: "2.0" };
}

interface PowerOnOptions {
  /** A key the firmware carries (as a board built with one does). */
  keyring?: string;
  attestation?: AttestationProvider;
  /** The TPM does not answer when the firmware opens it. */
  tpmFails?: boolean;
}

/** Powers the machine on (a fresh initramfs root, the TPM's PCRs reset), runs `body` on the flow context, and powers it off again. */
async function powerOn<T>(m: Machine, prompt: ScriptedPrompt, body: (ctx: FlowContext) => Promise<T>, { keyring, attestation, tpmFails }: PowerOnOptions = {}): Promise<T> {
  const root = makeRoot(m.rom ? CONFIG : "");
  dirs.push(root);
  cpSync(m.boot, join(root, "boot"), { recursive: true });
  if (m.rom) cpSync(m.rom, join(root, "flash.rom"));
  if (keyring) {
    mkdirSync(join(root, ".gnupg"));
    writeFileSync(join(root, ".gnupg/pubring.asc"), keyring);
  }
  const sw = await startSwtpm(m.version, m.tpm);
  running.push(sw);
  const open = () => (tpmFails ? Promise.reject(new Error("the TPM did not answer")) : openTpm(sw.transport(), { random: (n) => sys.randomBytes(n) }));
  const ctx = await startFlows(rootedSys(sys, root), plainUi(prompt), { firmware: false, attestation, openTpm: open });
  try {
    return await body(ctx);
  } finally {
    ctx.tpm?.close();
    await sw.stop();
    running.splice(running.indexOf(sw), 1);
    // What the run changed on /boot and in the ROM is what the next power-on finds.
    rmSync(m.boot, { recursive: true, force: true });
    cpSync(join(root, "boot"), m.boot, { recursive: true });
    if (m.rom) cpSync(join(root, "flash.rom"), m.rom);
  }
}

/** The startup screens the firmware shows before its main menu. */
async function startup(m: Machine, answers: ScriptedAnswer[], keyring?: string, tpmFails = false): Promise<ScriptedPrompt> {
  const prompt = new ScriptedPrompt(answers);
  await powerOn(m, prompt, (ctx) => startupScreens(ctx, true), { keyring, tpmFails });
  prompt.assertDone();
  return prompt;
}

type Menu = Extract<TranscriptEntry, { kind: "menu" }>;
type StatusEntry = Extract<TranscriptEntry, { kind: "status" }>;

/** The first screen that asks something, and the header shown when it came. */
function firstScreen(p: ScriptedPrompt): { menu: Menu; header: StatusEntry["status"] | undefined } {
  const at = p.transcript.findIndex((e) => e.kind !== "status");
  const menu = p.transcript[at];
  assert.ok(menu && menu.kind === "menu", `the first screen is a menu: ${JSON.stringify(menu)}`);
  const header = p.transcript.slice(0, at).filter((e): e is StatusEntry => e.kind === "status").at(-1)?.status;
  return { menu, header };
}

const keys = (menu: Menu) => menu.items.map((i) => i.key);
const OWNER_RESET: ScriptedAnswer[] = [{ confirm: true }, { confirm: true }, { menu: "n" }];

before(async () => {
  const work = new Workdir();
  try {
    emptyRom = work.create("rom", "fmap", 0x100000);
  } finally {
    work.cleanup();
  }
  gpg = makeGpgHome();
  // The owner took the machine with the OEM reset: keyring in the ROM, /boot signed with a
  // rollback counter in the TPM, the TOTP secret sealed to the next boot's ROM measurement.
  const m = blankMachine();
  const prompt = new ScriptedPrompt(OWNER_RESET);
  assert.equal(await powerOn(m, prompt, (ctx) => oemResetWizard(ctx)), "done");
  owned = m;
});

after(async () => {
  for (const sw of running) await sw.stop();
  gpg.cleanup();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test("an owned machine, untouched: no screen before the main menu", async () => {
  const prompt = await startup(ownedMachine(), []);
  assert.deepEqual(prompt.transcript.filter((e) => e.kind !== "status"), []);
});

test("evil maid deletes kexec.sig: the first screen shows the TOTP code, says in red /boot was signed before with the evidence, names kexec.sig; no re-own offered", async () => {
  const m = ownedMachine();
  rmSync(join(m.boot, "kexec.sig"));
  const { menu, header } = firstScreen(await startup(m, [{ menu: "m" }]));
  assert.equal(menu.title, SIGNED_BEFORE_TITLE);
  assert.equal(menu.tone, "error");
  assert.match(menu.text!, /^TOTP: \d{6} \| HOTP: not configured\n/, "the TOTP code comes first");
  assert.ok(header?.totp && "code" in header.totp, `the header shows the code: ${JSON.stringify(header)}`);
  assert.match(menu.text!, /the firmware holds an OpenPGP key \(\/\.gnupg\/pubring\.gpg\)/);
  assert.match(menu.text!, /the TPM holds a rollback counter \(0x1[0-9a-f]{6}\)/);
  assert.match(menu.text!, /a TOTP\/HOTP secret is sealed in the TPM/);
  assert.match(menu.text!, /What is missing:\n- kexec\.sig is missing from \/boot$/m);
  assert.doesNotMatch(menu.text!, /kexec_hashes\.txt|kexec_rollback\.txt/, "only what is really missing is named");
  assert.deepEqual(keys(menu), ["m", "x"], "going on is the default; re-owning is not offered here");
});

test("evil maid wipes every kexec* file: the TPM's counter and the ROM's key still say /boot was signed, and each missing file is named", async () => {
  const m = ownedMachine();
  for (const name of ["kexec.sig", "kexec_hashes.txt", "kexec_rollback.txt", "kexec_tree.txt", "kexec_default.1.txt", "kexec_default_hashes.txt"]) rmSync(join(m.boot, name), { force: true });
  const { menu } = firstScreen(await startup(m, [{ menu: "m" }]));
  assert.equal(menu.title, SIGNED_BEFORE_TITLE);
  for (const name of ["kexec.sig", "kexec_hashes.txt", "kexec_rollback.txt"]) assert.match(menu.text!, new RegExp(`- ${name.replace(".", "\\.")} is missing from /boot`));
  assert.equal(keys(menu)[0], "m");
  assert.ok(!keys(menu).includes("F"));
});

test("evil maid plants the reset's note on a signed /boot: red, the note called unsigned, the reset offered but not first", async () => {
  const m = ownedMachine();
  writeFileSync(join(m.boot, PENDING_FILE), "sign\n");
  const { menu } = firstScreen(await startup(m, [{ menu: "m" }]));
  assert.equal(menu.title, SIGNED_BEFORE_TITLE);
  assert.equal(menu.tone, "error");
  assert.match(menu.text!, /^TOTP: \d{6} \| HOTP: not configured\n/);
  assert.match(menu.text!, /the TPM holds a rollback counter/);
  assert.match(menu.text!, /it stopped while signing \/boot\. No signature covers that note: if you did not start a reset, someone else wrote it\./);
  assert.doesNotMatch(menu.text!, /What is missing/, "nothing is missing: the note alone made the screen");
  assert.deepEqual(keys(menu), ["m", "F", "x"]);
});

test("evil maid deletes kexec.sig and plants the note: both named, the reset not first", async () => {
  const m = ownedMachine();
  rmSync(join(m.boot, "kexec.sig"));
  writeFileSync(join(m.boot, PENDING_FILE), "tpm\n");
  const { menu } = firstScreen(await startup(m, [{ menu: "m" }]));
  assert.equal(menu.title, SIGNED_BEFORE_TITLE);
  assert.match(menu.text!, /^TOTP: \d{6} \|/);
  assert.match(menu.text!, /- kexec\.sig is missing from \/boot/);
  assert.match(menu.text!, /it stopped while resetting the TPM\. No signature covers that note/);
  assert.match(menu.text!, /Do not re-own or re-sign this machine unless you know why they are missing/);
  assert.deepEqual(keys(menu), ["m", "F", "x"]);
});

test("a TOTP secret that fails to unseal is shown first; the ownership screen follows it and still does not lead with the reset", async () => {
  const m = ownedMachine();
  rmSync(join(m.boot, "kexec.sig"));
  // Another ROM: PCR 7 measures different user files, so the sealed secret no longer unseals.
  const prompt = new ScriptedPrompt([{ menu: "i" }, { menu: "m" }]);
  await powerOn(m, prompt, async (ctx) => {
    await ctx.tpm!.extend(7, "changed firmware");
    return startupScreens(ctx, true);
  });
  prompt.assertDone();
  const menus = prompt.transcript.filter((e): e is Menu => e.kind === "menu");
  assert.deepEqual(menus.map((e) => e.title), ["ERROR: the TOTP/HOTP secret did not unseal", SIGNED_BEFORE_TITLE]);
  assert.match(menus[1]!.text!, /^TOTP: unseal failed: PCR 7 changed \|/);
  assert.equal(keys(menus[1]!)[0], "m");
});

test("a board whose ROM cannot be written, owned by the reset: no key after power off, yet the TPM's counter says /boot was signed before", async () => {
  const m = blankMachine("2.0", false);
  assert.equal(await powerOn(m, new ScriptedPrompt(OWNER_RESET), (ctx) => oemResetWizard(ctx)), "done");
  rmSync(join(m.boot, "kexec.sig"));
  const { menu } = firstScreen(await startup(m, [{ menu: "m" }]));
  assert.equal(menu.title, SIGNED_BEFORE_TITLE);
  assert.equal(menu.tone, "error");
  assert.match(menu.text!, /^TOTP: \d{6} \|/);
  assert.match(menu.text!, /the TPM holds a rollback counter/);
  assert.match(menu.text!, /- the firmware holds no OpenPGP key, so \/boot cannot be verified\n- kexec\.sig is missing from \/boot/);
  assert.deepEqual(keys(menu), ["m", "x"]);
});

test("a key in the firmware, /boot never signed, an empty TPM: red, the reset not first; once signed nothing is asked", async () => {
  const m = blankMachine();
  const { menu } = firstScreen(await startup(m, [{ menu: "m" }], gpg.ownerPublic().toString()));
  assert.equal(menu.title, SIGNED_BEFORE_TITLE);
  assert.match(menu.text!, /the firmware holds an OpenPGP key \(\/\.gnupg\/pubring\.asc\)/);
  assert.match(menu.text!, /- kexec\.sig is missing from \/boot/);
  assert.doesNotMatch(menu.text!, /rollback counter/, "an empty TPM holds none");
  assert.deepEqual(keys(menu), ["m", "x"]);
  await signBoot(sys, { bootDir: m.boot, signer: await inMemorySigner(gpg.ownerSecret()) });
  const again = await startup(m, [], gpg.ownerPublic().toString());
  assert.deepEqual(again.transcript.filter((e) => e.kind !== "status"), []);
});

test("never owned (no key, an empty TPM): the reset is offered first, after the TOTP status", async () => {
  const { menu } = firstScreen(await startup(blankMachine(), [{ menu: "m" }]));
  assert.equal(menu.title, NO_OWNER_TITLE);
  assert.match(menu.text!, /^TOTP: not configured \| HOTP: not configured\n\nThe firmware holds no OpenPGP public key/);
  assert.match(menu.text!, /the TPM holds no rollback counter and no sealed secret/);
  assert.deepEqual(keys(menu), ["F", "m", "x"]);
});

test("never owned: F runs the OEM reset; once done the machine is owned and nothing more is asked", async () => {
  const prompt = await startup(blankMachine(), [{ menu: "F" }, ...OWNER_RESET]);
  assert.equal(prompt.transcript.filter((e) => e.kind === "menu" && e.title === NO_OWNER_TITLE).length, 1, "asked once, not again after the reset");
  assert.ok(prompt.transcript.some((e) => e.kind === "message" && e.title.endsWith(": done")));
});

test("never owned: a cancelled reset brings the offer back", async () => {
  const prompt = await startup(blankMachine(), [{ menu: "F" }, { confirm: false }, { menu: "m" }]);
  assert.equal(prompt.transcript.filter((e) => e.kind === "menu" && e.title === NO_OWNER_TITLE).length, 2);
});

test("never owned with the reset's note: 'reset incomplete', naming the step, the reset first", async () => {
  const m = blankMachine();
  writeFileSync(join(m.boot, PENDING_FILE), "rom\n");
  const { menu } = firstScreen(await startup(m, [{ menu: "m" }]));
  assert.equal(menu.title, INCOMPLETE_TITLE);
  assert.match(menu.text!, /^TOTP: not configured \|/);
  assert.match(menu.text!, /It stopped while writing the keyring to the ROM\./);
  assert.deepEqual(keys(menu), ["F", "m", "x"]);
});

test("a blank TPM 1.2 answers too: no counter, no sealed secret, so the reset is offered first as on 2.0", async () => {
  const { menu } = firstScreen(await startup(blankMachine("1.2"), [{ menu: "m" }]));
  assert.equal(menu.title, NO_OWNER_TITLE);
  assert.match(menu.text!, /the TPM holds no rollback counter and no sealed secret/);
  assert.deepEqual(keys(menu), ["F", "m", "x"]);
});

test("a TPM that cannot be asked whether it was owned: the screen says so and the reset is not first", async () => {
  const { menu } = firstScreen(await startup(blankMachine(), [{ menu: "m" }], undefined, true));
  assert.equal(menu.title, UNKNOWN_OWNER_TITLE);
  assert.match(menu.text!, /the TPM did not answer/);
  assert.deepEqual(keys(menu), ["m", "F", "x"]);
});

test("the main menu after the screen keeps its HOTP result (no second dongle check) and shows a fresh TOTP code", async () => {
  let totpReads = 0;
  let hotpChecks = 0;
  const attestation: AttestationProvider = {
    status: async () => ({ code: String(100000 + ++totpReads), expiresAt: Date.now() + 30_000 }),
    hotp: async () => `Success ${++hotpChecks}`,
  };
  const prompt = new ScriptedPrompt([{ menu: "m" }, { menu: "p" }]);
  await powerOn(blankMachine(), prompt, async (ctx) => {
    const startup = await startupScreens(ctx, true);
    assert.equal(startup.kind, "menu");
    return mainMenu(ctx, startup.kind === "menu" ? startup.shown : null);
  }, { attestation });
  const menus = prompt.transcript.filter((e): e is Menu => e.kind === "menu");
  assert.deepEqual(menus.map((e) => e.title), [NO_OWNER_TITLE, "Test Board | Acme Boot Menu"]);
  assert.match(menus[0]!.text!, /^TOTP: 100001 \| HOTP: Success 1\n/);
  assert.match(menus[1]!.text!, /TOTP: 100002 \| HOTP: Success 1$/);
  assert.equal(hotpChecks, 1, "the dongle was checked once");
});
