// The disk unlock key setup screens, driven by the scripted prompt on swtpm 2.0 with real
// LUKS1 and LUKS2 images (blkid answers with their paths, as it would list the disks): a
// refused recovery passphrase stops after 3 tries with nothing written; a short or mismatched
// passphrase is asked again; "no" to an occupied slot keeps it; the lists are signed into
// /boot and GnuPG verifies them; the key opens both volumes at the next boot, not with a
// wrong passphrase.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openTpm } from "../../../tpm/index.ts";
import { createNodeSys } from "../../../runtime/host/node/sys.ts";
import type { Sys } from "../../../runtime/host/sys.ts";
import { ScriptedPrompt, type ScriptedAnswer } from "../../../ui/scripted-prompt.ts";
import { plainUi } from "../../../runtime/flows/context.ts";
import { startFlows } from "../../../runtime/flows/boot.ts";
import { DISK_SETUP_TITLE, diskKeySetupFlow } from "../../../runtime/flows/disk-setup.ts";
import { inMemorySigner } from "../../../gpg/sign.ts";
import { signBoot } from "../../../runtime/boot/index.ts";
import { writeCpio } from "../../../lib/cpio.ts";
import { luksInfo } from "../../../runtime/platform/luks.ts";
import { measureLuksHeaders } from "../../../runtime/disk/headers.ts";
import { diskKeySecret } from "../../../runtime/disk/key.ts";
import { unsealSecret } from "../../../runtime/sealing/unseal.ts";
import { makeBoot, makeGpgHome, type GpgHome } from "../../boot/support.ts";
import { DISK_PASSPHRASES, keyOpens, makeLuksImage } from "../../support/luks.ts";
import { startSwtpm, type Swtpm } from "../../support/swtpm.ts";
import { makeRoot } from "./fixture.ts";
import { rootedSys } from "../../../runtime/host/rooted.ts";

const base = createNodeSys();
const { recovery: RECOVERY, key: PASSPHRASE, owner: OWNER, other: OTHER } = DISK_PASSPHRASES;
let dir: string;
let root: string;
let sw: Swtpm;
let gpg: GpgHome;
let luks2: string;
let luks1: string;

const answer = (status: number, stdout = "", stderr = "") => ({ status, stdout: new TextEncoder().encode(stdout), stderr: new TextEncoder().encode(stderr) });

// blkid lists the two images as the LUKS devices and lvm sees no volume group, whatever the
// host has; every other tool is the real one.
const sys: Sys = {
  ...base,
  exec: async (argv, options) => {
    if (argv[0] === "blkid") return answer(0, `${luks2}\n${luks1}\n`);
    if (argv[0] === "lvm") return answer(0);
    return base.exec(argv, options);
  },
};

async function flow(answers: ScriptedAnswer[], osInitrd: string | null = null, use: Sys = sys) {
  const prompt = new ScriptedPrompt(answers);
  const ctx = await startFlows(rootedSys(use, root), plainUi(prompt), { firmware: false, openTpm: () => openTpm(sw.transport(), { random: (n) => sys.randomBytes(n) }) });
  try {
    return { prompt, result: await diskKeySetupFlow(ctx, osInitrd) };
  } finally {
    ctx.tpm?.close();
  }
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "bootward-duk-screens-"));
  mkdirSync(join(dir, "tpm"));
  gpg = makeGpgHome();
  luks2 = makeLuksImage(join(dir, "luks2.img"), 2, RECOVERY);
  luks1 = makeLuksImage(join(dir, "luks1.img"), 1, RECOVERY);
  writeFileSync(join(dir, "other"), OTHER);
  execFileSync("cryptsetup", ["luksAddKey", "--key-file", "-", "--key-slot", "3", luks2, join(dir, "other")], { input: RECOVERY });
  root = makeRoot();
  const boot = makeBoot();
  cpSync(boot, join(root, "boot"), { recursive: true });
  rmSync(join(boot, ".."), { recursive: true, force: true });
  sw = await startSwtpm("2.0", join(dir, "tpm"));
  await sw.withTpm((tpm) => tpm.reset({ ownerPassphrase: OWNER, primaryKeyType: "ecc" }));
});
after(async () => {
  await sw?.stop();
  gpg.cleanup();
  rmSync(dir, { recursive: true, force: true });
  rmSync(root, { recursive: true, force: true });
});

