// "Update checksums and sign" offers the OEM reset's backup drive (b) as soon as it is plugged
// in, while the question shows, and stops offering it when it is pulled out. The drives are
// fakes behind Sys: /sys/block in a fixture root, a partition table read from the disk's
// device, and cryptsetup's answer to isLuks; the test counts how often each drive is probed.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { cpSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { createNodeSys } from "../../../runtime/host/node/sys.ts";
import { SysError, type Device, type Sys } from "../../../runtime/host/sys.ts";
import { readBoardConfig } from "../../../runtime/config/board.ts";
import { plainUi, type FlowContext } from "../../../runtime/flows/context.ts";
import { signBootFlow } from "../../../runtime/flows/sign-boot.ts";
import { backupDriveLayout } from "../../../runtime/ownership/partition.ts";
import { ScriptedPrompt, type ScriptedAnswer, type TranscriptEntry } from "../../../ui/scripted-prompt.ts";
import { makeBoot } from "../../boot/support.ts";
import { makeRoot, plugUsbDrive, unplugUsbDrive } from "./fixture.ts";
import { manualTimers, type ManualTimers } from "./manual-timers.ts";
import { rootedSys } from "../../../runtime/host/rooted.ts";

const SECTORS = 15_625_000; // 8 GB
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface FakeDisk {
  /** A backup drive: a DOS table whose partition 1 cryptsetup calls LUKS. Otherwise blank. */
  backup: boolean;
  /** Whether the kernel has made the partitions' device nodes yet. */
  partitionNodes: boolean;
}

/** The disks behind /dev that the drives in the fixture's /sys/block name, and how often each was probed; `base` is the fixture root's Sys. */
function fakeDisks(base: Sys) {
  const disks = new Map<string, FakeDisk>();
  const opened = new Map<string, number>();
  const device = (path: string): Device => {
    const disk = disks.get(path);
    if (!disk) throw new SysError(`${path}: no such device`, path);
    opened.set(path, (opened.get(path) ?? 0) + 1);
    const head = disk.backup ? backupDriveLayout(SECTORS * 512, 10, 0x1234).mbr : new Uint8Array(512);
    return { read: (max) => head.slice(0, max), write: () => {}, close: () => {} };
  };
  const partitionOf = (path: string) => disks.get(path.replace(/\d+$/, ""));
  const sys: Sys = {
    ...base,
    openDevice: (path, mode) => (path.startsWith("/dev/sd") ? device(path) : base.openDevice(path, mode)),
    stat: (path) =>
      /^\/dev\/sd[a-z]+\d+$/.test(path) ? (partitionOf(path)?.partitionNodes ? { kind: "other", size: 0, mode: 0o60600, mtimeMs: 0 } : null) : base.stat(path),
    exec: async (argv, options) => {
      if (argv[0] !== "cryptsetup" || argv[1] !== "isLuks") return base.exec(argv, options);
      return { status: partitionOf(argv[2]!)?.backup ? 0 : 1, stdout: new Uint8Array(), stderr: new Uint8Array() };
    },
  };
  return {
    sys,
    insert: (name: string, disk: FakeDisk) => void disks.set(`/dev/${name}`, disk),
    remove: (name: string) => void disks.delete(`/dev/${name}`),
    /** How often each disk's partition table was read: once per drive while it stays plugged in, unless it could not be told. */
    opened: (name: string) => opened.get(`/dev/${name}`) ?? 0,
  };
}

function fixture() {
  const root = makeRoot();
  const boot = makeBoot();
  dirs.push(root, dirname(boot));
  cpSync(boot, join(root, "boot"), { recursive: true });
  const disks = fakeDisks(rootedSys(createNodeSys(), root));
  const time = manualTimers(disks.sys);
  return {
    root,
    disks,
    time,
    plug(name: string, disk: FakeDisk, model: string) {
      disks.insert(name, disk);
      plugUsbDrive(root, name, SECTORS, "Acme", model);
    },
    unplug(name: string) {
      unplugUsbDrive(root, name);
      disks.remove(name);
    },
  };
}

