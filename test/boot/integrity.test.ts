// Signed /boot end to end on the host: GnuPG ⇄ bootward interop, the tamper matrix with the
// rollback counter on swtpm, the interrupted switch, the kexec plan and the CLI.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { appendFileSync, cpSync, mkdirSync, readFileSync, readdirSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { createNodeSys } from "../../runtime/host/node/sys.ts";
import type { Tpm } from "../../tpm/index.ts";
import { startSwtpm, type Swtpm } from "../support/swtpm.ts";
import { readKeyring } from "../../gpg/verify.ts";
import { inMemorySigner, type Signer } from "../../gpg/sign.ts";
import {
  BootVerifyError, describePlan, KexecError, plan, resumeSwitch, signBoot, STAGING_DIR, unsafeBoot, VerifiedBoot, verifyBoot, type CheckName,
} from "../../runtime/boot/index.ts";
import { runCli } from "../../runtime/cli/index.ts";
import type { Sys } from "../../runtime/host/sys.ts";
import { coreutilsSignedStream, makeBoot, makeGpgHome, type GpgHome } from "./support.ts";

const sys = createNodeSys();
let sw: Swtpm;
let gpg: GpgHome;
let owner: Signer;
let stranger: Signer;
let keys: Awaited<ReturnType<typeof readKeyring>>;

before(async () => {
  sw = await startSwtpm("2.0");
  gpg = makeGpgHome();
  owner = await inMemorySigner(gpg.ownerSecret());
  stranger = await inMemorySigner(gpg.strangerSecret());
  keys = await readKeyring(gpg.ownerPublic());
});
after(async () => {
  await sw.stop();
  gpg.cleanup();
});

const withTpm = <T>(f: (tpm: Tpm) => Promise<T>) => sw.withTpm(f);

const sign = (boot: string, signer = owner, defaultIndex: number | undefined = 1) =>
  withTpm((tpm) => signBoot(sys, { bootDir: boot, signer, tpm, ...(defaultIndex ? { defaultIndex } : {}) }));
const verify = (boot: string, k = keys) => withTpm((tpm) => verifyBoot(sys, { bootDir: boot, keys: k, tpm }));

async function refused(boot: string, check: CheckName, files?: Partial<Record<"changed" | "appeared" | "vanished", string[]>>, k = keys): Promise<BootVerifyError> {
  try {
    await verify(boot, k);
  } catch (e) {
    assert.ok(e instanceof BootVerifyError, `expected a BootVerifyError, got ${e}`);
    assert.equal(e.check, check, e.message);
    for (const [key, value] of Object.entries(files ?? {})) assert.deepEqual(e.files[key as "changed"], value, e.message);
    return e;
  }
  assert.fail(`/boot verified although the ${check} check should refuse it`);
}
const cleanup = (boot: string) => rmSync(dirname(boot), { recursive: true, force: true });

test("GnuPG signs a /boot made with Heads' own commands → bootward verifies it", async () => {
  const boot = makeBoot();
  const run = (argv: string[], input?: Buffer) => execFileSync(argv[0]!, argv.slice(1), { cwd: boot, input });
  writeFileSync(join(boot, "kexec_hashes.txt"), run(["xargs", "-0", "sha256sum"], run(["find", "./", "-type", "f", "!", "-path", "./kexec*", "-print0"])));
  writeFileSync(join(boot, "kexec_tree.txt"), run(["sort", "-z"], run(["find", "./", "!", "-path", "./kexec*", "-print0"])));
  writeFileSync(join(boot, "kexec_default.1.txt"), "Debian GNU/Linux|elf|kernel /vmlinuz-6.1|initrd /initrd.img-6.1|append root=/dev/vda1 ro quiet\n");
  writeFileSync(join(boot, "kexec_default_hashes.txt"), run(["sha256sum", "./vmlinuz-6.1", "./initrd.img-6.1"]));
  writeFileSync(join(boot, "kexec.sig"), gpg.gpg(["--local-user", gpg.owner, "--digest-algo", "SHA256", "--detach-sign", "-a"], coreutilsSignedStream(boot)));
  const v = await verifyBoot(sys, { bootDir: boot, keys });
  assert.ok(v instanceof VerifiedBoot);
  assert.equal(v.signer, gpg.owner);
  assert.equal(v.defaultChoice?.index, 1);
  assert.equal(v.defaultChoice?.entry.kernel, "/vmlinuz-6.1");
  cleanup(boot);
});