/** A machine whose lvm sees volume group "vg0" (its activation exiting with `vgchange`); the tools run are recorded in order. */
function withVolumeGroup(vgchange: ReturnType<typeof answer>): { use: Sys; ran: string[] } {
  const ran: string[] = [];
  const use: Sys = {
    ...sys,
    exec: async (argv, options) => {
      ran.push(argv.slice(0, 2).join(" "));
      if (argv[0] === "lvm" && argv[1] === "vgs") return answer(0, "  vg0\n");
      if (argv[0] === "lvm" && argv[1] === "vgchange") return vgchange;
      return sys.exec(argv, options);
    },
  };
  return { use, ran };
}

test("with LVM the group is asked for first and activated before the LUKS volumes are listed (they may live on it); a failed activation stops with lvm's reason", async () => {
  const ok = withVolumeGroup(answer(0));
  const run = await flow([{ menu: "1" }, { menu: "a" }, { password: null }], null, ok.use);
  assert.equal(run.result, null);
  const groupMenu = run.prompt.transcript.find((e) => e.kind === "menu");
  assert.ok(groupMenu?.kind === "menu" && /logical volumes of an LVM volume group/.test(groupMenu.text ?? ""), JSON.stringify(run.prompt.transcript));
  assert.deepEqual(ok.ran.filter((r) => /^(lvm|blkid)/.test(r)), ["lvm vgs", "lvm vgchange", "blkid -t"]);
  run.prompt.assertDone();

  const failing = withVolumeGroup(answer(5, "", '  Volume group "vg0" not found\n'));
  const stopped = await flow([{ menu: "1" }], null, failing.use);
  assert.equal(stopped.result, null);
  const last = stopped.prompt.transcript.filter((e) => e.kind === "message").pop();
  assert.match(last?.kind === "message" ? last.text : "", /activating the LVM volume group vg0 failed.*not found.*Nothing was changed/s);
  assert.ok(!failing.ran.some((r) => r.startsWith("blkid")), "LUKS volumes were listed although the group did not activate");
  stopped.prompt.assertDone();
});

test("a wrong recovery passphrase 3 times stops with a sentence; nothing is written", async () => {
  const slots = (await luksInfo(sys, luks2)).slots;
  const { prompt, result } = await flow([{ menu: "a" }, { password: "wrong 1" }, { password: "wrong 2" }, { password: "wrong 3" }]);
  assert.equal(result, null);
  const last = prompt.transcript.filter((e) => e.kind === "message").pop();
  assert.match(last?.kind === "message" ? last.text : "", /recovery passphrase opens no key slot.*refused 3 times/s);
  assert.deepEqual((await luksInfo(sys, luks2)).slots, slots);
  assert.equal(await sw.withTpm((tpm) => tpm.sealedObject(3)), null);
  prompt.assertDone();
});

