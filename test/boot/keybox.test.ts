// The ROM keyring as Heads keeps it: GnuPG 2.2's pubring.kbx. Real keyboxes from
// `gpg --import` verify GnuPG's signatures; keys outside the keybox are refused; truncated,
// bit-flipped, hostile and garbage keyboxes end in a SignatureError, never anything else.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readKeyring, SignatureError, verifyDetached } from "../../gpg/verify.ts";
import { isKeybox, keyboxKeyblocks } from "../../gpg/keybox.ts";
import { makeGpgHome, type GpgHome } from "./support.ts";
import { keyboxBlobs, makeKeybox, mutateKeybox } from "./keybox-support.ts";
import { rng } from "../unit/boot/fuzz-inputs.ts";

let gpg: GpgHome;
let one: Buffer;
let several: Buffer;
let withX509: Buffer;
const data = Buffer.from("kexec_hashes.txt and friends, as sha256sum lists them\n");

before(() => {
  gpg = makeGpgHome();
  one = makeKeybox(gpg, [gpg.owner]);
  several = makeKeybox(gpg, [gpg.stranger, gpg.owner]);
  withX509 = makeKeybox(gpg, [gpg.owner], { x509: true });
});
after(() => gpg.cleanup());

const signBy = (fpr: string) => gpg.gpg(["--local-user", fpr, "--digest-algo", "SHA256", "--detach-sign"], data);

async function refusedKeyring(kbx: Uint8Array, pattern?: RegExp): Promise<SignatureError> {
  try {
    await readKeyring(kbx);
  } catch (e) {
    assert.ok(e instanceof SignatureError, `expected a SignatureError, got ${e}`);
    assert.ok(e.reason === "malformed-keyring" || e.reason === "empty-keyring", e.message);
    if (pattern) assert.match(e.message, pattern);
    return e;
  }
  assert.fail("the keybox was accepted");
}

/** The blob at `index` rewritten by `edit`, its SHA-1 checksum made valid again, so only the structure checks can catch it. */
function reforged(kbx: Buffer, index: number, edit: (blob: Buffer) => void): Buffer {
  const out = Buffer.from(kbx);
  const { at, length } = keyboxBlobs(kbx)[index]!;
  const blob = out.subarray(at, at + length);
  edit(blob);
  createHash("sha1").update(blob.subarray(0, length - 20)).digest().copy(blob, length - 20);
  return out;
}

test("a pubring.kbx made by GnuPG with one key verifies GnuPG's signature", async () => {
  assert.ok(isKeybox(one));
  const keys = await readKeyring(one);
  assert.deepEqual(keys.map((k) => k.getFingerprint().toUpperCase()), [gpg.owner]);
  const v = await verifyDetached({ data, signature: signBy(gpg.owner), keys });
  assert.equal(v.fingerprint, gpg.owner);
});

test("a keybox with several keys: each signer is found, in file order", async () => {
  const keys = await readKeyring(several);
  assert.deepEqual(keys.map((k) => k.getFingerprint().toUpperCase()), [gpg.stranger, gpg.owner]);
  assert.equal((await verifyDetached({ data, signature: signBy(gpg.owner), keys })).fingerprint, gpg.owner);
  assert.equal((await verifyDetached({ data, signature: signBy(gpg.stranger), keys })).fingerprint, gpg.stranger);
});

test("a key that is not in the keybox is refused, and a changed message with a listed key too", async () => {
  const keys = await readKeyring(one);
  await assert.rejects(verifyDetached({ data, signature: signBy(gpg.stranger), keys }), (e: unknown) => e instanceof SignatureError && e.reason === "unknown-key");
  await assert.rejects(verifyDetached({ data: Buffer.concat([data, Buffer.from("x")]), signature: signBy(gpg.owner), keys }), (e: unknown) => e instanceof SignatureError && e.reason === "bad-signature");
});

test("X.509 blobs imported by gpgsm are skipped", async () => {
  assert.deepEqual(keyboxBlobs(withX509).map((b) => b.type), [1, 3, 2]);
  assert.equal(keyboxKeyblocks(withX509).length, 1);
  const keys = await readKeyring(withX509);
  assert.deepEqual(keys.map((k) => k.getFingerprint().toUpperCase()), [gpg.owner]);
  // A keybox holding only certificates holds no OpenPGP key.
  const certOnly = withX509.subarray(0, keyboxBlobs(withX509)[2]!.at);
  await refusedKeyring(certOnly, /no public key/);
});

