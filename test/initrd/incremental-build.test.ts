// The incremental build: an output is reused only when every input it is made from is the same
// (by content) and the output is the one recorded; otherwise it is rebuilt. The keying and the
// records are tested as units on small fake inputs; one real no-op build checks that the pieces
// fit together.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { bundle } from "../../build/bundle.ts";
import { BuildError, explain } from "../../build/errors.ts";
import { binaryKey, bundleKey, initramfsKey } from "../../build/keys.ts";
import { buildKey, OutputRecords } from "../../build/outputs.ts";
import { repoRoot } from "../../build/paths.ts";
import { run } from "../../build/run.ts";
import { getBoard } from "../../initrd/boards.ts";
import { initramfsFileName, type InitrdCompression } from "../../initrd/compression.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

function withDir(prefix: string, body: (dir: string) => Promise<void> | void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return Promise.resolve(body(dir)).finally(() => rmSync(dir, { recursive: true, force: true }));
}

test("keys: each part counts, and parts cannot be shifted into one another", () => {
  assert.equal(buildKey(["a", bytes("b"), { c: 1 }]), buildKey(["a", bytes("b"), { c: 1 }]));
  assert.notEqual(buildKey(["ab", "c"]), buildKey(["a", "bc"]));
  assert.notEqual(buildKey(["a", { c: 1 }]), buildKey(["a", { c: 2 }]));
  assert.notEqual(buildKey([bytes("x")]), buildKey([bytes("y")]));
});

test("a changed source file that goes into the bundle changes the bundle's key, the bundle and so the binary's key", () =>
  withDir("bootward-bundle-key-", async (dir) => {
    const entry = join(dir, "entry.ts");
    const dep = join(dir, "dep.ts");
    writeFileSync(entry, 'import { value } from "./dep.ts";\nconsole.log(value);\n');
    writeFileSync(dep, "export const value = 1;\n");
    const out = join(dir, "out.mjs");
    const options = { entry: "entry.ts" };

    const first = await bundle({ entry, outFile: out });
    assert.deepEqual(first.inputs, [entry, dep].map((f) => relative(repoRoot, f)).sort(), "esbuild names every file it read");
    const key = bundleKey(first.inputs, options);
    const firstBytes = readFileSync(out);
    assert.ok(key !== null);
    assert.equal(bundleKey(first.inputs, options), key, "nothing changed: the same key, esbuild need not run");
    assert.notEqual(bundleKey(first.inputs, { entry: "other.ts" }), key, "other bundler options");

    writeFileSync(dep, "export const value = 2;\n");
    assert.notEqual(bundleKey(first.inputs, options), key, "an imported file changed: the bundle is rebuilt");
    await bundle({ entry, outFile: out });
    assert.notDeepEqual(readFileSync(out), firstBytes);
    assert.notEqual(binaryKey(readFileSync(out)), binaryKey(firstBytes), "a new bundle rebuilds the binary");
    assert.equal(binaryKey(readFileSync(out)), binaryKey(new Uint8Array(readFileSync(out))), "the same bundle keeps the binary");

    rmSync(dep);
    assert.equal(bundleKey(first.inputs, options), null, "a file it read is gone: only esbuild can say what it reads now");
    assert.deepEqual(readdirSync(dir).filter((n) => n.includes(".tmp")), [], "no temp bundle left behind");
  }));

test("a board's config changes that board's initramfs key only; a new binary, lock or compressor changes every board's", () => {
  const tpm2 = getBoard("qemu-tpm2");
  const tpm1 = getBoard("qemu-tpm1");
  const binary = bytes("binary");
  const lock = bytes("lock");
  const key = (board: typeof tpm2, b = binary, l = lock, c: InitrdCompression = "xz") => initramfsKey(board, b, l, c);
  const changed = { ...tpm2, config: [...tpm2.config, ["CONFIG_EXTRA", "y"] as const] };
  assert.notEqual(key(changed), key(tpm2), "the changed board is rebuilt");
  assert.equal(key(tpm1), key(getBoard("qemu-tpm1")), "the other board is not");
  for (const board of [tpm1, tpm2]) {
    assert.notEqual(key(board, bytes("binary 2")), key(board), `${board.name}: a new binary`);
    assert.notEqual(key(board, binary, bytes("lock 2")), key(board), `${board.name}: a new lock`);
    assert.notEqual(key(board, binary, lock, "none"), key(board), `${board.name}: another compressor`);
  }
});

