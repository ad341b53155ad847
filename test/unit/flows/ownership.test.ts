// Startup on a machine without an owner: no key in the firmware, or a /boot never signed →
// the OEM factory reset is offered; going on to the main menu stays possible; once the reset
// is done (or on an owned machine) nothing is asked.
import { test } from "node:test";
import assert from "node:assert/strict";
import { cpSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { openTpm } from "../../../tpm/index.ts";
import { createNodeSys } from "../../../runtime/host/node/sys.ts";
import { ScriptedPrompt, type ScriptedAnswer } from "../../../ui/scripted-prompt.ts";
import { plainUi } from "../../../runtime/flows/context.ts";
import { startFlows } from "../../../runtime/flows/boot.ts";
import { INCOMPLETE_TITLE, NO_OWNER_TITLE, offerOwnership, offerToFinishReset } from "../../../runtime/flows/ownership.ts";
import { PENDING_FILE } from "../../../runtime/flows/oem-reset/pending.ts";
import { inMemorySigner } from "../../../gpg/sign.ts";
import { signBoot } from "../../../runtime/boot/index.ts";
import { makeBoot } from "../../boot/support.ts";
import { makeRoot, useRig } from "./fixture.ts";

const sys = createNodeSys();
const rig = useRig();

function root(withKey: boolean): string {
  const r = makeRoot();
  const boot = makeBoot();
  rig.dirs.push(r, dirname(boot));
  cpSync(boot, join(r, "boot"), { recursive: true });
  if (withKey) {
    mkdirSync(join(r, ".gnupg"));
    writeFileSync(join(r, ".gnupg/pubring.asc"), rig.gpg.ownerPublic());
  }
  return r;
}

async function offer(r: string, answers: ScriptedAnswer[], first?: typeof offerToFinishReset): Promise<ScriptedPrompt> {
  const prompt = new ScriptedPrompt(answers);
  const ctx = await startFlows(sys, plainUi(prompt), { root: r, firmware: false, openTpm: () => openTpm(rig.sw.transport(), { random: (n) => sys.randomBytes(n) }) });
  try {
    // As at startup: the interrupted reset is offered first, then ownership.
    if (first) await first(ctx);
    await offerOwnership(ctx);
  } finally {
    ctx.tpm?.close();
  }
  prompt.assertDone();
  return prompt;
}

const offered = (p: ScriptedPrompt) => p.transcript.filter((e) => e.kind === "menu" && e.title === NO_OWNER_TITLE);

test("no key in the firmware → the reset is offered with the reason; m goes on", async () => {
  const prompt = await offer(root(false), [{ menu: "m" }]);
  const [menu] = offered(prompt);
  assert.ok(menu && menu.kind === "menu");
  assert.match(menu.text!, /^The firmware holds no OpenPGP public key/);
  assert.deepEqual(menu.items.map((i) => i.key), ["F", "m", "x"]);
});

test("a key but a /boot never signed → offered; an owned machine → nothing asked", async () => {
  const unsigned = root(true);
  const [menu] = offered(await offer(unsigned, [{ menu: "m" }]));
  assert.ok(menu && menu.kind === "menu");
  assert.match(menu.text!, /^\/boot has never been signed/);
  await signBoot(sys, { bootDir: join(unsigned, "boot"), signer: await inMemorySigner(rig.gpg.ownerSecret()) });
  assert.equal(offered(await offer(unsigned, [])).length, 0);
});

test("F runs the OEM reset; once it is done the machine is owned and the offer ends", async () => {
  const prompt = await offer(root(false), [{ menu: "F" }, { confirm: true }, { confirm: true }, { menu: "n" }]);
  assert.equal(offered(prompt).length, 1, "asked once, not again after the reset");
  assert.ok(prompt.transcript.some((e) => e.kind === "message" && e.title.endsWith(": done")));
});

test("a cancelled reset brings the offer back", async () => {
  const prompt = await offer(root(false), [{ menu: "F" }, { confirm: false }, { menu: "m" }]);
  assert.equal(offered(prompt).length, 2);
});

test("an interrupted reset is offered once, naming its step; going on from it is not asked again", async () => {
  const owned = root(true);
  await signBoot(sys, { bootDir: join(owned, "boot"), signer: await inMemorySigner(rig.gpg.ownerSecret()) });
  writeFileSync(join(owned, "boot", PENDING_FILE), "sign\n");
  const prompt = await offer(owned, [{ menu: "m" }], offerToFinishReset);
  const menus = prompt.transcript.filter((e) => e.kind === "menu");
  assert.deepEqual(menus.map((m) => m.kind === "menu" && m.title), [INCOMPLETE_TITLE]);
  assert.match(menus[0]!.kind === "menu" ? menus[0]!.text! : "", /It stopped while signing \/boot\./);
});
