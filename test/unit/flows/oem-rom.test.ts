// The OEM reset with a ROM (a cbfstool-made image as the board's flash) across a reboot of
// swtpm: the wizard stores the keyring in CBFS and seals the TOTP secret to the PCR 7 the
// next boot measures; that boot installs the keyring from the ROM, the code unseals and
// /boot verifies. A keyring swapped in the ROM changes PCR 7: no code, PCR 7 named, and
// /boot signed by the owner no longer verifies against the stranger's key.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { startSwtpm, type Swtpm } from "../../support/swtpm.ts";
import { openTpm } from "../../../tpm/index.ts";
import { createNodeSys } from "../../../runtime/host/node/sys.ts";
import { ScriptedPrompt, type ScriptedAnswer, type TranscriptEntry } from "../../../ui/scripted-prompt.ts";
import { plainUi, type FlowContext } from "../../../runtime/flows/context.ts";
import { startFlows } from "../../../runtime/flows/boot.ts";
import { oemResetWizard } from "../../../runtime/flows/oem-reset/wizard.ts";
import { unsealTotp } from "../../../runtime/attest/unseal.ts";
import { totpCode } from "../../../runtime/attest/otp.ts";
import { readRomKeyring } from "../../../runtime/boot/integrity/keyring.ts";
import { verifyBoot } from "../../../runtime/boot/index.ts";
import { Workdir } from "../../flash/cbfstool.ts";
import { makeBoot, makeGpgHome, type GpgHome } from "../../boot/support.ts";
import { makeRoot } from "./fixture.ts";
import { rootedSys } from "../../../runtime/host/rooted.ts";

const sys = createNodeSys();
const CONFIG = 'export CONFIG_BOOTWARD_FLASH="/flash.rom"\n';
let state: string;
let sw: Swtpm;
let work: Workdir;
let gpg: GpgHome;
const dirs: string[] = [];

before(async () => {
  state = mkdtempSync(join(tmpdir(), "bootward-oem-rom-"));
  sw = await startSwtpm("2.0", state);
  work = new Workdir();
  gpg = makeGpgHome();
});
after(async () => {
  await sw.stop();
  work.cleanup();
  gpg.cleanup();
  for (const d of [state, ...dirs]) rmSync(d, { recursive: true, force: true });
});

/** A power cycle: swtpm stops cleanly and starts again on the same state, so PCRs are reset. */
async function reboot(): Promise<void> {
  await sw.stop();
  sw = await startSwtpm("2.0", state);
}

/** A fresh initramfs root (no keyring of its own) on the same /boot and ROM. */
function freshRoot(from: string): string {
  const root = makeRoot(CONFIG);
  dirs.push(root);
  cpSync(join(from, "boot"), join(root, "boot"), { recursive: true });
  cpSync(join(from, "flash.rom"), join(root, "flash.rom"));
  return root;
}

async function flows(root: string, answers: ScriptedAnswer[]): Promise<{ prompt: ScriptedPrompt; ctx: FlowContext }> {
  const prompt = new ScriptedPrompt(answers);
  const ctx = await startFlows(rootedSys(sys, root), plainUi(prompt), { firmware: false, openTpm: () => openTpm(sw.transport(), { random: (n) => sys.randomBytes(n) }) });
  return { prompt, ctx };
}

