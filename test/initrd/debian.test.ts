import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { DebianError, REFRESH_COMMAND, fetchDeb, lockedPackage, readLock, kernelPackage } from "../../initrd/debian.ts";

test("the lock pins the kernel linux-image-amd64 names, the tools and only the libraries they need", () => {
  const lock = readLock();
  const kernel = kernelPackage(lock);
  assert.match(kernel.package, /^linux-image-6\.1\.0-\d+-amd64$/);
  assert.equal(lock.kernelRelease, kernel.package.replace("linux-image-", ""));
  for (const name of ["busybox-static", "kexec-tools", "cryptsetup-bin", "libc6", "libssl3", "libcryptsetup12", "libxenmisc4.17"]) {
    const p = lockedPackage(lock, name);
    assert.match(p.sha256, /^[0-9a-f]{64}$/);
    assert.equal(p.architecture, "amd64");
    assert.ok(p.size > 0);
  }
  // debconf's libraries are in the Depends closure but no binary needs them.
  assert.ok(!lock.packages.some((p) => p.package === "libnewt0.52" || p.package === "libslang2"));
});

test("a fetched .deb has the pinned size and sha256", () => {
  const deb = lockedPackage(readLock(), "kexec-tools");
  const bytes = readFileSync(fetchDeb(deb));
  assert.equal(bytes.length, deb.size);
  assert.equal(createHash("sha256").update(bytes).digest("hex"), deb.sha256);
});

test("a hash mismatch stops with a DebianError naming the refresh command", () => {
  const deb = { ...lockedPackage(readLock(), "kexec-tools"), sha256: "0".repeat(64) };
  assert.throws(() => fetchDeb(deb), (e: unknown) => e instanceof DebianError && /sha256/.test(e.message) && e.message.includes(REFRESH_COMMAND));
});

test("a version the archive does not have stops with a DebianError naming the refresh command", () => {
  const deb = { ...lockedPackage(readLock(), "kexec-tools"), version: "1:0.0.1-gone", filename: "pool/main/k/kexec-tools/kexec-tools_0.0.1-gone_amd64.deb" };
  assert.throws(() => fetchDeb(deb), (e: unknown) => e instanceof DebianError && e.message.includes(REFRESH_COMMAND));
});
