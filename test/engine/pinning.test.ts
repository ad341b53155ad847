// The QuickJS and libsodium sources are pinned by hash: the real tarball passes, a changed byte stops the build.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { BuildError } from "../../build/errors.ts";
import { checkSha256, fetchQuickJsSource, QUICKJS_ENGINES } from "../../build/quickjs.ts";
import { fetchSodiumSource, SODIUM_SOURCE } from "../../build/native.ts";

/** The real tarball passes its check; a copy with one changed byte is refused in one sentence. */
async function assertPinned(tarball: string, name: string, sha256: string, at: number): Promise<void> {
  await checkSha256(tarball, sha256);
  const dir = await mkdtemp(join(tmpdir(), "bootward-pin-"));
  try {
    const copy = join(dir, name);
    const bytes = await readFile(tarball);
    bytes[at] = bytes[at]! ^ 1;
    await writeFile(copy, bytes);
    await assert.rejects(checkSha256(copy, sha256), (error: unknown) => {
      assert.ok(error instanceof BuildError);
      assert.match(error.message, new RegExp(`expected ${sha256}; delete it and rebuild`));
      assert.doesNotMatch(error.message, /\n/);
      return true;
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

for (const source of Object.values(QUICKJS_ENGINES)) {
  test(`the pinned QuickJS ${source.version} tarball matches its hash; one changed byte is refused with a clear sentence`, async () => {
    await assertPinned(await fetchQuickJsSource(source), source.tarball, source.sha256, 1000);
  });
}

test("the pinned libsodium tarball matches its hash; one changed byte is refused with a clear sentence", async () => {
  await assertPinned(await fetchSodiumSource(), SODIUM_SOURCE.tarball, SODIUM_SOURCE.sha256, 5000);
});
