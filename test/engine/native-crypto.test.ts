// The native module (runtime/host/quickjs/native.c) inside a real static binary built the way
// dist/bootward is: known-answer vectors (FIPS 180-2, RFC 8032), attacks that must be refused
// (a tampered Ed25519 signature, a non-canonical S, an RSA e=3 padding forgery), and random
// inputs whose every answer must equal node:crypto's and the JS code's the firmware used before.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { createHash, randomBytes, sign, verify } from "node:crypto";
import { bundle } from "../../build/bundle.ts";
import { compileBinary } from "../../build/compile.ts";
import { repoRoot } from "../../build/paths.ts";
import {
  bleichenbacherForgery, digestCases, ED25519_VECTORS, ed25519Cases, ed25519Key, nonCanonicalS, rsaCase, rsaCases, rsaKey,
  rsaPublicCases, webVerifyRsa, type CryptoCase, type Labelled,
} from "./crypto-cases.ts";

let work: string;
/** As dist/bootward is built, and with the portable SHA-256 only (the CPU here may have SHA extensions). */
let probes: { label: string; file: string }[];

before(async () => {
  work = await mkdtemp(join(tmpdir(), "bootward-crypto-"));
  const bundleFile = join(work, "probe.mjs");
  await bundle({ entry: join(repoRoot, "test/engine/fixtures/crypto-probe.ts"), outFile: bundleFile });
  probes = [
    { label: "default build", file: join(work, "probe") },
    { label: "portable SHA-256", file: join(work, "probe-portable") },
  ];
  await Promise.all([
    compileBinary({ bundle: bundleFile, outFile: probes[0]!.file }),
    compileBinary({ bundle: bundleFile, outFile: probes[1]!.file, defines: ["BOOTWARD_PORTABLE_SHA256"] }),
  ]);
});

after(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

let runs = 0;

/** Runs every case in one process of a probe binary; returns its answers in order. */
async function runNative(cases: CryptoCase[], probe = probes[0]!.file): Promise<unknown[]> {
  const file = join(work, `cases-${runs++}.json`);
  await writeFile(file, JSON.stringify(cases));
  const run = spawnSync(probe, [file], { encoding: "utf8", timeout: 300_000, maxBuffer: 1 << 26 });
  assert.equal(run.status, 0, `the probe failed: ${run.stderr}`);
  const answers = JSON.parse(run.stdout) as unknown[];
  assert.equal(answers.length, cases.length);
  return answers;
}

async function assertAll(labelled: Labelled[], which = probes.slice(0, 1)): Promise<void> {
  for (const probe of which) {
    const answers = await runNative(labelled.map((l) => l.case), probe.file);
    labelled.forEach((l, i) => assert.deepEqual(answers[i], l.expected, `${probe.label}: ${l.label}`));
  }
}

test("SHA-256 and SHA-512: FIPS vectors, and random lengths across block boundaries up to 1 MiB equal node:crypto and @noble/hashes", async () => {
  await assertAll(digestCases(), probes);
});

test("SHA-256 of files: empty, a million a, 3 MiB + 1 of random bytes, through Sys.sha256File; a missing file is a SysError", async () => {
  const files: [string, Buffer][] = [["empty", Buffer.alloc(0)], ["million-a", Buffer.alloc(1_000_000, "a")], ["random", randomBytes(3 * (1 << 20) + 1)]];
  const labelled: Labelled[] = [];
  for (const [name, data] of files) {
    await writeFile(join(work, name), data);
    labelled.push({ label: name, case: { op: "file", path: join(work, name) }, expected: createHash("sha256").update(data).digest("hex") });
  }
  labelled.push({ label: "missing", case: { op: "file", path: join(work, "missing") }, expected: { error: `SysError: hash ${join(work, "missing")}: No such file or directory` } });
  await assertAll(labelled, probes);
});

test("Ed25519: RFC 8032 vectors verify; random good, tampered and random signatures are judged as OpenSSL judges them", async () => {
  for (const v of ED25519_VECTORS) {
    // The table above is checked against OpenSSL, so a typo in it cannot pass for a native bug.
    const { privateKey, x } = ed25519Key(v.secret);
    assert.equal(Buffer.from(x, "base64url").toString("hex"), v.public);
    assert.equal(sign(null, Buffer.from(v.message, "hex"), privateKey).toString("hex"), v.signature);
  }
  const cases = ed25519Cases();
  assert.ok(cases.filter((c) => c.expected === true).length >= 24 && cases.filter((c) => c.expected === false).length >= 48);
  await assertAll(cases);
});

test("Ed25519: a signature whose S is not reduced (S + L) is refused, though the same signature with S verifies", async () => {
  const v = ED25519_VECTORS[1]!;
  const x = Buffer.from(v.public, "hex").toString("base64url");
  const signature = Buffer.from(v.signature, "hex");
  const forged = nonCanonicalS(signature);
  assert.notDeepEqual(forged, signature);
  const [genuine, malleated, tampered] = await runNative([
    { op: "ed25519", x, data: v.message, signature: v.signature },
    { op: "ed25519", x, data: v.message, signature: forged.toString("hex") },
    { op: "ed25519", x, data: "73", signature: v.signature },
  ]);
  assert.equal(genuine, true);
  assert.equal(malleated, false, "S + L must be refused (RFC 8032 §5.1.7)");
  assert.equal(tampered, false, "a changed message must be refused");
});

test("RSASSA-PKCS1-v1_5: SHA-256 and SHA-512 over RSA-2048/3072/4096 and e=3 keys; good, tampered and cross-hash signatures as Node's Web Crypto judges them", async () => {
  const keys = [rsaKey(2048), rsaKey(3072), rsaKey(4096), rsaKey(3072, 3)];
  const cases = await rsaCases(keys);
  const key = keys[1]!;
  const data = randomBytes(100);
  const sha512Signature = sign("sha512", data, key.privateKey);
  // A SHA-512 signature presented as SHA-256 must not verify: the DigestInfo differs.
  cases.push(rsaCase("RSA-3072: a SHA-512 signature checked as SHA-256", key, "SHA-256", data, sha512Signature, false));
  assert.equal(await webVerifyRsa(key, "SHA-256", data, sha512Signature), false);
  assert.ok(cases.filter((c) => c.expected === true).length >= 24 && cases.filter((c) => c.expected === false).length >= 48);
  await assertAll(cases);
});

test("RSASSA-PKCS1-v1_5: Bleichenbacher's e=3 forgery (garbage after the hash) is refused", async () => {
  const key = rsaKey(3072, 3);
  const data = Buffer.from("kexec_hashes.txt the attacker wants signed\n");
  const { signature, encoded } = bleichenbacherForgery(key, data);
  // The attack is real: s³ carries the padding prefix, the DigestInfo and the hash a lax parser looks for.
  const digest = createHash("sha256").update(data).digest();
  assert.equal(encoded.subarray(0, 4).toString("hex"), "0001ff00");
  assert.ok(encoded.subarray(23, 55).equals(digest));
  assert.equal(verify("sha256", data, key.privateKey, signature), false);
  const [answer] = await runNative([rsaCase("forgery", key, "SHA-256", data, signature, false).case]);
  assert.equal(answer, false);
});

test("the RSA public operation equals BigInt's modular power on random moduli; s ≥ n, an even n and e = 0 are refused", async () => {
  await assertAll(rsaPublicCases());
});
