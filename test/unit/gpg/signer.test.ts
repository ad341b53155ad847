// A signer's secret key does not outlive its use: forget() zeroes openpgp's private key
// parameters in place, and a forgotten signer refuses to sign rather than fail obscurely.
import assert from "node:assert/strict";
import { test } from "node:test";
import * as openpgp from "openpgp";
import { inMemorySigner, signerOf, SignerError } from "../../../gpg/sign.ts";
import { readKeyring, verifyDetached } from "../../../gpg/verify.ts";

type WithParams = { privateParams: Record<string, Uint8Array> | null };

test("forget zeroes the key's private parameters where they lie and stops the signer", async () => {
  const { privateKey, publicKey } = await openpgp.generateKey({ type: "ecc", curve: "ed25519Legacy", userIDs: [{ name: "Forget" }], format: "object" });
  const params = Object.values((privateKey.keyPacket as unknown as WithParams).privateParams!);
  assert.ok(params.length > 0 && params.some((p) => p.some((b) => b !== 0)), "the fresh key holds secret bytes");
  const signer = signerOf(privateKey);
  const data = new TextEncoder().encode("lists");
  const signature = await signer.signDetached(data);
  assert.equal((await verifyDetached({ data, signature, keys: await readKeyring(publicKey.armor()) })).fingerprint, signer.fingerprint);
  signer.forget();
  for (const p of params) assert.ok(p.every((b) => b === 0), "a secret parameter survives forget()");
  await assert.rejects(signer.signDetached(data), (e: unknown) => e instanceof SignerError && /cleared from memory/.test(e.message));
});

test("a signer unlocked from a protected key forgets its decrypted copy", async () => {
  const { privateKey } = await openpgp.generateKey({ type: "ecc", curve: "ed25519Legacy", userIDs: [{ name: "Locked" }], format: "object" });
  const locked = await openpgp.encryptKey({ privateKey, passphrase: "pass" });
  const signer = await inMemorySigner(locked.armor(), new TextEncoder().encode("pass"));
  await signer.signDetached(new Uint8Array(1));
  signer.forget();
  await assert.rejects(signer.signDetached(new Uint8Array(1)), SignerError);
});
