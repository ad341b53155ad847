// The OEM reset's backup questions on their own (no TPM, no drive is touched): which USB drive,
// what share of it, and the erase confirmation; declining the erase or finding no drive goes
// back to the choice, and a drive plugged in while a question shows appears on it at once.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { ScriptedPrompt, type TranscriptEntry } from "../../../ui/scripted-prompt.ts";
import { askAnswers } from "../../../runtime/flows/oem-reset/questions.ts";
import type { UsbDrive } from "../../../runtime/ownership/drive.ts";
import { usbDriveList, type DriveList } from "../../../runtime/ownership/drive-list.ts";
import { createNodeSys } from "../../../runtime/host/node/sys.ts";
import { makeRoot, plugUsbDrive, unplugUsbDrive } from "./fixture.ts";
import { manualTimers } from "./manual-timers.ts";
import { rootedSys } from "../../../runtime/host/rooted.ts";

const STICK: UsbDrive = { device: "/dev/sda", bytes: 8e9, description: "Acme Stick" };
const OTHER: UsbDrive = { device: "/dev/sdb", bytes: 32e9, description: "Other Drive" };
const THIRD: UsbDrive = { device: "/dev/sdc", bytes: 16e9, description: "Third Drive" };
const noPath = () => null;

/** Drives the test plugs in and pulls out; a list on screen hears of each change at once. */
function handDrives(initial: UsbDrive[]) {
  let now = initial;
  const watchers = new Set<(drives: UsbDrive[]) => void>();
  const list: DriveList = {
    read: async () => now,
    watch(_shown, changed) {
      watchers.add(changed);
      return () => void watchers.delete(changed);
    },
  };
  return {
    list,
    set(drives: UsbDrive[]) {
      now = drives;
      for (const changed of watchers) changed(drives);
    },
    watching: () => watchers.size,
  };
}

const menus = (p: ScriptedPrompt) => p.transcript.filter((e): e is Extract<TranscriptEntry, { kind: "menu" }> => e.kind === "menu");
const keys = (items: { key: string }[]) => items.map((i) => i.key).join("");

test("two drives: the second is chosen with a 50 % share after one declined erase; the erase names the drive", async () => {
  const prompt = new ScriptedPrompt([
    { confirm: true },
    { menu: "d" }, { menu: "1" }, { menu: "2" }, { confirm: false },
    { menu: "d" }, { menu: "2" }, { menu: "3" }, { confirm: true },
  ]);
  const answers = await askAnswers(prompt, Date.UTC(2026, 10, 22), { checkPath: noPath, drives: handDrives([STICK, OTHER]).list });
  prompt.assertDone();
  assert.deepEqual(answers?.backup, { kind: "drive", drive: OTHER, share: 50 });
  const erase = prompt.transcript.filter((e) => e.kind === "confirm").slice(1).map((e) => e.kind === "confirm" && e.text);
  assert.deepEqual(erase, ["Everything on /dev/sda: Acme Stick, 8.0 GB will be erased. Use this drive for the backup?", "Everything on /dev/sdb: Other Drive, 32.0 GB will be erased. Use this drive for the backup?"]);
});

test("no drive at first: the choice says to plug one in; once it is there the single drive needs no choosing", async () => {
  let plugged: UsbDrive[] = [];
  const prompt = new ScriptedPrompt([{ confirm: true }, { menu: "r" }, { menu: "d" }, { menu: "1" }, { confirm: true }]);
  // A list that never reports a change: the drive is only found when "r" reads it again.
  const answers = await askAnswers(prompt, 0, {
    checkPath: noPath,
    drives: {
      read: async () => {
        const now = plugged;
        plugged = [STICK];
        return now;
      },
      watch: () => () => {},
    },
  });
  prompt.assertDone();
  assert.deepEqual(answers?.backup, { kind: "drive", drive: STICK, share: 10 });
  const menus = prompt.transcript.filter((e) => e.kind === "menu").map((e) => (e.kind === "menu" ? e.items.map((i) => i.key).join("") : ""));
  assert.deepEqual(menus, ["rfn", "dfn", "1234"]);
});

