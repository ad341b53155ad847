// The attacks on the road from a verified /boot to `kexec -e`, performed on the host with a
// fake `kexec` on PATH that records the sha256 of every file it is asked to load, and swtpm
// for PCR 4: links into the unhashed kexec* names, link chains out of /boot, hostile nodes,
// files changed between verification and load, config bytes that differ from the hashed
// ones, forged VerifiedBoot values and plans, and the OS unsealing the firmware's secret.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createNodeSys } from "../../runtime/host/node/sys.ts";
import type { Sys } from "../../runtime/host/sys.ts";
import { TOTP_PCRS, TpmPolicyError, type Tpm } from "../../tpm/index.ts";
import { startSwtpm, type Swtpm } from "../support/swtpm.ts";
import { readKeyring } from "../../gpg/verify.ts";
import { inMemorySigner, type Signer } from "../../gpg/sign.ts";
import {
  BootPathError, BootSymlinkError, BootTreeError, BootVerifyError, executePlan, KexecError, plan, resolveInBoot, signBoot, verifyBoot, walkBoot, type VerifiedBoot,
} from "../../runtime/boot/index.ts";
import { pcr4Reason } from "../../runtime/measure/pcr4.ts";
import { runCli } from "../../runtime/cli/index.ts";
import { GRUB_CFG, makeBoot, makeGpgHome, type GpgHome } from "./support.ts";

const sys = createNodeSys();
let sw: Swtpm;
let gpg: GpgHome;
let owner: Signer;
let keys: Awaited<ReturnType<typeof readKeyring>>;
let fakeBin: string;

// Records `sha256sum FILE` for each file of a load, and at `-e` how many secrets were left.
const FAKE_KEXEC = `#!/bin/sh
case "$1" in
  -e) echo "exec secrets=$(ls -A "$FAKE_KEXEC_SECRETS" 2>/dev/null | wc -l)" >> "$FAKE_KEXEC_LOG"; exit 1;;
esac
for a in "$@"; do
  case "$a" in
    -l|-s|--append=*) ;;
    --initrd=*) sha256sum "\${a#--initrd=}" >> "$FAKE_KEXEC_LOG";;
    *) sha256sum "$a" >> "$FAKE_KEXEC_LOG";;
  esac
done
`;

before(async () => {
  sw = await startSwtpm("2.0");
  gpg = makeGpgHome();
  owner = await inMemorySigner(gpg.ownerSecret());
  keys = await readKeyring(gpg.ownerPublic());
  fakeBin = mkdtempSync(join(tmpdir(), "bootward-fake-kexec-"));
  writeFileSync(join(fakeBin, "kexec"), FAKE_KEXEC);
  chmodSync(join(fakeBin, "kexec"), 0o755);
  process.env.PATH = `${fakeBin}:${process.env.PATH}`;
});
after(async () => {
  await sw.stop();
  gpg.cleanup();
  rmSync(fakeBin, { recursive: true, force: true });
});

const withTpm = <T>(f: (tpm: Tpm) => Promise<T>) => sw.withTpm(f);
const sign = (boot: string) => signBoot(sys, { bootDir: boot, signer: owner, defaultIndex: 1 });
const verify = (boot: string, s: Sys = sys) => verifyBoot(s, { bootDir: boot, keys });
const cleanup = (boot: string) => rmSync(dirname(boot), { recursive: true, force: true });
const sha256 = (b: Buffer) => execFileSync("sha256sum", { input: b }).toString().slice(0, 64);

/** A signed, verified /boot, a /tmp/secret beside it, and the fake kexec told where to log. */
async function signedBootWithFakeKexec(): Promise<{ boot: string; root: string; v: VerifiedBoot; log: string; secrets: string }> {
  const boot = makeBoot();
  const root = dirname(boot);
  await sign(boot);
  const v = await verify(boot);
  const log = join(root, "kexec.log");
  const secrets = join(root, "tmp", "secret");
  mkdirSync(secrets, { recursive: true });
  process.env.FAKE_KEXEC_LOG = log;
  process.env.FAKE_KEXEC_SECRETS = secrets;
  return { boot, root, v, log, secrets };
}

/** A /boot whose second entry boots `kernel` instead of /vmlinuz-6.1. */
function bootWithSecondKernel(kernel: string): string {
  const boot = makeBoot();
  writeFileSync(join(boot, "grub", "grub.cfg"), GRUB_CFG.replace("linux\t/vmlinuz-6.1 root=/dev/vda1 ro single", `linux\t${kernel} root=/dev/vda1 ro single`));
  return boot;
}

