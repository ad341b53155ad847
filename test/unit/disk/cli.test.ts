// `bootward disk …` on the device path (a pty bridged to swtpm, as /dev/tpm0 would be) with
// LUKS image files as --devices: seal sets the key up and writes /boot's lists, measure
// extends PCR 6, unseal and initrd release the key only to the right passphrase.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeLuksImage } from "../../support/luks.ts";
import { startSwtpmPty, type SwtpmPty } from "../../support/swtpm.ts";
import { createNodeSys } from "../../../runtime/host/node/sys.ts";
import { diskCommand } from "../../../runtime/cli/disk.ts";
import { tpmCommand } from "../../../runtime/cli/tpm.ts";
import { UsageError } from "../../../runtime/cli/context.ts";
import { rootedSys } from "../../../runtime/host/rooted.ts";

let pty: SwtpmPty;
let root: string;
let image: string;
const sys = createNodeSys();
const RECOVERY = "disk recovery passphrase";

// The pty bridge hands out one socat per opening and waits for it to go: a command refused
// before it opens the TPM runs with `opens: false`.
async function run(command: typeof diskCommand, ...args: string[]): Promise<{ status: number; out: string; err: string }> {
  return runWith(true, command, ...args);
}

async function runWith(opens: boolean, command: typeof diskCommand, ...args: string[]): Promise<{ status: number; out: string; err: string }> {
  if (opens) await pty.ready();
  const out: string[] = [];
  const err: string[] = [];
  const status = await command(args, { sys: rootedSys(sys, root), options: { tpm: pty.device, json: false }, out: (l) => out.push(l), err: (l) => err.push(l) });
  return { status, out: out.join("\n"), err: err.join("\n") };
}

before(async () => {
  pty = await startSwtpmPty();
  root = mkdtempSync(join(tmpdir(), "bootward-disk-cli-"));
  mkdirSync(join(root, "boot"));
  mkdirSync(join(root, "tmp/secret"), { recursive: true });
  writeFileSync(join(root, "owner"), "owner pass\n");
  writeFileSync(join(root, "drk"), `${RECOVERY}\n`);
  writeFileSync(join(root, "pass"), "disk unlock passphrase\n");
  writeFileSync(join(root, "short"), "too short\n");
  writeFileSync(join(root, "wrong"), "not the passphrase\n");
  image = makeLuksImage(join(root, "disk.img"), 2, RECOVERY);
  assert.equal((await run(tpmCommand, "reset", "--owner-passphrase-file", "/owner")).status, 0);
});
after(async () => {
  await pty.stop();
  rmSync(root, { recursive: true, force: true });
});

test("seal → measure → unseal: the key opens the volume; a wrong passphrase is refused; a short one is a usage error", async () => {
  await assert.rejects(runWith(false, diskCommand, "seal", "--devices", image, "--drk-passphrase-file", "/drk", "--passphrase-file", "/short", "--owner-passphrase-file", "/owner"), UsageError);
  const wrongDrk = await runWith(false, diskCommand, "seal", "--devices", image, "--drk-passphrase-file", "/wrong", "--passphrase-file", "/pass", "--owner-passphrase-file", "/owner");
  assert.equal(wrongDrk.status, 1);
  assert.match(wrongDrk.err, /the disk recovery passphrase opens no key slot/i);
  const sealed = await run(diskCommand, "seal", "--devices", image, "--drk-passphrase-file", "/drk", "--passphrase-file", "/pass", "--owner-passphrase-file", "/owner");
  assert.equal(sealed.status, 0, sealed.err);
  const uuid = execFileSync("cryptsetup", ["luksUUID", image]).toString().trim();
  assert.equal(readFileSync(join(root, "boot/kexec_key_devices.txt"), "utf8"), `${image} ${uuid}\n`);
  const headers = readFileSync(join(root, "boot/kexec_lukshdr_hash.txt"), "utf8");
  assert.match(headers, /^[0-9a-f]{64} {2}\/tmp\/lukshdr-.*disk\.img\n$/);
  assert.deepEqual(execFileSync("ls", ["-A", join(root, "tmp/secret")]).toString(), "", "the key file was wiped");
  // This boot: PCR 6 from zero, as the next power-on will have it.
  const measured = await run(diskCommand, "measure");
  assert.equal(`${measured.out}\n`, headers);
  const refused = await run(diskCommand, "unseal", "--passphrase-file", "/wrong", "--out", "/key");
  assert.equal(refused.status, 1);
  assert.match(refused.err, /wrong passphrase/);
  const unsealed = await run(diskCommand, "unseal", "--passphrase-file", "/pass", "--out", "/key");
  assert.equal(unsealed.status, 0, unsealed.err);
  assert.equal(statSync(join(root, "key")).mode & 0o777, 0o400);
  execFileSync("cryptsetup", ["open", "--test-passphrase", "--key-slot", "31", "--key-file", join(root, "key"), image]);
  // initrd: the OS initrd with the key cpio appended.
  writeFileSync(join(root, "os.img"), Buffer.alloc(1000, 3));
  const initrd = await run(diskCommand, "initrd", "/os.img", "/os-with-key.img", "--passphrase-file", "/pass");
  assert.equal(initrd.status, 0, initrd.err);
  const listing = execFileSync("cpio", ["-it", "--quiet"], { input: readFileSync(join(root, "os-with-key.img")).subarray(1024) }).toString();
  assert.match(listing, /^secret\.key$/m);
  // A second measure moves PCR 6 off the sealed value: the key is no longer released.
  await run(diskCommand, "measure");
  const moved = await run(diskCommand, "unseal", "--passphrase-file", "/pass", "--out", "/key2");
  assert.equal(moved.status, 1);
  assert.match(moved.err, /PCR 6 changed since the secret was sealed/);
});