test("no backup and going back from the backup choice: null backup, and a cancelled questionnaire", async () => {
  const none = new ScriptedPrompt([{ confirm: true }, { menu: "n" }]);
  assert.equal((await askAnswers(none, 0, { checkPath: noPath, drives: handDrives([STICK]).list }))?.backup, null);
  const back = new ScriptedPrompt([{ confirm: true }, { menu: "back" }]);
  assert.equal(await askAnswers(back, 0, { checkPath: noPath, drives: handDrives([STICK]).list }), null);
});

const roots: string[] = [];
after(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

test("a stick plugged in while the backup question shows is offered (d) without a key press; pulled out, it is not", async () => {
  const root = makeRoot();
  roots.push(root);
  const time = manualTimers(createNodeSys());
  const prompt = new ScriptedPrompt([
    { confirm: true },
    {
      menu: async (shown) => {
        await time.fireNext();
        plugUsbDrive(root, "sda", 15_625_000, "Acme", "Stick");
        await time.fireNext();
        await shown.until((k) => k.includes("d"));
        unplugUsbDrive(root, "sda");
        await time.fireNext();
        await shown.until((k) => k.includes("r"));
        plugUsbDrive(root, "sda", 15_625_000, "Acme", "Stick");
        await time.fireNext();
        await shown.until((k) => k.includes("d"));
        return "d";
      },
    },
    { menu: "1" },
    { confirm: true },
  ]);
  const answers = await askAnswers(prompt, 0, { checkPath: noPath, drives: usbDriveList(rootedSys(time.sys, root)) });
  prompt.assertDone();
  const [question] = menus(prompt);
  assert.equal(keys(question!.items), "rfn", "no stick yet: the question says to plug one in");
  assert.deepEqual(question!.updates?.map(keys), ["dfn", "rfn", "dfn"], "each arrival and departure redraws the question once; an unchanged read redraws nothing");
  assert.deepEqual(answers?.backup, { kind: "drive", drive: { device: "/dev/sda", bytes: 8e9, description: "Acme Stick" }, share: 10 });
  assert.equal(time.pending(), 0, "once answered, the drives are no longer read");
});

test("several drives: the choice of drive follows drives plugged in and pulled out while it shows", async () => {
  const drives = handDrives([STICK, OTHER]);
  const prompt = new ScriptedPrompt([
    { confirm: true },
    { menu: "d" },
    {
      menu: async (shown) => {
        drives.set([STICK, OTHER, THIRD]);
        await shown.until((k) => k.join("") === "123");
        drives.set([]);
        await shown.until((k) => k.length === 0);
        drives.set([OTHER, THIRD]);
        await shown.until((k) => k.join("") === "12");
        return "1";
      },
    },
    { menu: "1" },
    { confirm: true },
  ]);
  const answers = await askAnswers(prompt, 0, { checkPath: noPath, drives: drives.list });
  prompt.assertDone();
  assert.deepEqual(answers?.backup, { kind: "drive", drive: OTHER, share: 10 }, "key 1 is the first drive shown when it was pressed");
  const choice = menus(prompt)[1]!;
  assert.deepEqual(choice.updates?.map((items) => items.map((i) => `${i.key}${i.disabled ? "-" : ""} ${i.label}`)), [
    ["1 /dev/sda: Acme Stick, 8.0 GB", "2 /dev/sdb: Other Drive, 32.0 GB", "3 /dev/sdc: Third Drive, 16.0 GB"],
    ["-- No USB drive is plugged in now: plug one in, or press Esc"],
    ["1 /dev/sdb: Other Drive, 32.0 GB", "2 /dev/sdc: Third Drive, 16.0 GB"],
  ]);
  assert.equal(drives.watching(), 0, "no question watches the drives once answered");
});
