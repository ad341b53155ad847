// The gui-init menus driven through ScriptedPrompt on Node, against swtpm and a fixture root.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { startSwtpm, type Swtpm } from "../../support/swtpm.ts";
import { openTpm } from "../../../tpm/index.ts";
import { toHex } from "../../../lib/bytes.ts";
import { createNodeSys } from "../../../runtime/host/node/sys.ts";
import { ScriptedPrompt, type ScriptedAnswer, type TranscriptEntry } from "../../../ui/scripted-prompt.ts";
import { plainUi, type AttestationProvider, type FlowContext } from "../../../runtime/flows/context.ts";
import { runBootFlow, startFlows } from "../../../runtime/flows/boot.ts";
import { guarded } from "../../../runtime/flows/error-screen.ts";
import { mainMenu } from "../../../runtime/flows/main-menu.ts";
import { makeRoot } from "./fixture.ts";
import { rootedSys } from "../../../runtime/host/rooted.ts";

const sys = createNodeSys();
let sw: Swtpm;
const roots: string[] = [];

before(async () => {
  sw = await startSwtpm("2.0");
});
after(async () => {
  await sw.stop();
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

function sha256(...parts: (Buffer | string)[]): Buffer {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return h.digest();
}

/** A PCR's value after extending H(text) onto `from`. */
function extended(from: Buffer, text: string): Buffer {
  return sha256(from, sha256(text));
}

interface Run {
  prompt: ScriptedPrompt;
  ctx: FlowContext;
  root: string;
  pcrBefore: Map<number, Uint8Array>;
}

async function boot(
  answers: ScriptedAnswer[],
  opts: { config?: string; attestation?: AttestationProvider; shell?: string[]; noTpm?: boolean } = {},
): Promise<Run> {
  const root = makeRoot(opts.config);
  roots.push(root);
  const prompt = new ScriptedPrompt(answers);
  let pcrBefore = new Map<number, Uint8Array>();
  const ctx = await startFlows(rootedSys(sys, root), plainUi(prompt), {
    firmware: false,
    attestation: opts.attestation,
    shell: opts.shell ?? ["sh", "-c", `echo ran > ${join(root, "shell-ran")}`],
    tpmPath: opts.noTpm ? join(root, "dev/tpm0") : undefined,
    openTpm: opts.noTpm
      ? undefined
      : async () => {
          const tpm = await openTpm(sw.transport(), { random: (n) => sys.randomBytes(n) });
          pcrBefore = await tpm.pcrRead([4, 16]);
          return tpm;
        },
  });
  return { prompt, ctx, root, pcrBefore };
}

function menus(prompt: ScriptedPrompt): Extract<TranscriptEntry, { kind: "menu" }>[] {
  return prompt.transcript.filter((e): e is Extract<TranscriptEntry, { kind: "menu" }> => e.kind === "menu");
}

function messages(prompt: ScriptedPrompt): Extract<TranscriptEntry, { kind: "message" }>[] {
  return prompt.transcript.filter((e): e is Extract<TranscriptEntry, { kind: "message" }> => e.kind === "message");
}

test("main menu: Heads' title and keys, date and TOTP/HOTP text, p powers off", async () => {
  const run = await boot([{ menu: "p" }]);
  run.ctx.sys = { ...sys, now: () => Date.UTC(2026, 0, 2, 3, 4, 5) };
  assert.equal(await runBootFlow(run.ctx), "poweroff");
  run.prompt.assertDone();
  const [main] = menus(run.prompt);
  assert.equal(main!.title, "Test Board | Acme Boot Menu");
  assert.deepEqual(main!.items.map((i) => i.key), ["d", "r", "o", "s", "p"]);
  assert.equal(main!.text, "2026-01-02 03:04:05\nTOTP: not configured | HOTP: not configured");
  const status = run.prompt.transcript.find((e) => e.kind === "status");
  assert.ok(status && status.kind === "status");
  assert.equal(status.status.board, "Test Board");
  assert.equal(status.status.integrity, "unknown", "nothing is verified yet, so never green");
  assert.equal(run.ctx.tpm, null, "the TPM is closed on the way out");
});

test("brand defaults to bootward when CONFIG_BRAND_NAME is empty", async () => {
  const run = await boot([{ menu: "p" }], { config: 'export CONFIG_BRAND_NAME=""\n' });
  await runBootFlow(run.ctx);
  assert.equal(menus(run.prompt)[0]!.title, "Test Board | bootward Boot Menu");
});

test("startup extends no debug PCR (PCR 16 untouched); System Info shows board, TPM, PCRs 0-7, disks and memory", async () => {
  const run = await boot([{ menu: "s" }, { menu: "p" }]);
  await runBootFlow(run.ctx);
  run.prompt.assertDone();
  const [info] = messages(run.prompt);
  assert.equal(info!.title, "System Info");
  const lines = info!.text.split("\n");
  assert.equal(lines[0], "Board: Test Board");
  assert.match(lines[1]!, /^Firmware: bootward \d+\.\d+\.\d+$/);
  assert.match(info!.text, /^TPM: 2\.0, manufacturer \S+/m);
  for (const pcr of [0, 1, 2, 3, 4, 5, 6, 7]) assert.match(info!.text, new RegExp(`^PCR +${pcr}: [0-9a-f]{64}$`, "m"));
  assert.doesNotMatch(info!.text, /PCR 16/);
  const tpm = await openTpm(sw.transport());
  const after = await tpm.pcrRead([16]).finally(() => tpm.close());
  assert.deepEqual(after.get(16), run.pcrBefore.get(16), "the walking skeleton's PCR 16 extend is gone");
  assert.ok(lines.includes("Disks: vda 64 MiB"), "loop devices are left out");
  assert.ok(lines.includes("Memory: 991 MiB"));
  for (const line of lines) assert.ok(line.length <= 76, `"${line}" is wider than the 80-column box`);
});

test("an attestation provider fills the header and the text; r refreshes it; its failure is shown, not thrown", async () => {
  let calls = 0;
  const provider: AttestationProvider = {
    async status() {
      calls++;
      if (calls === 2) throw new Error("unseal failed");
      return { code: "123456", expiresAt: Date.now() + 20_000 };
    },
    hotp: async () => "Success",
  };
  const run = await boot([{ menu: "r" }, { menu: "p" }], { attestation: provider });
  await runBootFlow(run.ctx);
  const [first, second] = menus(run.prompt);
  assert.match(first!.text!, /\nTOTP: 123456 \| HOTP: Success$/);
  assert.match(second!.text!, /\nTOTP: error \(unseal failed\) \| HOTP: Success$/);
  assert.equal(calls, 2);
});

test("Options: x extends PCR 4 with \"recovery\", destroys /tmp/secret/*, runs the shell, then back to the menus", async () => {
  const run = await boot([{ menu: "o" }, { menu: "x" }, { menu: "r" }, { menu: "p" }]);
  const tpm = run.ctx.tpm!;
  const secret = join(run.root, "tmp/secret");
  await mainMenuUntilPowerOff(run);
  assert.ok(existsSync(join(run.root, "shell-ran")), "the shell ran");
  assert.ok(existsSync(secret), "the directory stays");
  assert.ok(!existsSync(join(secret, "totp.key")) && !existsSync(join(secret, "nested")), "its contents are gone");
  const pcr4 = (await tpm.pcrRead([4])).get(4)!;
  assert.equal(toHex(pcr4), extended(Buffer.from(run.pcrBefore.get(4)!), "recovery").toString("hex"));
  assert.deepEqual(run.prompt.titles(), ["Test Board | Acme Boot Menu", "Options", "Options", "Test Board | Acme Boot Menu"]);
  tpm.close();
});

async function mainMenuUntilPowerOff(run: Run): Promise<void> {
  assert.equal(await guarded(run.ctx, () => mainMenu(run.ctx)), "poweroff");
  run.prompt.assertDone();
}

test("restricted boot: x is refused with a message; no shell, PCR 4 and the secrets untouched", async () => {
  const run = await boot([{ menu: "o" }, { menu: "x" }, { menu: "back" }, { menu: "p" }], { config: 'export CONFIG_RESTRICTED_BOOT="y"\n' });
  const tpm = run.ctx.tpm!;
  await mainMenuUntilPowerOff(run);
  assert.ok(!existsSync(join(run.root, "shell-ran")), "no shell");
  const [refusal] = messages(run.prompt);
  assert.equal(refusal!.title, "Recovery shell refused");
  assert.equal(refusal!.tone, "error");
  assert.match(refusal!.text, /Restricted Boot/);
  assert.deepEqual((await tpm.pcrRead([4])).get(4), run.pcrBefore.get(4));
  assert.equal(readFileSync(join(run.root, "tmp/secret/totp.key"), "utf8"), "SECRET");
  tpm.close();
});

test("without a TPM: System Info says why, and the recovery shell still opens, saying in red that nothing was measured", async () => {
  const run = await boot([{ menu: "s" }, { menu: "o" }, { menu: "x" }, { menu: "r" }, { menu: "p" }], { noTpm: true });
  assert.equal(run.ctx.tpm, null);
  const written: string[] = [];
  run.ctx.sys = { ...run.ctx.sys, console: { ...run.ctx.sys.console, write: (t) => void written.push(t) } };
  await mainMenuUntilPowerOff(run);
  assert.match(messages(run.prompt)[0]!.text, /^TPM: no TPM could be opened/m);
  assert.ok(existsSync(join(run.root, "shell-ran")));
  assert.match(written.join(""), /\x1b\[1;31m!!! Nothing was measured: the TPM could not be opened \(no TPM could be opened .*\), so PCR 4 was not extended\./);
  assert.doesNotMatch(written.join(""), /PCR 4 is extended/);
});

test("a TPM that fails the PCR 4 extend keeps the shell closed", async () => {
  const run = await boot([{ menu: "o" }, { menu: "x" }, { menu: "r" }, { menu: "p" }]);
  run.ctx.tpm!.close(); // a real failure: the transport is gone
  await mainMenuUntilPowerOff(run);
  assert.ok(!existsSync(join(run.root, "shell-ran")));
  assert.match(messages(run.prompt)[0]!.text, /PCR 4 could not be extended/);
});

test("an unexpected exception shows the error screen; m returns to the menus, p powers off", async () => {
  const run = await boot([{ menu: "m" }, { menu: "p" }]);
  let resets = 0;
  run.ctx.ui = { ...run.ctx.ui, reset: () => void resets++ };
  let attempts = 0;
  const choice = await guarded(run.ctx, async () => {
    if (attempts++ === 0) throw new TypeError("x is undefined");
    return mainMenu(run.ctx);
  });
  assert.equal(choice, "poweroff");
  run.prompt.assertDone();
  const [error] = menus(run.prompt);
  assert.equal(error!.title, "bootward hit an unexpected error");
  assert.match(error!.text!, /^x is undefined\n/);
  assert.deepEqual(error!.items.map((i) => i.key), ["m", "p", "r", "x"]);
  assert.equal(resets, 1, "the UI is rebuilt before the error screen");
  run.ctx.tpm!.close();
});

test("error screen: r reboots; x in restricted mode is refused and the screen stays", async () => {
  const run = await boot([{ menu: "x" }, { menu: "r" }], { config: 'export CONFIG_RESTRICTED_BOOT="y"\n' });
  const choice = await guarded(run.ctx, async () => {
    throw new Error("boom");
  });
  assert.equal(choice, "reboot");
  run.prompt.assertDone();
  assert.deepEqual(run.prompt.titles(), ["bootward hit an unexpected error", "Recovery shell refused", "bootward hit an unexpected error"]);
  run.ctx.tpm!.close();
});

test("a failing error screen goes up to PID 1's fail-safe instead of looping", async () => {
  const run = await boot([]); // the script has no answer: the error screen itself fails
  await assert.rejects(
    guarded(run.ctx, async () => {
      throw new Error("boom");
    }),
    /script has no answers left/,
  );
  run.ctx.tpm!.close();
});
