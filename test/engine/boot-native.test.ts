// `bootward boot verify` on the shipped binary, dist/bootward (static musl QuickJS), against
// a /boot signed on the host without a rollback counter (no TPM): the ROM keyring as a
// keybox, a binary keyring and an armoured one; a tampered kernel, a stranger's keybox and a
// corrupted keybox are refused. Build the binary first with `npm run build`.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { after, before, test } from "node:test";
import { repoRoot } from "../../build/paths.ts";
import { createNodeSys } from "../../runtime/host/node/sys.ts";
import { inMemorySigner } from "../../gpg/sign.ts";
import { signBoot } from "../../runtime/boot/index.ts";
import { coreutilsSignedStream, makeBoot, makeGpgHome, type GpgHome } from "../boot/support.ts";
import { makeKeybox } from "../boot/keybox-support.ts";

const binary = join(repoRoot, "dist/bootward");
const sys = createNodeSys();
let gpg: GpgHome;
let boot: string;
let root: string;

before(async () => {
  assert.ok(existsSync(binary), `${binary} does not exist; build it with npm run build`);
  gpg = makeGpgHome();
  boot = makeBoot();
  root = dirname(boot);
  writeFileSync(join(root, "pubring.kbx"), makeKeybox(gpg, [gpg.owner]));
  writeFileSync(join(root, "pubring.gpg"), gpg.gpg(["--export", gpg.owner]));
  writeFileSync(join(root, "pubring.asc"), gpg.ownerPublic());
  writeFileSync(join(root, "stranger.kbx"), makeKeybox(gpg, [gpg.stranger]));
  writeFileSync(join(root, "owner.sec"), gpg.ownerSecret());
  await signBoot(sys, { bootDir: boot, signer: await inMemorySigner(gpg.ownerSecret()), defaultIndex: 1 });
});

after(() => {
  gpg?.cleanup();
  if (root) rmSync(root, { recursive: true, force: true });
});

function bootward(args: string[]) {
  const run = spawnSync(binary, ["--root", root, "--boot", "/boot", ...args], { encoding: "utf8", timeout: 120_000 });
  assert.equal(run.error, undefined, `cannot run ${binary}: ${run.error}`);
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

for (const keyring of ["/pubring.kbx", "/pubring.gpg", "/pubring.asc"]) {
  test(`native boot verify with the keyring as ${keyring.split(".")[1]}: exit 0, the signer named`, () => {
    const run = bootward(["--keyring", keyring, "boot", "verify"]);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`/boot verified: signed by ${gpg.owner}, default entry 1: Debian GNU/Linux`));
  });
}

test("native boot verify: a keybox without the signer's key is refused with exit 1", () => {
  const run = bootward(["--keyring", "/stranger.kbx", "boot", "verify"]);
  assert.equal(run.status, 1);
  assert.match(run.stderr, /signature check: .*not in the keyring \[unknown-key\]/);
});

test("native boot verify: a corrupted keybox is refused with exit 1 and says why", () => {
  const kbx = readFileSync(join(root, "pubring.kbx"));
  kbx[kbx.length - 30]! ^= 0x10;
  writeFileSync(join(root, "corrupt.kbx"), kbx);
  const run = bootward(["--keyring", "/corrupt.kbx", "boot", "verify"]);
  assert.equal(run.status, 1);
  assert.match(run.stderr, /cannot read the keyring: keybox blob 1 .*fails its SHA-1 checksum/);
});

test("native boot sign --no-counter: GnuPG says the signature is good, and the binary verifies it", () => {
  const signed = bootward(["--keyring", "/pubring.kbx", "boot", "sign", "--key", "/owner.sec", "--default", "2", "--no-counter"]);
  assert.equal(signed.status, 0, signed.stderr);
  const out = execFileSync("gpg", ["--homedir", gpg.home, "--batch", "--status-fd", "1", "--verify", join(boot, "kexec.sig"), "-"], { input: coreutilsSignedStream(boot), stdio: ["pipe", "pipe", "pipe"] }).toString();
  assert.match(out, new RegExp(`VALIDSIG ${gpg.owner}`));
  const run = bootward(["--keyring", "/pubring.kbx", "boot", "verify"]);
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /default entry 2: Debian GNU\/Linux \(recovery\)/);
});

test("native boot verify: one byte of the kernel changed → exit 1 naming the file", () => {
  const kernel = join(boot, "vmlinuz-6.1");
  const bytes = readFileSync(kernel);
  bytes[4096]! ^= 1;
  writeFileSync(kernel, bytes);
  for (const keyring of ["/pubring.kbx", "/pubring.gpg", "/pubring.asc"]) {
    const run = bootward(["--keyring", keyring, "boot", "verify"]);
    assert.equal(run.status, 1, run.stdout);
    assert.match(run.stderr, /failed the hashes check: \/boot differs from what was signed \(changed: \.\/vmlinuz-6\.1\)/);
  }
  const json = bootward(["--json", "--keyring", "/pubring.kbx", "boot", "verify"]);
  assert.equal(json.status, 1);
  assert.deepEqual(JSON.parse(json.stdout).changed, ["./vmlinuz-6.1"]);
});