function kexecError(run: () => unknown, pattern: RegExp): void {
  assert.throws(run, (e: unknown) => {
    assert.ok(e instanceof KexecError || e instanceof BootPathError, `expected a refusal, got ${e}`);
    assert.match((e as Error).message, pattern);
    return true;
  });
}

test("a kernel linked into kexec_x/ (never hashed) is refused by the plan and by the dry run, though /boot verifies", async () => {
  const boot = bootWithSecondKernel("/vmlinuz-link");
  mkdirSync(join(boot, "kexec_x"));
  writeFileSync(join(boot, "kexec_x", "vmlinuz"), "evil kernel");
  symlinkSync("kexec_x/vmlinuz", join(boot, "vmlinuz-link"));
  await sign(boot);
  const v = await verify(boot);
  kexecError(() => plan(sys, v, {}, 2), /leads to \/boot\/kexec_x\/vmlinuz, which no signed hash covers/);
  // The swap the review found: the link's target changes after signing; still refused.
  writeFileSync(join(boot, "kexec_x", "vmlinuz"), "another evil kernel");
  kexecError(() => plan(sys, v, {}, 2), /no signed hash covers/);
  const root = dirname(boot);
  writeFileSync(join(root, "pubring.asc"), gpg.ownerPublic());
  const out: string[] = [];
  const s: Sys = { ...sys, console: { ...sys.console, write: (t) => void out.push(t), writeError: (t) => void out.push(t) } };
  assert.equal(await runCli(["--root", root, "--keyring", "/pubring.asc", "boot", "kexec", "2", "--dry-run"], s), 1);
  assert.match(out.join(""), /kexec_x\/vmlinuz, which no signed hash covers/);
  // Entry 1 does not use the link and still plans.
  assert.equal(plan(sys, v, {}, 1).staged[0]!.resolved, "./vmlinuz-6.1");
  cleanup(boot);
});

test("a link to a signed file boots the signed file's bytes, checked under the name it resolves to", async () => {
  const boot = bootWithSecondKernel("/vmlinuz");
  symlinkSync("vmlinuz-6.1", join(boot, "vmlinuz"));
  await sign(boot);
  const v = await verify(boot);
  const p = plan(sys, v, {}, 2);
  assert.equal(p.staged[0]!.named, "./vmlinuz");
  assert.equal(p.staged[0]!.resolved, "./vmlinuz-6.1");
  assert.equal(p.staged[0]!.digest, sha256(readFileSync(join(boot, "vmlinuz-6.1"))));
  cleanup(boot);
});

test("a link chain that leaves /boot (self -> ., esc -> self/..) is refused when signing, verifying and planning", async () => {
  const boot = bootWithSecondKernel("/esc/outside");
  writeFileSync(join(dirname(boot), "outside"), "a kernel outside /boot");
  symlinkSync(".", join(boot, "self"));
  symlinkSync("self/..", join(boot, "esc"));
  await assert.rejects(sign(boot), (e: unknown) => e instanceof BootSymlinkError && e.path === "./esc");
  assert.throws(() => walkBoot(sys, boot), BootSymlinkError);
  assert.throws(() => resolveInBoot(sys, boot, "./esc/outside"), (e: unknown) => e instanceof BootPathError && e.leaves && /leads out of \/boot/.test(e.message));
  cleanup(boot);
});

test("hostile nodes as the kernel: loops, dangling links, FIFOs, directories, absolute links → a refusal naming the path, no hang", () => {
  const boot = makeBoot();
  symlinkSync("loop-b", join(boot, "loop-a"));
  symlinkSync("loop-a", join(boot, "loop-b"));
  symlinkSync("nothing-here", join(boot, "dangling"));
  symlinkSync("/etc/passwd", join(boot, "absolute"));
  execFileSync("mkfifo", [join(boot, "fifo")]);
  const refusal = (rel: string, why: RegExp) =>
    assert.throws(() => resolveInBoot(sys, boot, rel), (e: unknown) => e instanceof BootPathError && e.path === rel && why.test(e.message) && e.message.includes(`/boot${rel.slice(1)}`));
  refusal("./loop-a", /more than 40 symlinks on its way \(a loop\)/);
  refusal("./dangling", /\.\/nothing-here does not exist/);
  refusal("./absolute", /absolute path \/etc\/passwd, outside \/boot/);
  refusal("./fifo", /not a regular file \(a device node, FIFO or socket\)/);
  refusal("./grub", /is a directory/);
  refusal("./vmlinuz-6.1/x", /does not exist/);
  // The walk refuses a loop anywhere in /boot, naming it, rather than signing it.
  rmSync(join(boot, "absolute"));
  assert.throws(() => walkBoot(sys, boot), (e: unknown) => e instanceof BootTreeError && /\.\/loop-a cannot be followed/.test(e.message));
  cleanup(boot);
});