test("bootward signs → gpg --verify says good; sign then verify round trip", async () => {
  const boot = makeBoot();
  const result = await sign(boot);
  assert.ok(result.counter && result.counter.value >= 1n);
  const out = execFileSync("gpg", ["--homedir", gpg.home, "--batch", "--status-fd", "1", "--verify", join(boot, "kexec.sig"), "-"], { input: coreutilsSignedStream(boot), stdio: ["pipe", "pipe", "pipe"] }).toString();
  assert.match(out, new RegExp(`VALIDSIG ${gpg.owner}`));
  const v = await verify(boot);
  assert.equal(v.counter, result.counter!.value);
  assert.equal(v.entries.length, 2);
  assert.ok(!readdirSync(boot).includes(STAGING_DIR));
  // Signing again moves the counter and still verifies.
  const again = await sign(boot);
  assert.equal(again.counter!.value, result.counter!.value + 1n);
  await verify(boot);
  cleanup(boot);
});

test("wrong key, truncated and swapped signatures are refused", async () => {
  const boot = makeBoot();
  await sign(boot, stranger);
  const e = await refused(boot, "signature");
  assert.match(e.message, /unknown-key/);
  await sign(boot);
  const good = readFileSync(join(boot, "kexec.sig"), "utf8");
  writeFileSync(join(boot, "kexec.sig"), good.slice(0, good.length / 2));
  await refused(boot, "signature");
  // A genuine signature by the owner, but over another /boot's lists.
  const other = makeBoot();
  writeFileSync(join(other, "grub", "extra"), "other");
  await sign(other);
  cpSync(join(other, "kexec.sig"), join(boot, "kexec.sig"));
  assert.match((await refused(boot, "signature")).message, /bad-signature/);
  unlinkSync(join(boot, "kexec.sig"));
  assert.match((await refused(boot, "signature")).message, /not signed/);
  cleanup(boot);
  cleanup(other);
});

test("tamper matrix: each change is refused by the right check, naming the files", async () => {
  const cases: { name: string; tamper: (boot: string) => void; check: CheckName; files: Partial<Record<"changed" | "appeared" | "vanished", string[]>> }[] = [
    { name: "one byte of the kernel", tamper: (b) => { const k = readFileSync(join(b, "vmlinuz-6.1")); k[1000] ^= 1; writeFileSync(join(b, "vmlinuz-6.1"), k); }, check: "hashes", files: { changed: ["./vmlinuz-6.1"], appeared: [], vanished: [] } },
    { name: "a file added", tamper: (b) => writeFileSync(join(b, "grub", "evil.mod"), "x"), check: "hashes", files: { changed: [], appeared: ["./grub/evil.mod"], vanished: [] } },
    { name: "a directory added", tamper: (b) => mkdirSync(join(b, "new")), check: "hashes", files: { appeared: ["./new"] } },
    { name: "a file removed", tamper: (b) => unlinkSync(join(b, "config-6.1")), check: "hashes", files: { changed: [], appeared: [], vanished: ["./config-6.1"] } },
    { name: "grub.cfg edited", tamper: (b) => appendFileSync(join(b, "grub", "grub.cfg"), "menuentry 'evil' {\n linux /vmlinuz-6.1 init=/bin/sh\n}\n"), check: "hashes", files: { changed: ["./grub/grub.cfg"] } },
  ];
  for (const c of cases) {
    const boot = makeBoot();
    await sign(boot);
    await verify(boot);
    c.tamper(boot);
    await refused(boot, c.check, c.files);
    cleanup(boot);
  }
});

