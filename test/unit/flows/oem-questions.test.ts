// The OEM reset's backup questions on their own (no TPM, no drive is touched): which USB drive,
// what share of it, and the erase confirmation; declining the erase or finding no drive goes
// back to the choice, and a drive plugged in later shows up when asked again.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ScriptedPrompt } from "../../../ui/scripted-prompt.ts";
import { askAnswers } from "../../../runtime/flows/oem-reset/questions.ts";
import type { UsbDrive } from "../../../runtime/backup/drive.ts";

const STICK: UsbDrive = { device: "/dev/sda", bytes: 8e9, description: "Acme Stick" };
const OTHER: UsbDrive = { device: "/dev/sdb", bytes: 32e9, description: "Other Drive" };
const noPath = () => null;

test("two drives: the second is chosen with a 50 % share after one declined erase; the erase names the drive", async () => {
  const prompt = new ScriptedPrompt([
    { confirm: true },
    { menu: "d" }, { menu: "1" }, { menu: "2" }, { confirm: false },
    { menu: "d" }, { menu: "2" }, { menu: "3" }, { confirm: true },
  ]);
  const answers = await askAnswers(prompt, Date.UTC(2026, 10, 22), { checkPath: noPath, drives: () => [STICK, OTHER] });
  prompt.assertDone();
  assert.deepEqual(answers?.backup, { kind: "drive", drive: OTHER, share: 50 });
  const erase = prompt.transcript.filter((e) => e.kind === "confirm").slice(1).map((e) => e.kind === "confirm" && e.text);
  assert.deepEqual(erase, ["Everything on /dev/sda: Acme Stick, 8.0 GB will be erased. Use this drive for the backup?", "Everything on /dev/sdb: Other Drive, 32.0 GB will be erased. Use this drive for the backup?"]);
});

test("no drive at first: the choice says to plug one in; once it is there the single drive needs no choosing", async () => {
  let plugged: UsbDrive[] = [];
  const prompt = new ScriptedPrompt([{ confirm: true }, { menu: "r" }, { menu: "d" }, { menu: "1" }, { confirm: true }]);
  const answers = await askAnswers(prompt, 0, {
    checkPath: noPath,
    drives: () => {
      const now = plugged;
      plugged = [STICK];
      return now;
    },
  });
  prompt.assertDone();
  assert.deepEqual(answers?.backup, { kind: "drive", drive: STICK, share: 10 });
  const menus = prompt.transcript.filter((e) => e.kind === "menu").map((e) => (e.kind === "menu" ? e.items.map((i) => i.key).join("") : ""));
  assert.deepEqual(menus, ["rfn", "dfn", "1234"]);
});

test("no backup and going back from the backup choice: null backup, and a cancelled questionnaire", async () => {
  const none = new ScriptedPrompt([{ confirm: true }, { menu: "n" }]);
  assert.equal((await askAnswers(none, 0, { checkPath: noPath, drives: () => [STICK] }))?.backup, null);
  const back = new ScriptedPrompt([{ confirm: true }, { menu: "back" }]);
  assert.equal(await askAnswers(back, 0, { checkPath: noPath, drives: () => [STICK] }), null);
});