test("every truncation is refused unless it ends exactly between blobs", async () => {
  const blobs = keyboxBlobs(several);
  const ends = new Map(blobs.map((b, i) => [b.at + b.length, i]));
  for (let cut = 0; cut < several.length; cut++) {
    const blobsKept = ends.get(cut);
    if (blobsKept === undefined) {
      await refusedKeyring(several.subarray(0, cut));
    } else if (blobsKept === 0) {
      await refusedKeyring(several.subarray(0, cut), /no public key/);
    } else {
      // A keybox cut between blobs is a shorter valid keybox: it holds the keys before the cut.
      assert.equal((await readKeyring(several.subarray(0, cut))).length, blobsKept);
    }
  }
  await refusedKeyring(several.subarray(0, several.length - 7), /truncated/);
});

test("every single bit flipped in an OpenPGP blob is refused", async () => {
  const header = keyboxBlobs(one)[0]!.length;
  for (let byte = header; byte < one.length; byte++) {
    for (let bit = 0; bit < 8; bit++) {
      const flipped = Buffer.from(one);
      flipped[byte]! ^= 1 << bit;
      await refusedKeyring(flipped);
    }
  }
  const flipped = Buffer.from(one);
  flipped[header + 100]! ^= 4;
  await refusedKeyring(flipped, /checksum/);
});

test("hostile blobs with valid checksums are refused by the structure checks", async () => {
  const cases: [string, (b: Buffer) => void, RegExp][] = [
    ["fingerprint of another key", (b) => void (b[20]! ^= 1), /not the key/],
    ["keyblock past the blob", (b) => b.writeUInt32BE(b.length, 8), /outside/],
    ["keyblock longer than the blob", (b) => b.writeUInt32BE(0xffffffff, 12), /outside/],
    ["keyblock over the key records", (b) => b.writeUInt32BE(4, 8), /outside/],
    ["no key", (b) => b.writeUInt16BE(0, 16), /lists no key/],
    ["65535 keys", (b) => b.writeUInt16BE(0xffff, 16), /do not fit/],
    ["key records too small", (b) => b.writeUInt16BE(27, 18), /fewer than/],
    ["blob version 2", (b) => void (b[5] = 2), /blob version 2/],
    ["garbage keyblock", (b) => b.fill(0x41, b.readUInt32BE(8), b.readUInt32BE(8) + b.readUInt32BE(12)), /cannot read the keyring/],
  ];
  for (const [name, edit, pattern] of cases) {
    const e = await refusedKeyring(reforged(one, 1, edit), pattern);
    assert.match(e.message, /^cannot read the keyring: /, name);
  }
  const header = keyboxBlobs(one)[0]!.length;
  const withLength = (n: number) => { const b = Buffer.from(one); b.writeUInt32BE(n, header); return b; };
  await refusedKeyring(withLength(0), /less than any blob/);
  await refusedKeyring(withLength(0xffffffff), /truncated/);
  const unknownType = Buffer.from(one);
  unknownType[header + 4] = 7;
  await refusedKeyring(unknownType, /unknown blob type 7/);
  await refusedKeyring(Buffer.concat([one, one.subarray(0, header)]), /second header/);
});

test("a parser bug is not passed off as a malformed keyring, so the fuzz below can catch one", async () => {
  // A TypeError inside the reader (here from input no caller can produce) must escape as itself.
  await assert.rejects(readKeyring({ length: 8, subarray: () => { throw new TypeError("a bug"); } } as never), (e: unknown) => e instanceof TypeError && !(e instanceof SignatureError));
});

test("garbage and mutated keyboxes give a SignatureError or a subset of the keys, nothing else", async () => {
  const r = rng(0x6b6278);
  const fingerprints = new Set([gpg.stranger, gpg.owner]);
  for (let k = 0; k < 2000; k++) {
    const input = mutateKeybox(r, several);
    try {
      const keys = await readKeyring(input);
      for (const key of keys) assert.ok(fingerprints.has(key.getFingerprint().toUpperCase()), `input ${k} produced a key that was never in the keybox`);
    } catch (e) {
      assert.ok(e instanceof SignatureError, `input ${k} threw ${String(e)}`);
    }
  }
  await refusedKeyring(Buffer.alloc(4096));
  await refusedKeyring(Buffer.from("KBXf"));
});