test("signed by another key is refused", async () => {
  const boot = makeBoot();
  await sign(boot, stranger);
  await refused(boot, "signature");
  // The stranger's key in the keyring makes it verify: the refusal was about the key.
  await verify(boot, [...keys, ...(await readKeyring(gpg.gpg(["--armor", "--export", gpg.stranger])))]);
  cleanup(boot);
});

test("an older signed set replayed after the counter moved on is refused by the rollback check", async () => {
  const boot = makeBoot();
  await sign(boot);
  const saved = join(dirname(boot), "old");
  mkdirSync(saved);
  for (const n of readdirSync(boot).filter((n) => n.startsWith("kexec"))) cpSync(join(boot, n), join(saved, n));
  await sign(boot);
  await verify(boot);
  for (const n of readdirSync(saved)) cpSync(join(saved, n), join(boot, n));
  const e = await refused(boot, "rollback");
  assert.match(e.message, /replayed/);
  // Without the TPM the rollback file cannot be checked: refused, not skipped.
  await assert.rejects(verifyBoot(sys, { bootDir: boot, keys }), (err: unknown) => err instanceof BootVerifyError && err.check === "rollback");
  cleanup(boot);
});

test("the signed default entry must still be line N of the menu", async () => {
  const boot = makeBoot();
  await sign(boot, owner, 2);
  // Re-sign with the entries swapped, keeping the old default file: line 2 is now another entry.
  const cfg = readFileSync(join(boot, "grub", "grub.cfg"), "utf8");
  const [head, first, second] = cfg.split("menuentry ");
  writeFileSync(join(boot, "grub", "grub.cfg"), `${head}menuentry ${second}menuentry ${first}`);
  await sign(boot, owner, 0);
  const e = await refused(boot, "default-entry");
  assert.match(e.message, /Boot entry has changed/);
  cleanup(boot);
});

test("an interrupted switch: before the counter moved the old set stays; after it the new set is completed", async () => {
  const boot = makeBoot();
  await sign(boot);
  const before = await verify(boot);
  // A signing cut before its counter increment: a complete staging whose rollback names counter+1.
  await assert.rejects(
    withTpm((tpm) => signBoot(sys, { bootDir: boot, signer: owner, tpm: Object.assign(Object.create(tpm) as Tpm, { counterIncrement: () => Promise.reject(new Error("power cut")) }) })),
    /power cut/,
  );
  assert.ok(readdirSync(join(boot, STAGING_DIR)).includes("kexec.sig"));
  // The counter never moved, so the complete staged set is not valid: it is discarded and the old set verifies.
  assert.equal(await withTpm((tpm) => resumeSwitch(sys, boot, tpm)), "discarded");
  assert.equal((await verify(boot)).counter, before.counter);

  // Cut after the increment, halfway through moving the lists in.
  let renames = 0;
  const cutMidway: Sys = { ...sys, rename: (a, b) => { if (a.includes(STAGING_DIR) && !a.endsWith(".tmp") && ++renames > 3) throw new Error("power cut"); sys.rename(a, b); } };
  await assert.rejects(withTpm((tpm) => signBoot(cutMidway, { bootDir: boot, signer: owner, tpm })), /power cut/);
  await refused(boot, "signature");
  assert.equal(await withTpm((tpm) => resumeSwitch(sys, boot, tpm)), "completed");
  assert.equal((await verify(boot)).counter, before.counter! + 1n);
  cleanup(boot);
});

