// The shipped binary, dist/bootward (static musl QuickJS), runs its own selftest against
// signatures GnuPG made moments ago. Build it first with `npm run build`.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { repoRoot } from "../../build/paths.ts";
import { makeGpgVectors, type GpgVectors } from "../support/gpg.ts";
import { assertAllOk, assertOnlyVectorFails, selftestLines } from "./selftest-expect.ts";

const binary = join(repoRoot, "dist/bootward");
let vectors: GpgVectors;

before(async () => {
  assert.ok(existsSync(binary), `${binary} does not exist; build it with npm run build`);
  vectors = await makeGpgVectors();
});

after(async () => {
  await vectors?.cleanup();
});

function selftest(dir: string) {
  const run = spawnSync(binary, ["selftest", "--vectors", dir], { encoding: "utf8", timeout: 60_000 });
  assert.equal(run.error, undefined, `cannot run ${binary}: ${run.error}`);
  return { status: run.status, lines: selftestLines(run.stdout, run.stderr), stderr: run.stderr };
}

test("dist/bootward is one static executable", () => {
  const file = spawnSync("file", ["-b", binary], { encoding: "utf8" });
  if (file.error) {
    // `file` is not installed everywhere; the ELF header says as much for our purpose.
    const head = spawnSync("head", ["-c", "4", binary]);
    assert.equal(head.stdout.toString("latin1"), "\u007fELF");
    return;
  }
  assert.match(file.stdout, /statically linked|static-pie linked/);
});

test("selftest passes every check natively, GnuPG RSA and Ed25519 vectors included", () => {
  const run = selftest(vectors.dir);
  assertAllOk(run.lines, vectors.fingerprints);
  assert.equal(run.status, 0, run.stderr);
});

test("a vector whose data changed after signing fails with exit code 1", async () => {
  const run = selftest(await vectors.withBadVector("tampered"));
  assertOnlyVectorFails(run.lines, "tampered", /does not verify/);
  assert.equal(run.status, 1);
});

test("a vector signed by a key that is not in the given keys fails with exit code 1", async () => {
  const run = selftest(await vectors.withBadVector("foreign"));
  assertOnlyVectorFails(run.lines, "foreign", /not in the keyring/);
  assert.equal(run.status, 1);
});
