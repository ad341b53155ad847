// The incremental build: an output is reused only when every input it is made from is the same
// (by content) and the output is the one recorded; otherwise it is rebuilt. The keying and the
// records are tested as units; one real no-op build checks that the pieces fit together.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { binaryKey, initramfsKey } from "../../build.ts";
import { BuildError, explain } from "../../build/errors.ts";
import { buildKey, OutputRecords } from "../../build/outputs.ts";
import { run } from "../../build/run.ts";
import { getBoard } from "../../initrd/boards.ts";
import { repoRoot } from "../../build/paths.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

test("keys: each part counts, and parts cannot be shifted into one another", () => {
  assert.equal(buildKey(["a", bytes("b"), { c: 1 }]), buildKey(["a", bytes("b"), { c: 1 }]));
  assert.notEqual(buildKey(["ab", "c"]), buildKey(["a", "bc"]));
  assert.notEqual(buildKey(["a", { c: 1 }]), buildKey(["a", { c: 2 }]));
  assert.notEqual(buildKey([bytes("x")]), buildKey([bytes("y")]));
});

test("a changed bundle changes the binary's key; the same bundle keeps it", () => {
  const bundle = bytes("export const a = 1;");
  assert.equal(binaryKey(bundle), binaryKey(bytes("export const a = 1;")));
  assert.notEqual(binaryKey(bundle), binaryKey(bytes("export const a = 2;")));
});

test("a board's config changes that board's initramfs key only; a new binary or lock changes every board's", () => {
  const tpm2 = getBoard("qemu-tpm2");
  const tpm1 = getBoard("qemu-tpm1");
  const binary = bytes("binary");
  const lock = bytes("lock");
  const changed = { ...tpm2, config: [...tpm2.config, ["CONFIG_EXTRA", "y"] as const] };
  assert.notEqual(initramfsKey(changed, binary, lock), initramfsKey(tpm2, binary, lock), "the changed board is rebuilt");
  assert.equal(initramfsKey(tpm1, binary, lock), initramfsKey(getBoard("qemu-tpm1"), binary, lock), "the other board is not");
  for (const board of [tpm1, tpm2]) {
    assert.notEqual(initramfsKey(board, bytes("binary 2"), lock), initramfsKey(board, binary, lock), `${board.name}: a new binary`);
    assert.notEqual(initramfsKey(board, binary, bytes("lock 2")), initramfsKey(board, binary, lock), `${board.name}: a new lock`);
  }
});

test("records: reused only for the same key and the recorded output; an edited, deleted or unrecorded output is rebuilt", () => {
  const dir = mkdtempSync(join(tmpdir(), "bootward-outputs-"));
  try {
    const records = new OutputRecords(join(dir, "records"));
    const out = join(dir, "out.bin");
    assert.equal(records.reusable("out", out, "k1"), null, "nothing recorded yet");
    writeFileSync(out, "made from k1");
    records.record("out", out, "k1", { bytes: 12 });
    assert.deepEqual(records.reusable("out", out, "k1")?.info, { bytes: 12 });
    assert.equal(records.reusable("out", out, "k2"), null, "another key: an input changed");
    writeFileSync(out, "edited by hand");
    assert.equal(records.reusable("out", out, "k1"), null, "the output is not the one recorded");
    rmSync(out);
    assert.equal(records.reusable("out", out, "k1"), null, "the output is gone");
    writeFileSync(out, "made from k1");
    assert.notEqual(records.reusable("out", out, "k1"), null, "the recorded bytes again");
    records.forget("out");
    assert.equal(records.reusable("out", out, "k1"), null, "a rebuild in progress has no record");
    assert.deepEqual(readdirSync(join(dir, "records")).filter((n) => n.includes(".tmp")), [], "no temp record left behind");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a full disk, wherever the build writes, is one sentence saying so", async () => {
  const enospc = Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC", path: "dist/bootward" });
  assert.equal(explain(enospc), "Writing dist/bootward failed: the disk is full; free some space and run the build again.");
  const copy = Object.assign(new Error("ENOSPC: copyfile"), { code: "ENOSPC", path: ".build/compile/x/bootward.out", dest: "dist/.bootward.1.tmp" });
  assert.match(explain(copy), /^Writing dist\/\.bootward\.1\.tmp failed: the disk is full/, "a copy names where it was writing");
  assert.equal(explain(new BuildError("The lock moved on; refresh it.")), "The lock moved on; refresh it.");
  assert.equal(explain(new Error("first line\nstack-like noise")), "first line");
  await assert.rejects(
    run(["sh", "-c", "echo 'xz: out.xz: No space left on device' >&2; exit 1"], { what: "Compressing", fix: "reinstall xz" }),
    (e: unknown) => e instanceof BuildError && /the disk is full; free some space/.test(e.message) && !e.message.includes("reinstall"),
  );
});

test("npm run build with nothing changed reuses the binary and every board's initramfs", { timeout: 900_000 }, () => {
  // The first build brings dist/ up to date (a no-op right after npm test's own build).
  execFileSync("npx", ["tsx", "build.ts", "--all-boards"], { cwd: repoRoot, stdio: "ignore" });
  const before = readFileSync(join(repoRoot, "dist/bootward"));
  const out = execFileSync("npx", ["tsx", "build.ts", "--all-boards"], { cwd: repoRoot, encoding: "utf8" });
  assert.match(out, /^bootward .*, reused$/m);
  assert.match(out, /^initramfs .*\(qemu-tpm2\), reused$/m);
  assert.match(out, /^initramfs .*\(qemu-tpm1\), reused$/m);
  assert.doesNotMatch(out, /rebuilt/);
  assert.deepEqual(readFileSync(join(repoRoot, "dist/bootward")), before);
  assert.ok(existsSync(join(repoRoot, "dist/initramfs-qemu-tpm1.cpio.xz")));
});
