// The /boot lists compared byte for byte with what Heads' own commands (coreutils find,
// sort -z, sha256sum) produce for the same tree; names Heads refuses; symlinks leaving /boot.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { rmSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { createNodeSys } from "../../../runtime/host/node/sys.ts";
import {
  BootNameError, BootSymlinkError, counterLine, formatHashLines, formatRollback, formatTree, hashTree, FileHashError, ListFormatError,
  parseHashLines, parseRollback, rollbackMatches, sha256Files, signedStream, readSignedLists, walkBoot,
} from "../../../runtime/boot/index.ts";
import { coreutilsSignedStream, makeBoot } from "../../boot/support.ts";

const sys = createNodeSys();
const sh = (argv: string[], cwd: string) => execFileSync(argv[0]!, argv.slice(1), { cwd, env: { ...process.env, LC_ALL: "C" } });

test("kexec_tree.txt equals `find ./ ! -path './kexec*' -print0 | sort -z`", () => {
  const boot = makeBoot();
  writeFileSync(join(boot, "kexec_hashes.txt"), "ignored\n");
  const find = sh(["find", "./", "!", "-path", "./kexec*", "-print0"], boot);
  const oracle = execFileSync("sort", ["-z"], { input: find, env: { ...process.env, LC_ALL: "C" } });
  assert.equal(formatTree(walkBoot(sys, boot)), oracle.toString());
  rmSync(dirname(boot), { recursive: true });
});

test("kexec_hashes.txt equals sha256sum over find's files in byte order, hashed natively", async () => {
  const boot = makeBoot();
  const files = sh(["find", "./", "-type", "f", "!", "-path", "./kexec*", "-print0"], boot);
  const sorted = execFileSync("sort", ["-z"], { input: files, env: { ...process.env, LC_ALL: "C" } });
  const oracle = sh(["sha256sum", ...sorted.toString().split("\0").filter(Boolean)], boot);
  const lines = await hashTree(sys, boot, walkBoot(sys, boot));
  assert.equal(formatHashLines(lines), oracle.toString());
  assert.deepEqual(parseHashLines(oracle.toString(), "x"), lines);
  rmSync(dirname(boot), { recursive: true });
});

test("the signed stream equals `sha256sum kexec*.txt` with bare names in byte order", () => {
  const boot = makeBoot();
  for (const n of ["kexec_tree.txt", "kexec_default.1.txt", "kexec_default_hashes.txt", "kexec_hashes.txt", "kexec_rollback.txt"]) writeFileSync(join(boot, n), `${n}\n`);
  writeFileSync(join(boot, "kexec.sig"), "not part of the stream");
  writeFileSync(join(boot, "kexec_hotp_counter"), "3");
  const stream = Buffer.from(signedStream(readSignedLists(sys, boot)));
  assert.equal(stream.toString(), coreutilsSignedStream(boot).toString());
  assert.match(stream.toString(), /kexec_default\.1\.txt\n.*kexec_default_hashes\.txt\n/);
  rmSync(dirname(boot), { recursive: true });
});

test("the rollback file is sha256sum of Heads' counter file", () => {
  const dir = makeBoot();
  const id = 0x1abcdef;
  writeFileSync(join(dir, `counter-${id.toString(16)}`), counterLine(id, 5n));
  assert.equal(counterLine(id, 5n), "1abcdef: 0000000000000005\n");
  const oracle = sh(["sha256sum", join(dir, "counter-1abcdef")], dir).toString().split(" ")[0];
  const text = formatRollback(id, 5n);
  assert.equal(text, `${oracle}  /tmp/counter-1abcdef\n`);
  const rec = parseRollback(text);
  assert.equal(rec.id, id);
  assert.ok(rollbackMatches(rec, 5n));
  assert.ok(!rollbackMatches(rec, 6n));
  assert.throws(() => parseRollback(`${oracle}  /tmp/counter-1abcdef\n${oracle}  /tmp/counter-2\n`), ListFormatError);
  rmSync(dirname(dir), { recursive: true });
});

test("TPM 1.2 rollback: tpmtotp's `<decimal id>: <TPM_COUNTER_VALUE hex>` line, sha256sum-ed under its decimal name", () => {
  const dir = makeBoot();
  const value = 0x000ebaddecaf0000002an;
  const id = 12;
  assert.equal(counterLine(id, value, "1.2"), "12: 000ebaddecaf0000002a\n");
  writeFileSync(join(dir, "counter-12"), counterLine(id, value, "1.2"));
  const oracle = sh(["sha256sum", join(dir, "counter-12")], dir).toString().split(" ")[0];
  const text = formatRollback(id, value, "1.2");
  assert.equal(text, `${oracle}  /tmp/counter-12\n`);
  const rec = parseRollback(text, "1.2");
  assert.equal(rec.id, 12, "the file name's id is decimal on 1.2 (0x12 would be 18)");
  assert.ok(rollbackMatches(rec, value, "1.2"));
  assert.ok(!rollbackMatches(rec, value + 1n, "1.2"));
  assert.throws(() => parseRollback(`${oracle}  /tmp/counter-1a\n`, "1.2"), ListFormatError);
  rmSync(dirname(dir), { recursive: true });
});

test("names Heads refuses are refused with a typed error", () => {
  for (const bad of ["new\nline", "back\\slash", "tab\there", "caf\u00e9", "del\x7f", "\ufffdbroken"]) {
    const boot = makeBoot();
    writeFileSync(join(boot, "grub", bad), "x");
    assert.throws(() => walkBoot(sys, boot), BootNameError, JSON.stringify(bad));
    rmSync(dirname(boot), { recursive: true });
  }
});

test("a symlink leaving /boot is refused; one staying inside is listed, not hashed (as find -type f)", async () => {
  for (const target of ["/etc/passwd", "../../etc/shadow", "grub/../../x"]) {
    const boot = makeBoot();
    symlinkSync(target, join(boot, "evil"));
    assert.throws(() => walkBoot(sys, boot), BootSymlinkError, target);
    rmSync(dirname(boot), { recursive: true });
  }
  const boot = makeBoot();
  symlinkSync("vmlinuz-6.1", join(boot, "vmlinuz"));
  const tree = walkBoot(sys, boot);
  assert.ok(tree.some((n) => n.rel === "./vmlinuz" && n.kind === "symlink"));
  assert.ok(!(await hashTree(sys, boot, tree)).some((l) => l.path === "./vmlinuz"));
  rmSync(dirname(boot), { recursive: true });
});

test("hash lists are parsed strictly; a file that cannot be read fails to hash by name", () => {
  const boot = makeBoot();
  assert.throws(() => sha256Files(sys, boot, ["./nope"]), (e: unknown) => e instanceof FileHashError && /\.\/nope in .* could not be hashed/.test(e.message));
  assert.throws(() => sha256Files(sys, boot, ["./grub"]), (e: unknown) => e instanceof FileHashError && /\.\/grub in /.test(e.message));
  // A name sha256sum would have taken for an option is only a name here.
  writeFileSync(join(boot, "-c"), "x");
  assert.equal(sha256Files(sys, boot, ["-c"]).get("-c"), "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881");
  assert.throws(() => parseHashLines("abc  ./x\n", "x"), ListFormatError);
  assert.throws(() => parseHashLines(`${"a".repeat(64)}  ./x`, "x"), ListFormatError);
  assert.throws(() => parseHashLines(`${"a".repeat(64)}  ./x\n${"b".repeat(64)}  ./x\n`, "x"), ListFormatError);
  rmSync(dirname(boot), { recursive: true });
});
