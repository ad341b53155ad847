// Power cuts during the OEM reset, simulated on Node with swtpm and a cbfstool-made ROM: the
// Sys stops the wizard dead right after it notes each step in /boot (nothing after that point
// runs, as when the power goes). The next "boot" must name the step, nothing secret may be in
// /boot, and starting again must give a machine whose /boot verifies against the new key from
// the ROM. The note on /boot is unsigned, so it only changes words: until the keyring is in
// the ROM the machine has no owner and the screen is "Reset incomplete — start again" with the
// reset first; from then on the ROM says the machine has an owner, so the screen is red and
// the reset, still offered, is not first. The QEMU test kills the real board.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { startSwtpm, type Swtpm } from "../../support/swtpm.ts";
import { openTpm } from "../../../tpm/index.ts";
import { createNodeSys } from "../../../runtime/host/node/sys.ts";
import type { Sys } from "../../../runtime/host/sys.ts";
import { ScriptedPrompt, type ScriptedAnswer } from "../../../ui/scripted-prompt.ts";
import { plainUi } from "../../../runtime/flows/context.ts";
import { startFlows, startupScreens } from "../../../runtime/flows/boot.ts";
import { oemResetWizard } from "../../../runtime/flows/oem-reset/wizard.ts";
import { PENDING_FILE, type ResetStep } from "../../../runtime/ownership/pending.ts";
import { INCOMPLETE_TITLE, SIGNED_BEFORE_TITLE } from "../../../runtime/flows/ownership.ts";
import { readRomKeyring } from "../../../runtime/boot/integrity/keyring.ts";
import { verifyBoot } from "../../../runtime/boot/index.ts";
import { Workdir } from "../../flash/cbfstool.ts";
import { makeBoot } from "../../boot/support.ts";
import { makeRoot } from "./fixture.ts";
import { secretsFound } from "../../support/secret-scan.ts";
import { SECRET_BYTES } from "../../../runtime/attest/constants.ts";
import { rootedSys } from "../../../runtime/host/rooted.ts";

const CONFIG = 'export CONFIG_BOOTWARD_FLASH="/flash.rom"\n';
const PASSPHRASE = "cut-power-pass";
/** Custom answers (one passphrase, default identity) and a protected key file as the backup. */
const ANSWERS: ScriptedAnswer[] = [
  { confirm: true }, { confirm: false }, { confirm: true }, { password: PASSPHRASE }, { password: PASSPHRASE }, { confirm: false },
  { menu: "f" }, { input: "/media/privkey.sec" },
];
const STEPS: ResetStep[] = ["tpm", "key", "backup", "rom", "sign", "totp"];
/** Steps whose note is written once the new keyring is in the ROM. */
const AFTER_ROM: ReadonlySet<ResetStep> = new Set(["sign", "totp"]);
const STEP_WORDS: Record<ResetStep, RegExp> = {
  tpm: /resetting the TPM/, key: /making the signing key/, backup: /writing the key backup/, rom: /writing the keyring to the ROM/, sign: /signing \/boot/, totp: /sealing the TOTP secret/,
};

class PowerCut extends Error {}

/** A Sys whose power goes as soon as the wizard's note for `step` is in place. */
function cutAfterNote(sys: Sys, step: ResetStep): Sys {
  return new Proxy(sys, {
    get(target, name, receiver) {
      if (name !== "rename") return Reflect.get(target, name, receiver);
      return (from: string, to: string) => {
        target.rename(from, to);
        if (to.endsWith(`/${PENDING_FILE}`) && target.readText(to).trim() === step) throw new PowerCut(`power cut during ${step}`);
      };
    },
  });
}

const host = createNodeSys();
/** Every random draw the size of a TOTP secret: the secret sealed during the reset is among them. */
const totpCandidates: Uint8Array[] = [];
const sys: Sys = {
  ...host,
  randomBytes: (n) => {
    const r = host.randomBytes(n);
    if (n === SECRET_BYTES) totpCandidates.push(r.slice());
    return r;
  },
};
let state: string;
let sw: Swtpm;
let work: Workdir;
const dirs: string[] = [];

before(async () => {
  state = mkdtempSync(join(tmpdir(), "bootward-power-cut-"));
  sw = await startSwtpm("2.0", state);
  work = new Workdir();
  work.create("rom", "fmap", 0x100000);
});
after(async () => {
  await sw.stop();
  work.cleanup();
  for (const d of [state, ...dirs]) rmSync(d, { recursive: true, force: true });
});

