import assert from "node:assert/strict";
import { test } from "node:test";
import {
  InvalidAnswerError, MenuWaitTimeoutError, ScriptExhaustedError, ScriptedPrompt, UnexpectedPromptError, UnusedAnswersError,
} from "../../../ui/scripted-prompt.ts";
import type { MenuItem } from "../../../ui/prompt.ts";

const MAIN = {
  title: "qemu-tpm2 | Heads Boot Menu",
  text: "TOTP: 123456",
  items: [
    { key: "d", label: "Default boot", value: "default" },
    { key: "o", label: "Options", value: "options" },
    { key: "x", label: "Recovery shell", value: "recovery", disabled: true },
  ],
};

test("answers come from the queue in order and everything shown is recorded", async () => {
  const p = new ScriptedPrompt([{ menu: "o" }, { confirm: true }, { input: "2025-01-01" }, { password: "hunter2" }, { menu: "back" }]);
  p.setStatus({ board: "qemu-tpm2", integrity: "ok" });
  assert.equal(await p.menu(MAIN), "options");
  assert.equal(await p.confirm({ title: "Reset the TPM?", text: "This clears it", defaultYes: false }), true);
  assert.equal(await p.input({ title: "Time", label: "Date" }), "2025-01-01");
  const pw = await p.password({ title: "TPM owner", label: "Password" });
  assert.deepEqual(pw, new TextEncoder().encode("hunter2"));
  await p.message({ title: "Done", text: "All good", tone: "success" });
  const bar = p.progress("Hashing /boot");
  bar.update(0.5, "vmlinuz");
  bar.done();
  await p.showQr({ title: "Scan", text: "with your phone", payload: "otpauth://totp/x?secret=AAAA" });
  assert.equal(await p.menu({ ...MAIN, allowBack: true }), "back");
  p.assertDone();

  assert.deepEqual(p.titles(), ["qemu-tpm2 | Heads Boot Menu", "Reset the TPM?", "Time", "TPM owner", "Done", "Scan", "qemu-tpm2 | Heads Boot Menu"]);
  assert.deepEqual(p.transcript[0], { kind: "status", status: { board: "qemu-tpm2", integrity: "ok" } });
  const menu = p.transcript[1];
  assert.equal(menu?.kind, "menu");
  if (menu?.kind === "menu") {
    assert.deepEqual(menu.items.map((i) => `${i.key}${i.disabled ? "-" : ""}`), ["d", "o", "x-"]);
    assert.equal(menu.answer, "o");
  }
  assert.deepEqual(p.transcript.find((e) => e.kind === "progress"), { kind: "progress", label: "Hashing /boot", updates: [{ fraction: 0.5, detail: "vmlinuz" }], done: true });
  // the password never appears in the transcript
  assert.equal(JSON.stringify(p.transcript).includes("hunter2"), false);
});

test("a prompt the script does not expect fails, naming what was asked", async () => {
  const p = new ScriptedPrompt([{ confirm: true }]);
  await assert.rejects(p.menu(MAIN), (e: unknown) => e instanceof UnexpectedPromptError && /menu "qemu-tpm2 \| Heads Boot Menu".*confirm/.test(e.message));
  // the answer was not consumed by the wrong prompt
  assert.equal(p.remaining(), 1);
});

test("an exhausted script fails, naming what was asked", async () => {
  const p = new ScriptedPrompt([]);
  await assert.rejects(p.password({ title: "Disk key", label: "Passphrase" }), (e: unknown) => e instanceof ScriptExhaustedError && /password "Disk key"/.test(e.message));
});

test("menu answers must name an enabled item, and back only where allowed", async () => {
  await assert.rejects(new ScriptedPrompt([{ menu: "x" }]).menu(MAIN), (e: unknown) => e instanceof InvalidAnswerError && /disabled/.test(e.message));
  await assert.rejects(new ScriptedPrompt([{ menu: "z" }]).menu(MAIN), (e: unknown) => e instanceof InvalidAnswerError && /no item has the key "z"/.test(e.message));
  await assert.rejects(new ScriptedPrompt([{ menu: "back" }]).menu(MAIN), InvalidAnswerError);
});

test("a validator's refusal is recorded and the next answer is used, like a user retyping", async () => {
  const p = new ScriptedPrompt([{ input: "abc" }, { input: "42" }, { password: "short" }, { password: "long enough" }]);
  const digits = (t: string) => (/^\d+$/.test(t) ? null : "digits only");
  assert.equal(await p.input({ title: "Counter", label: "N", validate: digits }), "42");
  const pw = await p.password({ title: "New PIN", label: "PIN", validate: (b) => (b.length >= 8 ? null : "at least 8 bytes") });
  assert.equal(new TextDecoder().decode(pw!), "long enough");
  const rejected = p.transcript.filter((e) => "rejected" in e).map((e) => ("rejected" in e ? e.rejected : ""));
  assert.deepEqual(rejected, ["digits only", "at least 8 bytes"]);
});

test("cancelled input and password answer null; unused answers are reported", async () => {
  const p = new ScriptedPrompt([{ input: null }, { password: null }, { confirm: false }]);
  assert.equal(await p.input({ title: "Name", label: "Name" }), null);
  assert.equal(await p.password({ title: "PIN", label: "PIN" }), null);
  assert.throws(() => p.assertDone(), UnusedAnswersError);
});

test("a live menu: the answer waits for the items to change, is checked against the items then shown, and every update is recorded", async () => {
  let update: ((items: MenuItem<string>[]) => void) | null = null;
  let stops = 0;
  const live = {
    ...MAIN,
    watch: (u: (items: MenuItem<string>[]) => void) => {
      update = u;
      return () => void stops++;
    },
  };
  const p = new ScriptedPrompt([
    {
      menu: async (shown) => {
        assert.deepEqual(shown.keys(), ["d", "o"], "disabled items are not offered");
        setTimeout(() => update!([...MAIN.items, { key: "u", label: "USB boot", value: "usb" }]), 10);
        await shown.until((keys) => keys.includes("u"));
        return "u";
      },
    },
  ]);
  assert.equal(await p.menu(live), "usb");
  assert.equal(stops, 1, "the watch is stopped once answered");
  update!([]);
  const entry = p.transcript[0];
  assert.ok(entry?.kind === "menu");
  assert.deepEqual(entry.items.map((i) => i.key), ["d", "o", "x"]);
  assert.deepEqual(entry.updates?.map((items) => items.map((i) => i.key)), [["d", "o", "x", "u"]], "an update after the answer is not recorded");

  await assert.rejects(new ScriptedPrompt([{ menu: async () => "u" }]).menu(live), (e: unknown) => e instanceof InvalidAnswerError && /no item has the key "u"/.test(e.message));
  const waiting = new ScriptedPrompt([{ menu: async (shown) => (await shown.until((keys) => keys.includes("q"), 30), "q") }]);
  await assert.rejects(waiting.menu(live), (e: unknown) => e instanceof MenuWaitTimeoutError && /still offers d o/.test(e.message));
  assert.equal(stops, 3, "a failed answer stops the watch too");
});