test("short and mismatched passphrases are asked again; no to the occupied slot keeps it; the signed lists verify, the overrides follow the OS initrd's crypttab, and the key opens both volumes", async () => {
  // As Debian 12 builds it: an uncompressed early cpio, then the zstd one with cryptroot/crypttab.
  // The flow reads it as the firmware would, under the root: /initrd.img.
  const osInitrd = "/initrd.img";
  const early = writeCpio([{ type: "file", path: "kernel/x86/microcode/GenuineIntel.bin", mode: 0o644, data: new Uint8Array(100) }]);
  const main = writeCpio([{ type: "file", path: "cryptroot/crypttab", mode: 0o644, data: new TextEncoder().encode("# root\nvda2_crypt UUID=0a1b2c3d-0000-4000-8000-00000000000a none luks,discard\n") }]);
  writeFileSync(join(root, osInitrd), Buffer.concat([early, execFileSync("zstd", ["-q", "-c"], { input: main })]));
  const { prompt, result } = await flow([
    { menu: "a" },
    { password: RECOVERY },
    { password: "too short" },
    { password: PASSPHRASE },
    { password: "something else entirely" },
    { password: PASSPHRASE },
    { password: PASSPHRASE },
    { password: OWNER },
    { confirm: false },
  ], osInitrd);
  prompt.assertDone();
  assert.ok(result, JSON.stringify(prompt.transcript));
  const short = prompt.transcript.find((e) => e.kind === "password" && e.rejected);
  assert.match(short?.kind === "password" ? (short.rejected ?? "") : "", /12 to 32 bytes/);
  const warnings = prompt.transcript.filter((e) => e.kind === "message" && e.title === DISK_SETUP_TITLE).map((e) => (e.kind === "message" ? e.text : ""));
  assert.match(warnings[0]!, /differ/);
  const asked = prompt.transcript.find((e) => e.kind === "confirm");
  assert.match(asked?.kind === "confirm" ? asked.text : "", /Key slot 3 of .*luks2\.img/);
  assert.ok(keyOpens(luks2, OTHER, 3), "the slot the owner kept still opens");
  assert.deepEqual(readdirSync(join(root, "tmp/secret")), [], "/tmp/secret wiped");

  const bootDir = join(root, "boot");
  const signer = await inMemorySigner(gpg.ownerSecret());
  // An earlier setup's volume group list, which this setup (no volume group) must not leave behind.
  writeFileSync(join(bootDir, "kexec_key_lvm.txt"), "oldvg\n");
  await signBoot(sys, { bootDir, signer, lists: result.lists });
  assert.equal(readdirSync(bootDir).includes("kexec_key_lvm.txt"), false, "the stale kexec_key_lvm.txt was removed in the signed switch");
  const names = readdirSync(bootDir).filter((n) => /^kexec.*\.txt$/.test(n)).sort();
  for (const n of ["kexec_key_devices.txt", "kexec_lukshdr_hash.txt", "kexec_initrd_crypttab_overrides.txt"]) assert.ok(names.includes(n), n);
  assert.equal(readFileSync(join(bootDir, "kexec_initrd_crypttab_overrides.txt"), "utf8"), "/cryptroot/crypttab:vda2_crypt UUID=0a1b2c3d-0000-4000-8000-00000000000a /secret.key luks,discard\n");
  const uuid = (d: string) => execFileSync("cryptsetup", ["luksUUID", d]).toString().trim();
  assert.equal(readFileSync(join(bootDir, "kexec_key_devices.txt"), "utf8"), `${luks2} ${uuid(luks2)}\n${luks1} ${uuid(luks1)}\n`);
  // Heads' check_config: (cd /boot; sha256sum kexec*.txt) | gpg --verify kexec.sig -
  const stream = execFileSync("sha256sum", names, { cwd: bootDir });
  gpg.gpg(["--verify", join(bootDir, "kexec.sig"), "-"], stream);

  // The next boot: PCR 6 from the headers; the key opens LUKS2 slot 31 and LUKS1 slot 7.
  await sw.stop();
  sw = await startSwtpm("2.0", join(dir, "tpm"));
  await sw.withTpm((tpm) => measureLuksHeaders(sys, tpm, [luks2, luks1], join(root, "tmp/secret")));
  const got = await sw.withTpm((tpm) => unsealSecret(tpm, sys, diskKeySecret(new TextEncoder().encode(PASSPHRASE)), { log: null }));
  assert.ok("secret" in got, JSON.stringify(got));
  assert.ok(keyOpens(luks2, got.secret, 31) && keyOpens(luks1, got.secret, 7));
  const wrong = await sw.withTpm((tpm) => unsealSecret(tpm, sys, diskKeySecret(new TextEncoder().encode("not the passphrase")), { log: null }));
  assert.ok("failure" in wrong && wrong.failure.kind === "passphrase");
});
