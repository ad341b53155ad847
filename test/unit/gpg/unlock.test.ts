// A protected secret key is unlocked from the passphrase bytes, never a string: the S2K runs
// in gpg/unlock.ts. Checked against a key GnuPG 2.2 protected (its defaults, a non-ASCII
// passphrase, a subkey) and against openpgp's own S2K on random inputs.
import assert from "node:assert/strict";
import { test } from "node:test";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import * as openpgp from "openpgp";
import { inMemorySigner } from "../../../gpg/sign.ts";
import { SignerError } from "../../../gpg/errors.ts";
import { readKeyring, verifyDetached } from "../../../gpg/verify.ts";
import { stringToKey, unlockSecretKey } from "../../../gpg/unlock.ts";

const PASSPHRASE = "Grüße aus der Küche 42";
const bytes = (s: string) => new TextEncoder().encode(s);

interface GnupgKey {
  secret: Uint8Array;
  publicKey: string;
}

function gnupgKey(): GnupgKey {
  const home = mkdtempSync(join(tmpdir(), "bootward-unlock-"));
  const gpg = (args: string[]) => execFileSync("gpg", ["--homedir", home, "--batch", "--no-tty", "--pinentry-mode", "loopback", "--passphrase", PASSPHRASE, ...args]);
  try {
    gpg(["--quick-gen-key", "Unlock Test <unlock@bootward.test>", "ed25519", "sign", "never"]);
    const fpr = gpg(["--with-colons", "--list-keys"]).toString().split("\n").find((l) => l.startsWith("fpr:"))!.split(":")[9]!;
    gpg(["--quick-add-key", fpr, "cv25519", "encr", "never"]);
    return { secret: new Uint8Array(gpg(["--export-secret-keys", fpr])), publicKey: gpg(["--armor", "--export", fpr]).toString() };
  } finally {
    try {
      execFileSync("gpgconf", ["--homedir", home, "--kill", "gpg-agent"]);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  }
}

type S2KView = { type: string; algorithm: number; c: number };
const s2kOf = (key: openpgp.PrivateKey) => key.getKeys().map((k) => (k.keyPacket as unknown as { s2k: S2KView }).s2k);

test("a key GnuPG 2.2 protected (iterated SHA-1 S2K, primary and subkey) unlocks from the passphrase bytes and signs", async () => {
  const made = gnupgKey();
  const s2ks = s2kOf(await openpgp.readPrivateKey({ binaryKey: made.secret }));
  assert.deepEqual(s2ks.map((s) => [s.type, s.algorithm]), [["iterated", openpgp.enums.hash.sha1], ["iterated", openpgp.enums.hash.sha1]]);
  const passphrase = bytes(PASSPHRASE);
  const signer = await inMemorySigner(made.secret, passphrase);
  const data = bytes("kexec_hashes.txt");
  const verified = await verifyDetached({ data, signature: await signer.signDetached(data), keys: await readKeyring(made.publicKey) });
  assert.equal(verified.fingerprint, signer.fingerprint);
  assert.ok(passphrase.some((b) => b !== 0), "the caller's bytes are the caller's to wipe");
  signer.forget();
});

test("a wrong passphrase (one byte off) is refused and leaves nothing decrypted", async () => {
  const made = gnupgKey();
  const wrong = bytes(PASSPHRASE);
  wrong[wrong.length - 1] ^= 1;
  await assert.rejects(inMemorySigner(made.secret, wrong), (e: unknown) => e instanceof SignerError && /does not unlock/.test(e.message));
  const key = await openpgp.readPrivateKey({ binaryKey: made.secret });
  await assert.rejects(unlockSecretKey(key, wrong), SignerError);
  for (const k of key.getKeys()) assert.equal((k.keyPacket as unknown as { isDecrypted(): boolean }).isDecrypted(), false);
  await assert.rejects(inMemorySigner(made.secret), (e: unknown) => e instanceof SignerError && /protected by a passphrase/.test(e.message));
});

test("the S2K on bytes equals openpgp's own string S2K for every type, supported hash and several counts", async () => {
  const { privateKey } = await openpgp.generateKey({ type: "ecc", curve: "ed25519Legacy", userIDs: [{ name: "S2K" }], format: "object" });
  const locked = await openpgp.encryptKey({ privateKey, passphrase: "x", config: { s2kIterationCountByte: 0 } });
  const s2k = s2kOf(locked)[0]! as S2KView & Parameters<typeof stringToKey>[0];
  const hashes = ["sha1", "sha224", "sha256", "sha384", "sha512"] as const;
  let i = 0;
  for (const type of ["simple", "salted", "iterated"]) {
    for (const hash of hashes) {
      Object.assign(s2k, { type, algorithm: openpgp.enums.hash[hash], c: (i * 37) % 256 });
      const text = randomBytes(1 + ((i * 11) % 40)).toString("base64");
      const size = [16, 24, 32, 48, 80][i % 5]!;
      assert.deepEqual(stringToKey(s2k, bytes(text), size), await s2k.produceKey(text, size, openpgp.config), `${type} ${hash} c=${s2k.c} size ${size}`);
      i++;
    }
  }
  for (let i = 0; i < 3; i++) {
    const text = randomBytes(1 + i * 7).toString("base64");
    const locked = await openpgp.encryptKey({ privateKey, passphrase: text, config: { s2kIterationCountByte: i * 9 } });
    const unlocked = await unlockSecretKey(await openpgp.readPrivateKey({ armoredKey: locked.armor() }), bytes(text));
    assert.equal(unlocked.isDecrypted(), true, `case ${i}`);
    const wrong = bytes(text + "x");
    await assert.rejects(unlockSecretKey(await openpgp.readPrivateKey({ armoredKey: locked.armor() }), wrong), SignerError, `case ${i} wrong passphrase`);
  }
});

test("an Argon2-protected key is refused with a sentence naming the S2K, not a crash", async () => {
  const { privateKey } = await openpgp.generateKey({ type: "ecc", curve: "ed25519Legacy", userIDs: [{ name: "Argon" }], format: "object" });
  const locked = await openpgp.encryptKey({ privateKey, passphrase: "argon pass", config: { aeadProtect: true, s2kType: openpgp.enums.s2k.argon2, s2kArgon2Params: { passes: 1, parallelism: 1, memoryExponent: 10 } } });
  await assert.rejects(inMemorySigner(locked.armor(), bytes("argon pass")), (e: unknown) => e instanceof SignerError && /argon2 S2K/.test(e.message));
});