async function signFlow(time: ManualTimers, answers: ScriptedAnswer[]): Promise<ScriptedPrompt> {
  const prompt = new ScriptedPrompt([{ confirm: true }, { menu: "k" }, ...answers]);
  const ctx: FlowContext = { sys: time.sys, ui: plainUi(prompt), config: readBoardConfig(time.sys), tpm: null, firmware: false, shell: [] };
  await signBootFlow(ctx);
  prompt.assertDone();
  return prompt;
}

const sourceMenu = (p: ScriptedPrompt) =>
  p.transcript.find((e): e is Extract<TranscriptEntry, { kind: "menu" }> => e.kind === "menu" && e.text === "Where is the signing key?")!;
const shownAs = (items: { key: string; label: string }[]) => items.map((i) => `${i.key} ${i.label}`);

test("the backup drive plugged in while the signing question shows is offered (b); a plain stick is not; pulled out, it goes", async () => {
  const f = fixture();
  const prompt = await signFlow(f.time, [
    {
      menu: async (shown) => {
        f.plug("sda", { backup: false, partitionNodes: true }, "Plain Stick");
        await f.time.fireNext();
        f.plug("sdb", { backup: true, partitionNodes: true }, "Backup Stick");
        await f.time.fireNext();
        await shown.until((k) => k.includes("b"));
        await f.time.fireNext();
        f.unplug("sdb");
        await f.time.fireNext();
        await shown.until((k) => k.includes("r"));
        return "back";
      },
    },
  ]);
  const menu = sourceMenu(prompt);
  assert.deepEqual(shownAs(menu.items), ["r The key backup drive of the OEM factory reset: plug it in, then choose this", "f An OpenPGP secret key file"]);
  assert.deepEqual(menu.updates?.map(shownAs), [
    ["b The key backup on /dev/sdb: Acme Backup Stick, 8.0 GB", "f An OpenPGP secret key file"],
    ["r The key backup drive of the OEM factory reset: plug it in, then choose this", "f An OpenPGP secret key file"],
  ], "the plain stick changes nothing on screen; the backup drive comes and goes");
  assert.equal(f.disks.opened("sda"), 1, "a drive is probed once while it stays plugged in");
  assert.equal(f.disks.opened("sdb"), 1);
  assert.equal(f.time.pending(), 0, "once answered, the drives are no longer read");
});

test("a backup drive whose partitions have no device nodes yet is probed again until they do, then offered", async () => {
  const f = fixture();
  const disk = { backup: true, partitionNodes: false };
  const prompt = await signFlow(f.time, [
    {
      menu: async (shown) => {
        f.plug("sda", disk, "Backup Stick");
        await f.time.fireNext();
        await f.time.fireNext();
        assert.deepEqual(shown.keys(), ["r", "f"], "not offered while it cannot be told");
        disk.partitionNodes = true;
        await f.time.fireNext();
        await shown.until((k) => k.includes("b"));
        return "back";
      },
    },
  ]);
  assert.equal(f.disks.opened("sda"), 3, "probed at each read until it could be told");
  assert.deepEqual(sourceMenu(prompt).updates?.map((items) => items.map((i) => i.key).join("")), ["bf"]);
});

test("a backup drive plugged in before the question is offered at once, and b answers with it", async () => {
  const f = fixture();
  f.plug("sda", { backup: true, partitionNodes: true }, "Backup Stick");
  // b asks for the passphrase that opens the drive; none is given, so nothing is signed.
  const prompt = await signFlow(f.time, [{ menu: "b" }, { password: null }]);
  assert.deepEqual(shownAs(sourceMenu(prompt).items)[0], "b The key backup on /dev/sda: Acme Backup Stick, 8.0 GB");
  const asked = prompt.transcript.find((e) => e.kind === "password");
  assert.equal(asked?.kind === "password" && asked.label, "Signing key passphrase (it opens the backup drive too)");
});