test("the keyring goes to the ROM, the next boot measures and uses it, and the TOTP sealed in the wizard unseals there; a swapped ROM keyring is caught", async () => {
  const first = makeRoot(CONFIG);
  const boot = makeBoot();
  dirs.push(first, dirname(boot));
  cpSync(boot, join(first, "boot"), { recursive: true });
  work.create("rom", "fmap", 0x100000);
  work.write("config.user", 'export CONFIG_BRAND_NAME="Owner Brand"\n');
  work.cbfstool("rom", "add", "-t", "raw", "-n", "heads/initrd/etc/config.user", "-f", work.path("config.user"));
  work.write("old.kbx", "the previous owner's keybox");
  work.cbfstool("rom", "add", "-t", "raw", "-n", "heads/initrd/.gnupg/pubring.kbx", "-f", work.path("old.kbx"));
  writeFileSync(join(first, "flash.rom"), work.read("rom"));

  const wizard = await flows(first, [{ confirm: true }, { confirm: true }, { menu: "n" }]);
  assert.equal(wizard.ctx.config.CONFIG_BRAND_NAME, "Owner Brand", "config.user came from the ROM");
  try {
    assert.equal(await oemResetWizard(wizard.ctx), "done", JSON.stringify(wizard.prompt.transcript.filter((e) => e.kind === "message")));
  } finally {
    wizard.ctx.tpm?.close();
  }
  const qr = wizard.prompt.transcript.find((e): e is Extract<TranscriptEntry, { kind: "qr" }> => e.kind === "qr");
  assert.ok(qr);
  const base32 = /secret=([A-Z2-7]+)/.exec(qr.payload)![1]!;
  // cbfstool reads what the wizard wrote: the old keybox gone, the new keyring there, config.user kept.
  writeFileSync(work.path("after"), readFileSync(join(first, "flash.rom")));
  const extract = (name: string) => {
    work.cbfstool("after", "extract", "-n", name, "-f", work.path("extracted"));
    return readFileSync(work.path("extracted"));
  };
  const names = work.print("after").map((r) => r.name);
  assert.ok(names.includes("heads/initrd/.gnupg/pubring.gpg"), names.join(" "));
  assert.ok(names.includes("heads/initrd/etc/config.user"));
  assert.ok(!names.includes("heads/initrd/.gnupg/pubring.kbx"));
  // The owner's setting survives; the reset adds whether a backup drive exists, as Heads' does.
  assert.equal(extract("heads/initrd/etc/config.user").toString(), 'export CONFIG_BRAND_NAME="Owner Brand"\nexport CONFIG_HAVE_GPG_KEY_BACKUP="n"\n');
  // GnuPG reads the ROM's keyring with the trust database the reset wrote beside it: the new key is ultimately trusted.
  const home = mkdtempSync(join(tmpdir(), "bootward-rom-gnupg-"));
  dirs.push(home);
  writeFileSync(join(home, "pubring.gpg"), extract("heads/initrd/.gnupg/pubring.gpg"));
  writeFileSync(join(home, "trustdb.gpg"), extract("heads/initrd/.gnupg/trustdb.gpg"));
  const listing = execFileSync("gpg", ["--homedir", home, "--batch", "--no-autostart", "--with-colons", "--list-keys"], { encoding: "utf8" });
  assert.match(listing, /^pub:u:/m, listing);

  await reboot();
  const second = freshRoot(first);
  const next = await flows(second, []);
  try {
    assert.equal(next.ctx.romProblem, undefined);
    const unsealed = await unsealTotp(next.ctx.tpm!, rootedSys(sys, second));
    assert.ok("secret" in unsealed, `the TOTP secret must unseal in the next boot: ${JSON.stringify(unsealed)}`);
    const now = Date.now();
    const oath = execFileSync("oathtool", ["--totp", "-b", `--now=@${Math.floor(now / 1000)}`, base32], { encoding: "utf8" }).trim();
    assert.equal(totpCode(unsealed.secret, now).code, oath);
    const keys = await readRomKeyring(rootedSys(sys, second));
    const v = await verifyBoot(sys, { bootDir: join(second, "boot"), keys, tpm: next.ctx.tpm! });
    assert.equal(v.defaultChoice?.index, 1);
  } finally {
    next.ctx.tpm?.close();
  }

  // Someone swaps the keyring in the ROM for their own.
  work.cbfstool("after", "remove", "-n", "heads/initrd/.gnupg/pubring.gpg");
  writeFileSync(work.path("stranger.gpg"), gpg.gpg(["--export", gpg.stranger]));
  work.cbfstool("after", "add", "-t", "raw", "-n", "heads/initrd/.gnupg/pubring.gpg", "-f", work.path("stranger.gpg"));
  await reboot();
  const third = freshRoot(first);
  writeFileSync(join(third, "flash.rom"), work.read("after"));
  const tampered = await flows(third, []);
  try {
    const failure = await unsealTotp(tampered.ctx.tpm!, rootedSys(sys, third));
    assert.ok("failure" in failure, "no code once the ROM's keyring changed");
    assert.deepEqual(failure.failure.pcrs, [7]);
    const keys = await readRomKeyring(rootedSys(sys, third));
    await assert.rejects(verifyBoot(sys, { bootDir: join(third, "boot"), keys, tpm: tampered.ctx.tpm! }), /not in the keyring/);
  } finally {
    tampered.ctx.tpm?.close();
  }
});

test("an unreadable ROM at startup: nothing from it is installed and the first screen says why", async () => {
  const root = makeRoot(CONFIG);
  dirs.push(root);
  mkdirSync(join(root, "boot"));
  writeFileSync(join(root, "flash.rom"), new Uint8Array(4096).fill(0xff));
  const { prompt, ctx } = await flows(root, []);
  try {
    assert.match(ctx.romProblem ?? "", /keyring and settings kept in the ROM are not in use/);
    assert.equal(prompt.transcript.length, 0, "startFlows only remembers; runBootFlow shows it");
  } finally {
    ctx.tpm?.close();
  }
});
