// `bootward cbfs …` on the firmware's engine: the bundle on QuickJS in WebAssembly and the
// native dist/bootward print what Node prints, decompress LZ4 alike, and write images that
// cbfstool reads. (`npm test` builds dist/bootward before it runs the tests.)
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { bundle } from "../../build/bundle.ts";
import { repoRoot } from "../../build/paths.ts";
import { runBundleInWasm } from "../support/quickjs-wasm.ts";
import { runCli } from "../../runtime/cli/index.ts";
import { createNodeSys } from "../../runtime/host/node/sys.ts";
import type { Sys } from "../../runtime/host/sys.ts";
import { Workdir, pseudoRandom } from "./cbfstool.ts";

const work = new Workdir();
const binary = join(repoRoot, "dist/bootward");
const lz4Source = Uint8Array.from({ length: 100_000 }, (_, i) => (i % 300 < 250 ? i % 11 : 0x5a));
let source: string;
let rom: string;

before(async () => {
  const out = work.path("bootward.mjs");
  await bundle({ entry: join(repoRoot, "runtime/main.ts"), outFile: out });
  source = readFileSync(out, "utf8");
  work.create("board.rom", "fmap+master", 0x40000);
  work.cbfstool("board.rom", "add", "-t", "raw", "-n", "heads/initrd/.gnupg/pubring.kbx", "-f", work.write("src", pseudoRandom(5)(1500)));
  work.cbfstool("board.rom", "add", "-t", "raw", "-n", "heads/initrd/etc/config.user", "-f", work.write("src", "export CONFIG_TPM=y\n"));
  work.cbfstool("board.rom", "add", "-t", "raw", "-c", "lz4", "-n", "packed-lz4", "-f", work.write("src", lz4Source));
  work.cbfstool("board.rom", "add", "-t", "raw", "-c", "lzma", "-n", "packed-lzma", "-f", work.write("src", lz4Source));
  rom = work.path("board.rom");
});
after(() => work.cleanup());

async function onNode(...argv: string[]): Promise<string> {
  let out = "";
  const s: Sys = { ...createNodeSys(), console: { ...createNodeSys().console, write: (t) => void (out += t), writeError: () => {} } };
  assert.equal(await runCli(argv, s), 0);
  return out;
}

test("QuickJS/wasm: cbfs list prints what Node prints; LZ4 extract matches; LZMA is refused", async () => {
  for (const argv of [["cbfs", "list", rom], ["--json", "cbfs", "list", rom]]) {
    const run = await runBundleInWasm({ source, args: ["bootward", ...argv], timeoutMs: 120_000 });
    assert.equal(run.exitCode, 0, run.stderr);
    assert.equal(run.stdout, await onNode(...argv));
  }
  const out = work.write("extracted", "");
  const extract = await runBundleInWasm({ source, args: ["bootward", "cbfs", "extract", rom, "packed-lz4", out], devices: [out], timeoutMs: 120_000 });
  assert.equal(extract.exitCode, 0, extract.stderr);
  assert.deepEqual(work.read("extracted"), lz4Source);
  const lzma = await runBundleInWasm({ source, args: ["bootward", "cbfs", "extract", rom, "packed-lzma", out], devices: [out], timeoutMs: 120_000 });
  assert.equal(lzma.exitCode, 1);
  assert.match(lzma.stderr, /lzma-compressed, which bootward does not decompress/);
});

test("native dist/bootward: list, extract, add and remove; cbfstool reads the result", async () => {
  assert.ok(existsSync(binary), `${binary} does not exist; build it with npm run build`);
  const run = (...argv: string[]) => spawnSync(binary, argv, { encoding: "utf8", timeout: 60_000 });
  const listed = run("--json", "cbfs", "list", rom);
  assert.equal(listed.status, 0, listed.stderr);
  assert.equal(listed.stdout, await onNode("--json", "cbfs", "list", rom));
  assert.equal(run("cbfs", "extract", rom, "packed-lz4", work.path("native-out")).status, 0);
  assert.deepEqual(work.read("native-out"), lz4Source);
  const trust = pseudoRandom(8)(1200);
  assert.equal(run("cbfs", "add", rom, "heads/initrd/.gnupg/trustdb.gpg", work.write("trustdb", trust)).status, 0);
  assert.equal(run("cbfs", "remove", rom, "heads/initrd/etc/config.user").status, 0);
  work.cbfstool("board.rom", "extract", "-n", "heads/initrd/.gnupg/trustdb.gpg", "-f", work.path("by-cbfstool"));
  assert.deepEqual(work.read("by-cbfstool"), trust);
  assert.doesNotMatch(work.cbfstool("board.rom", "print"), /config\.user/);
  const refused = run("cbfs", "remove", rom, "heads/initrd/etc/config.user");
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /no CBFS file named "heads\/initrd\/etc\/config.user"/);
});