test("kexec plan: only from a VerifiedBoot or an UnsafeBoot; Heads' cmdline rules; unsafe is refused in restricted mode", async () => {
  const boot = makeBoot();
  await sign(boot);
  const v = await verify(boot);
  assert.throws(() => new VerifiedBoot(Symbol("forged") as never, { bootDir: boot, entries: [], defaultChoice: null, signer: "x", counter: null, hashes: new Map(), lists: new Map(), clockWarning: null }));
  assert.throws(() => plan(sys, { bootDir: boot, entries: v.entries, defaultChoice: v.defaultChoice } as never), KexecError);
  const p = plan(sys, v, { add: "console=ttyS0 quiet", remove: "quiet ro" }, undefined, "/stage");
  assert.deepEqual(p.load, ["kexec", "-l", "/stage/0-vmlinuz-6.1", "--initrd=/stage/1-initrd.img-6.1", "--append=root=/dev/vda1 console=ttyS0 quiet"]);
  assert.deepEqual(p.staged.map((f) => [f.named, f.resolved, f.digest]), [
    ["./vmlinuz-6.1", "./vmlinuz-6.1", v.digestOf("./vmlinuz-6.1")],
    ["./initrd.img-6.1", "./initrd.img-6.1", v.digestOf("./initrd.img-6.1")],
  ]);
  assert.deepEqual(p.exec, ["kexec", "-e"]);
  assert.match(describePlan(p), /boot: Debian GNU\/Linux/);
  assert.equal(plan(sys, v, { fileLoad: true }, 2).load[1], "-s");
  assert.throws(() => plan(sys, v, {}, 3), KexecError);

  await assert.rejects(withTpm((tpm) => unsafeBoot(tpm, { restricted: true }, boot, [...v.entries])), KexecError);
  const pcr4 = async () => withTpm(async (tpm) => (await tpm.pcrRead([4])).get(4)!);
  const beforePcr = await pcr4();
  const u = await withTpm((tpm) => unsafeBoot(tpm, { restricted: false }, boot, [...v.entries]));
  assert.notDeepEqual(await pcr4(), beforePcr);
  const up = plan(sys, u, {}, 1);
  assert.ok(up.unsafe);
  assert.match(up.load.at(-1)!, /vt\.default_red=0xff/);
  assert.doesNotMatch(up.load.at(-1)!, /quiet/);
  cleanup(boot);
});

test("CLI: boot list, sign --no-counter, verify, kexec --dry-run, and a tampered /boot exits 1", async () => {
  const boot = makeBoot();
  const root = dirname(boot);
  writeFileSync(join(root, "owner.sec"), gpg.ownerSecret());
  writeFileSync(join(root, "pubring.asc"), gpg.ownerPublic());
  const lines: string[] = [];
  const cli = (argv: string[]) => {
    lines.length = 0;
    const s: Sys = { ...sys, console: { ...sys.console, write: (t) => void lines.push(t), writeError: (t) => void lines.push(t) } };
    return runCli(["--root", root, "--keyring", "/pubring.asc", ...argv], s);
  };
  assert.equal(await cli(["boot", "list"]), 0);
  assert.match(lines.join(""), /1: Debian GNU\/Linux\n2: Debian GNU\/Linux \(recovery\)/);
  assert.equal(await cli(["boot", "sign", "--key", "/owner.sec", "--default", "1", "--no-counter"]), 0);
  assert.equal(await cli(["boot", "verify"]), 0, lines.join(""));
  assert.match(lines.join(""), /verified: signed by/);
  assert.equal(await cli(["boot", "kexec", "2", "--dry-run"]), 0, lines.join(""));
  assert.match(lines.join(""), /kexec -l .*vmlinuz-6.1 --initrd=.*initrd.img-6.1 '--append=root=\/dev\/vda1 ro single'/);
  assert.equal(await cli(["boot", "kexec"]), 2);
  writeFileSync(join(boot, "grub", "evil"), "x");
  assert.equal(await cli(["--json", "boot", "verify"]), 1);
  assert.deepEqual(JSON.parse(lines[0]!).appeared, ["./grub/evil"]);
  assert.equal(await cli(["boot", "kexec", "1", "--dry-run"]), 1);
  cleanup(boot);
});
