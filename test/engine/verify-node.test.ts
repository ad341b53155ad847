// gpg/verify.ts on Node (the same code runs on QuickJS in the other engine tests),
// against keys and signatures GnuPG made at test time.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { readKeyring, SignatureError, verifyDetached } from "../../gpg/verify.ts";
import { makeGpgVectors, type GpgVectors } from "../support/gpg.ts";

let vectors: GpgVectors;
const file = (name: string) => readFile(join(vectors.dir, name));

before(async () => {
  vectors = await makeGpgVectors();
});

after(async () => {
  await vectors?.cleanup();
});

async function rejection(promise: Promise<unknown>): Promise<SignatureError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof SignatureError, `not a SignatureError: ${String(error)}`);
    return error;
  }
  assert.fail("accepted");
}

test("GnuPG's RSA 3072 (binary sig) and Ed25519 (armoured sig) signatures verify", async () => {
  for (const name of ["rsa3072", "ed25519"] as const) {
    const keys = await readKeyring(await file(`${name}.pub.asc`));
    const result = await verifyDetached({ data: await file(`${name}.data`), signature: await file(`${name}.sig`), keys });
    assert.equal(result.valid, true);
    assert.equal(result.fingerprint, vectors.fingerprints[name]);
    assert.equal(result.keyId, vectors.fingerprints[name].slice(-16));
  }
});

test("a binary keyring and concatenated armoured blocks both hold both keys", async () => {
  const binary = await readKeyring(await vectors.binaryKeyring());
  const armoured = await readKeyring(Buffer.concat([await file("rsa3072.pub.asc"), await file("ed25519.pub.asc")]));
  for (const keys of [binary, armoured]) {
    assert.deepEqual(keys.map((k) => k.getFingerprint().toUpperCase()).sort(), Object.values(vectors.fingerprints).sort());
    const result = await verifyDetached({ data: await file("ed25519.data"), signature: await file("ed25519.sig"), keys });
    assert.equal(result.fingerprint, vectors.fingerprints.ed25519);
  }
});

test("changed data, a foreign signer, garbage and an empty keyring are each rejected with their reason", async () => {
  const rsaKeys = await readKeyring(await file("rsa3072.pub.asc"));
  const edKeys = await readKeyring(await file("ed25519.pub.asc"));
  const data = await file("rsa3072.data");
  data[10] = data[10]! ^ 0x80;
  assert.equal((await rejection(verifyDetached({ data, signature: await file("rsa3072.sig"), keys: rsaKeys }))).reason, "bad-signature");
  const foreign = await rejection(verifyDetached({ data: await file("rsa3072.data"), signature: await file("rsa3072.sig"), keys: edKeys }));
  assert.equal(foreign.reason, "unknown-key");
  const garbage = await rejection(verifyDetached({ data, signature: new Uint8Array([1, 2, 3, 4]), keys: rsaKeys }));
  assert.equal(garbage.reason, "malformed-signature");
  assert.equal((await rejection(verifyDetached({ data, signature: await file("rsa3072.sig"), keys: [] }))).reason, "empty-keyring");
  assert.equal((await rejection(readKeyring("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nnot a key\n"))).reason, "malformed-keyring");
});
