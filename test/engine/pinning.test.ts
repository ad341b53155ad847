// The QuickJS and libsodium sources are pinned by hash: the real tarball passes, a changed byte stops the build.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { BuildError } from "../../build/errors.ts";
import { checkSha256, fetchQuickJsSource, QUICKJS_SOURCE } from "../../build/quickjs.ts";
import { fetchSodiumSource, SODIUM_SOURCE } from "../../build/native.ts";

test("the pinned qjsc tarball matches its hash; one changed byte is refused with a clear sentence", async () => {
  const tarball = await fetchQuickJsSource();
  await checkSha256(tarball, QUICKJS_SOURCE.sha256);
  const dir = await mkdtemp(join(tmpdir(), "bootward-pin-"));
  try {
    const copy = join(dir, QUICKJS_SOURCE.tarball);
    const bytes = await readFile(tarball);
    bytes[1000] = bytes[1000]! ^ 1;
    await writeFile(copy, bytes);
    await assert.rejects(checkSha256(copy, QUICKJS_SOURCE.sha256), (error: unknown) => {
      assert.ok(error instanceof BuildError);
      assert.match(error.message, new RegExp(`expected ${QUICKJS_SOURCE.sha256}; delete it and rebuild`));
      assert.doesNotMatch(error.message, /\n/);
      return true;
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("the pinned libsodium tarball matches its hash; one changed byte is refused", async () => {
  const tarball = await fetchSodiumSource();
  await checkSha256(tarball, SODIUM_SOURCE.sha256);
  const dir = await mkdtemp(join(tmpdir(), "bootward-pin-"));
  try {
    const copy = join(dir, SODIUM_SOURCE.tarball);
    const bytes = await readFile(tarball);
    bytes[5000] = bytes[5000]! ^ 1;
    await writeFile(copy, bytes);
    await assert.rejects(checkSha256(copy, SODIUM_SOURCE.sha256), (error: unknown) => error instanceof BuildError && error.message.includes(`expected ${SODIUM_SOURCE.sha256}`));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