test("grub.cfg bytes that differ from the hashed ones are refused: the menu comes from the hashed bytes only", async () => {
  const boot = makeBoot();
  await sign(boot);
  await verify(boot);
  // sha256sum (a child process) sees the signed file; the parser is handed other bytes, as a
  // file rewritten between the two reads would be.
  const swapped: Sys = {
    ...sys,
    readFile: (p) => (p.endsWith("/grub/grub.cfg") ? new TextEncoder().encode(GRUB_CFG.replace("ro quiet", "ro init=/bin/sh")) : sys.readFile(p)),
  };
  await assert.rejects(verify(boot, swapped), (e: unknown) => e instanceof BootVerifyError && e.check === "hashes" && e.files.changed.includes("./grub/grub.cfg"));
  cleanup(boot);
});

test("forged VerifiedBoot values and forged plans are refused", async () => {
  const boot = makeBoot();
  await sign(boot);
  const v = await verify(boot);
  const forgedBoot = Object.create(Object.getPrototypeOf(v) as object) as VerifiedBoot;
  Object.assign(forgedBoot, { bootDir: boot, entries: v.entries, defaultChoice: v.defaultChoice });
  assert.ok(forgedBoot instanceof (v.constructor as new () => unknown), "the forgery passes instanceof");
  kexecError(() => plan(sys, forgedBoot, {}, 1), /kexec needs a verified \/boot/);
  const genuine = plan(sys, v, {}, 1);
  const copied = { ...genuine, load: ["kexec", "-l", join(boot, "config-6.1")] };
  await assert.rejects(executePlan(sys, copied, null, { wipeSecrets: () => {} }), /only a plan made from a verified \/boot can be booted/);
  assert.throws(() => (genuine.load as string[]).push("--evil"), TypeError);
  cleanup(boot);
});

test("what kexec loads is the verified bytes: /boot changed after verification → refused before PCR 4 moves; unchanged → loaded, PCR 4 'generic', secrets wiped, sealed secret out of reach", async () => {
  const { boot, root, v, log, secrets } = await signedBootWithFakeKexec();
  writeFileSync(join(secrets, "totp.key"), "secret bytes");
  const stage = join(root, "tmp", "kexec-boot");
  const p = plan(sys, v, {}, 1, stage);
  const wipeSecrets = () => rmSync(secrets, { recursive: true, force: true });

  // The control for the OS's view: a secret sealed to the TOTP PCRs unseals before the boot.
  const secret = new TextEncoder().encode("totp secret for the PCR 4 check");
  const handle = 0x81004d47;
  await withTpm(async (tpm) => {
    await tpm.reset({ ownerPassphrase: "owner pass", primaryKeyType: "ecc" });
    await tpm.seal(secret, { handle, pcrs: TOTP_PCRS, ownerPassphrase: "owner pass" });
    assert.deepEqual(await tpm.unseal({ handle, pcrs: TOTP_PCRS }), secret);
  });
  const pcr4 = () => withTpm(async (tpm) => (await tpm.pcrRead([4])).get(4)!);
  const before = await pcr4();

  const original = readFileSync(join(boot, "vmlinuz-6.1"));
  writeFileSync(join(boot, "vmlinuz-6.1"), Buffer.concat([original, Buffer.from("evil")]));
  await assert.rejects(withTpm((tpm) => executePlan(sys, p, tpm, { wipeSecrets })), (e: unknown) =>
    e instanceof KexecError && /\/boot\/vmlinuz-6\.1 changed after \/boot was verified; nothing was booted/.test(e.message) && !e.pcr4Extended);
  assert.ok(!existsSync(log), "kexec was not run");
  assert.deepEqual(await pcr4(), before, "PCR 4 did not move for a refused boot");
  assert.ok(!existsSync(stage), "the copies are gone");
  assert.ok(existsSync(join(secrets, "totp.key")), "secrets stay while nothing boots");

  writeFileSync(join(boot, "vmlinuz-6.1"), original);
  await assert.rejects(withTpm((tpm) => executePlan(sys, p, tpm, { wipeSecrets })), (e: unknown) => e instanceof KexecError && /kexec -e returned/.test(e.message) && e.pcr4Extended);
  const lines = readFileSync(log, "utf8").trim().split("\n");
  assert.deepEqual(lines.slice(0, 2).map((l) => l.slice(0, 64)), [v.digestOf("./vmlinuz-6.1"), v.digestOf("./initrd.img-6.1")]);
  assert.match(lines[0]!, /kexec-boot\/0-vmlinuz-6\.1$/, "the copy was loaded, not /boot");
  assert.equal(lines[2], "exec secrets=0", "the secrets were wiped before kexec -e");
  assert.ok(!existsSync(stage));
  const afterBoot = await pcr4();
  assert.equal(pcr4Reason(before, afterBoot, "sha256"), "generic");
  // What the OS would try: the same unseal with the same policy, now refused.
  await withTpm(async (tpm) => {
    await assert.rejects(tpm.unseal({ handle, pcrs: TOTP_PCRS }), (e: unknown) => e instanceof TpmPolicyError && /PCR values \(0,1,2,3,4,7\) are not those the secret was sealed to/.test(e.message));
  });
  cleanup(boot);
});