test("an xz image keeps its dist/ name; another compression is named by its suffix", () => {
  assert.equal(initramfsFileName("qemu-tpm2", "xz"), "initramfs-qemu-tpm2.cpio.xz");
  assert.equal(initramfsFileName("qemu-tpm1", "none"), "initramfs-qemu-tpm1.cpio");
});

test("records: reused only for the same key and the recorded output; an edited, deleted or unrecorded output is rebuilt", () =>
  withDir("bootward-outputs-", (dir) => {
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
  }));

test("ensure: makes an output once, reuses it, and makes it again when its key moves or the output was edited", () =>
  withDir("bootward-ensure-", async (dir) => {
    const records = new OutputRecords(join(dir, "records"));
    const out = join(dir, "image");
    let makes = 0;
    const make = async () => {
      makes++;
      writeFileSync(out, `image ${makes}`);
      return { bytes: 7 };
    };
    assert.deepEqual(await records.ensure("image", out, "k1", make), { info: { bytes: 7 }, reused: false });
    assert.deepEqual(await records.ensure("image", out, "k1", make), { info: { bytes: 7 }, reused: true }, "a no-op");
    assert.equal(makes, 1);
    writeFileSync(out, "edited by hand");
    assert.equal((await records.ensure("image", out, "k1", make)).reused, false, "an output edited by hand is made again");
    assert.equal((await records.ensure("image", out, "k2", make)).reused, false, "a moved key is made again");
    assert.equal(makes, 3);

    // A build cut short (here: a full disk) leaves no record, so the next build makes it again.
    const fails = async (): Promise<{ bytes: number }> => {
      throw new BuildError("disk full");
    };
    await assert.rejects(records.ensure("image", out, "k3", fails), BuildError);
    assert.equal(records.read("image"), null);
    assert.equal((await records.ensure("image", out, "k2", make)).reused, false, "not even the old key survives a failed rebuild");
  }));

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

test("a wrong argument stops the build with the usage line, before anything is built", () => {
  const result = spawnSync("npx", ["tsx", "build.ts", "--initrd-compression", "zip"], { cwd: repoRoot, encoding: "utf8" });
  assert.equal(result.status, 1);
  assert.match(result.stderr, /^build failed: Unknown or incomplete argument "--initrd-compression"; usage: .*--initrd-compression xz\|none\]$/m);
});

test("npm run build with nothing changed reuses the bundle, the binary and every board's initramfs", { timeout: 900_000 }, () => {
  // The first build brings dist/ up to date (a no-op right after npm test's own build).
  execFileSync("npx", ["tsx", "build.ts", "--all-boards"], { cwd: repoRoot, stdio: "ignore" });
  const before = readFileSync(join(repoRoot, "dist/bootward"));
  const out = execFileSync("npx", ["tsx", "build.ts", "--all-boards"], { cwd: repoRoot, encoding: "utf8" });
  assert.match(out, /^bundle .*, reused$/m);
  assert.match(out, /^bootward .*, reused$/m);
  assert.match(out, /^initramfs .* xz \(qemu-tpm2\), reused$/m);
  assert.match(out, /^initramfs .* xz \(qemu-tpm1\), reused$/m);
  assert.doesNotMatch(out, /rebuilt/);
  assert.deepEqual(readFileSync(join(repoRoot, "dist/bootward")), before);
  assert.ok(existsSync(join(repoRoot, "dist/initramfs-qemu-tpm1.cpio.xz")));
});
