// The real bundle (runtime/main.ts, built as for the firmware) on QuickJS in WebAssembly:
// `bootward selftest --vectors DIR` with signatures GnuPG made moments ago.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { bundle } from "../../build/bundle.ts";
import { repoRoot } from "../../build/paths.ts";
import { makeGpgVectors, type GpgVectors } from "../support/gpg.ts";
import { runBundleInWasm } from "../support/quickjs-wasm.ts";
import { assertAllOk, assertOnlyVectorFails, selftestLines } from "./selftest-expect.ts";

let vectors: GpgVectors;
let work: string;
let source: string;

before(async () => {
  vectors = await makeGpgVectors();
  work = await mkdtemp(join(tmpdir(), "bootward-wasm-"));
  const out = join(work, "bootward.mjs");
  await bundle({ entry: join(repoRoot, "runtime/main.ts"), outFile: out });
  source = await readFile(out, "utf8");
});

after(async () => {
  await vectors?.cleanup();
  if (work) await rm(work, { recursive: true, force: true });
});

function selftest(dir: string) {
  return runBundleInWasm({ source, args: ["bootward", "selftest", "--vectors", dir], timeoutMs: 120_000 });
}

test("selftest passes every check on QuickJS/wasm, GnuPG RSA and Ed25519 vectors included", async () => {
  const run = await selftest(vectors.dir);
  const lines = selftestLines(run.stdout, run.stderr);
  assertAllOk(lines, vectors.fingerprints);
  assert.equal(run.exitCode, 0, run.stderr);
});

test("a vector whose data changed after signing is reported as rejected", async () => {
  const run = await selftest(await vectors.withBadVector("tampered"));
  assertOnlyVectorFails(selftestLines(run.stdout, run.stderr), "tampered", /does not verify/);
  assert.equal(run.exitCode, 1);
});

test("a vector signed by a key that is not in its keyring is reported as rejected", async () => {
  const run = await selftest(await vectors.withBadVector("foreign"));
  assertOnlyVectorFails(selftestLines(run.stdout, run.stderr), "foreign", /not in the keyring/);
  assert.equal(run.exitCode, 1);
});

test("a missing vector directory is a failure, not a pass", async () => {
  const run = await selftest(join(work, "no-such-dir"));
  const lines = selftestLines(run.stdout, run.stderr);
  assert.ok(lines.some((l) => l.startsWith("FAIL gpg vectors")), lines.join("\n"));
  assert.equal(run.exitCode, 1);
});