test("with a disk key, the key is added to the verified initrd copy before PCR 4 moves, and that keyed initrd is what kexec loads", async () => {
  const { boot, root, v, log, secrets } = await signedBootWithFakeKexec();
  const p = plan(sys, v, {}, 1, join(root, "tmp", "kexec-boot"));
  const pcr4 = () => withTpm(async (tpm) => (await tpm.pcrRead([4])).get(4)!);
  const before = await pcr4();
  let given = "";
  let pcr4AtInsert: Uint8Array | undefined;
  const keyed = join(secrets, "initrd-with-key");
  // swtpm serves one connection at a time: the check inside insertKey uses the boot's own TPM.
  await assert.rejects(
    withTpm((tpm) =>
      executePlan(sys, p, tpm, {
        wipeSecrets: () => rmSync(secrets, { recursive: true, force: true }),
        insertKey: async (initrd) => {
          given = initrd;
          assert.equal(sha256(readFileSync(initrd)), v.digestOf("./initrd.img-6.1"), "the key goes onto the verified bytes");
          pcr4AtInsert = (await tpm.pcrRead([4])).get(4)!;
          writeFileSync(keyed, Buffer.concat([readFileSync(initrd), Buffer.from("key cpio")]));
          return keyed;
        },
      }),
    ),
    /kexec -e returned/,
  );
  assert.match(given, /kexec-boot\/1-initrd\.img-6\.1$/);
  assert.deepEqual(pcr4AtInsert, before, "PCR 4 was still clean when the key was unsealed and inserted");
  assert.equal(pcr4Reason(before, await pcr4(), "sha256"), "generic");
  const lines = readFileSync(log, "utf8").trim().split("\n");
  assert.match(lines[1]!, /tmp\/secret\/initrd-with-key$/, "the keyed initrd was loaded");
  assert.equal(lines[2], "exec secrets=0");
  assert.ok(!existsSync(keyed), "the keyed initrd was wiped before kexec -e");
  cleanup(boot);
});

test("a disk key that cannot be added to the initrd stops the boot with a KexecError, before PCR 4 moves", async () => {
  const { boot, root, v, log } = await signedBootWithFakeKexec();
  const p = plan(sys, v, {}, 1, join(root, "tmp", "kexec-boot"));
  const pcr4 = () => withTpm(async (tpm) => (await tpm.pcrRead([4])).get(4)!);
  const before = await pcr4();
  const insertKey = async (): Promise<string> => {
    throw new Error("no space left on the tmpfs");
  };
  await assert.rejects(withTpm((tpm) => executePlan(sys, p, tpm, { wipeSecrets: () => {}, insertKey })), (e: unknown) =>
    e instanceof KexecError && /the disk unlock key could not be added to the initrd \(no space left on the tmpfs\); nothing was booted/.test(e.message) && !e.pcr4Extended);
  assert.deepEqual(await pcr4(), before);
  assert.ok(!existsSync(log), "kexec never ran");
  cleanup(boot);
});