function blankMachine(): string {
  const root = makeRoot(CONFIG);
  const boot = makeBoot();
  dirs.push(root, dirname(boot));
  cpSync(boot, join(root, "boot"), { recursive: true });
  mkdirSync(join(root, "media"));
  writeFileSync(join(root, "flash.rom"), work.read("rom"));
  return root;
}

/** The next power-on: a fresh initramfs root on the same /boot, ROM and USB drive (/media). */
async function powerOn(from: string): Promise<string> {
  await sw.stop();
  sw = await startSwtpm("2.0", state);
  const root = makeRoot(CONFIG);
  dirs.push(root);
  for (const part of ["boot", "media", "flash.rom"]) cpSync(join(from, part), join(root, part), { recursive: true });
  return root;
}

async function run(root: string, answers: ScriptedAnswer[], use: Sys, body: (ctx: Awaited<ReturnType<typeof startFlows>>) => Promise<unknown>): Promise<ScriptedPrompt> {
  const prompt = new ScriptedPrompt(answers);
  const ctx = await startFlows(rootedSys(use, root), plainUi(prompt), { firmware: false, openTpm: () => openTpm(sw.transport(), { random: (n) => use.randomBytes(n) }) });
  try {
    await body(ctx);
  } finally {
    ctx.tpm?.close();
  }
  return prompt;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" }).map((n) => join(dir, n)).filter((p) => statSync(p).isFile());
}

for (const step of STEPS) {
  test(`a power cut while ${STEP_WORDS[step].source.replace(/\\/g, "")}: the next boot says the reset is incomplete; starting again finishes it`, async () => {
    const first = blankMachine();
    await assert.rejects(run(first, ANSWERS, cutAfterNote(sys, step), (ctx) => oemResetWizard(ctx)), PowerCut);

    const second = await powerOn(first);
    assert.deepEqual(secretsFound(filesUnder(join(second, "boot")), { passphrases: [PASSPHRASE], totp: totpCandidates, noSecretKeyAtAll: true }), []);
    // The first screen names the step; starting again with the defaults finishes (swtpm's
    // platform hierarchy is open, so the TPM clears without the cut run's owner passphrase).
    const prompt = await run(second, [{ menu: "F" }, { confirm: true }, { confirm: true }, { menu: "n" }], sys, (ctx) => startupScreens(ctx, true));
    prompt.assertDone();
    const offer = prompt.transcript.find((e) => e.kind !== "status");
    assert.ok(offer && offer.kind === "menu", `the first screen is the ownership screen: ${JSON.stringify(offer)}`);
    assert.match(offer.text!, /^TOTP: [^\n]* \| HOTP: /, "the TOTP/HOTP status comes first");
    assert.match(offer.text!, STEP_WORDS[step]);
    if (AFTER_ROM.has(step)) {
      assert.equal(offer.title, SIGNED_BEFORE_TITLE);
      assert.equal(offer.tone, "error");
      assert.deepEqual(offer.items.map((i) => i.key), ["m", "F", "x"], "the reset is offered, not first");
    } else {
      assert.equal(offer.title, INCOMPLETE_TITLE);
      assert.deepEqual(offer.items.map((i) => i.key), ["F", "m", "x"]);
    }
    const done = prompt.transcript.find((e) => e.kind === "message" && e.title.endsWith(": done"));
    assert.ok(done, `the reset finished: ${JSON.stringify(prompt.transcript.filter((e) => e.kind === "message"))}`);

    const third = await powerOn(second);
    const after = await run(third, [], sys, async (ctx) => {
      assert.equal(ctx.romProblem, undefined);
      await startupScreens(ctx, true);
      const keys = await readRomKeyring(rootedSys(sys, third));
      await verifyBoot(sys, { bootDir: join(third, "boot"), keys, tpm: ctx.tpm! });
    });
    assert.deepEqual(after.transcript.filter((e) => e.kind !== "status"), [], "nothing more is offered once the reset finished");
    // The finished reset sealed a TOTP secret and wrote the protected key backup: neither is in the clear.
    assert.ok(totpCandidates.length > 0, "no TOTP secret was drawn: the scan would prove nothing");
    assert.deepEqual(secretsFound(filesUnder(join(third, "boot")), { passphrases: [PASSPHRASE], totp: totpCandidates, noSecretKeyAtAll: true }), []);
    assert.deepEqual(secretsFound(filesUnder(join(third, "media")), { passphrases: [PASSPHRASE], totp: totpCandidates }), []);
  });
}
