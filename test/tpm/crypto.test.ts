// The pure-TS crypto the TPM sessions need, checked against published vectors and node:crypto.
import { test } from "node:test";
import assert from "node:assert/strict";
import { constants, createCipheriv, createECDH, createHmac, generateKeyPairSync, privateDecrypt, randomBytes } from "node:crypto";
import { cfb128, encryptBlock, expandKey128 } from "../../tpm/crypto/aes.ts";
import { rsaOaepEncrypt } from "../../tpm/crypto/rsa.ts";
import { ecdhEphemeral, onCurve } from "../../tpm/crypto/p256.ts";
import { hmacSha1, kdfa, kdfe, sha256 } from "../../tpm/crypto/hash.ts";
import { TpmArgumentError, TpmFormatError } from "../../tpm/errors.ts";
import { fromHex, toHex, utf8 } from "../../lib/bytes.ts";

test("AES-128 FIPS-197 appendix C.1 vector", () => {
  const w = expandKey128(fromHex("000102030405060708090a0b0c0d0e0f"));
  assert.equal(toHex(encryptBlock(w, fromHex("00112233445566778899aabbccddeeff"))), "69c4e0d86a7b0430d8cdb78070b4c55a");
  assert.throws(() => expandKey128(new Uint8Array(15)), RangeError);
});

test("AES-128-CFB equals node:crypto both ways, any length", () => {
  for (const len of [0, 1, 15, 16, 17, 33, 128, 1000]) {
    const key = randomBytes(16);
    const iv = randomBytes(16);
    const data = randomBytes(len);
    const expected = createCipheriv("aes-128-cfb", key, iv).update(data);
    assert.equal(toHex(cfb128(key, iv, data, false)), expected.toString("hex"));
    assert.deepEqual(Buffer.from(cfb128(key, iv, expected, true)), data);
  }
});

test("RSA-OAEP (SHA-256, label SECRET) decrypts with node:crypto; too long is refused", () => {
  const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const n = Buffer.from((publicKey.export({ format: "jwk" }) as { n: string }).n, "base64url");
  const salt = randomBytes(32);
  const label = Buffer.from("SECRET\0");
  const ct = rsaOaepEncrypt(n, 0, salt, label, randomBytes(32));
  const pt = privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256", oaepLabel: label }, ct);
  assert.deepEqual(pt, salt);
  assert.throws(() => rsaOaepEncrypt(n, 0, new Uint8Array(200), label, randomBytes(32)), TpmArgumentError);
});

test("RSA-OAEP (SHA-1, label TCPA) as TPM_TakeOwnership needs decrypts with node:crypto; a wrong seed length is refused", () => {
  const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const n = Buffer.from((publicKey.export({ format: "jwk" }) as { n: string }).n, "base64url");
  const auth = randomBytes(20);
  const ct = rsaOaepEncrypt(n, 0, auth, Buffer.from("TCPA"), randomBytes(20), "sha1");
  const pt = privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha1", oaepLabel: Buffer.from("TCPA") }, ct);
  assert.deepEqual(pt, auth);
  assert.throws(() => rsaOaepEncrypt(n, 0, auth, Buffer.from("TCPA"), randomBytes(32), "sha1"), TpmArgumentError);
});

test("HMAC-SHA1 equals node:crypto over split parts", () => {
  for (const len of [0, 20, 64, 65, 200]) {
    const key = randomBytes(len);
    const a = randomBytes(33);
    const b = randomBytes(7);
    assert.equal(toHex(hmacSha1(key, a, b)), createHmac("sha1", key).update(a).update(b).digest("hex"));
  }
});

test("P-256 ECDH agrees with node:crypto; a point off the curve is refused", () => {
  for (let i = 0; i < 3; i++) {
    const peer = createECDH("prime256v1");
    peer.generateKeys();
    const pub = peer.getPublicKey();
    const r = ecdhEphemeral(pub.subarray(1, 33), pub.subarray(33), randomBytes(40));
    assert.ok(onCurve(BigInt("0x" + toHex(r.x)), BigInt("0x" + toHex(r.y))));
    assert.equal(peer.computeSecret(Buffer.concat([Buffer.of(4), r.x, r.y])).toString("hex"), toHex(r.z));
  }
  const bad = createECDH("prime256v1");
  bad.generateKeys();
  const p = bad.getPublicKey();
  p[64] ^= 1;
  assert.throws(() => ecdhEphemeral(p.subarray(1, 33), p.subarray(33), randomBytes(40)), TpmFormatError);
});

test("KDFa and KDFe follow Part 1's counter-mode definitions", () => {
  const key = randomBytes(32);
  const u = randomBytes(16);
  const v = randomBytes(16);
  const block = (i: number, bits: number) => createHmac("sha256", key).update(Buffer.from([0, 0, 0, i])).update("ATH\0").update(u).update(v).update(Buffer.from([0, 0, bits >> 8, bits & 255])).digest();
  assert.deepEqual(Buffer.from(kdfa(key, "ATH", u, v, 256)), block(1, 256));
  assert.deepEqual(Buffer.from(kdfa(key, "ATH", u, v, 384)), Buffer.concat([block(1, 384), block(2, 384)]).subarray(0, 48));
  const z = randomBytes(32);
  assert.deepEqual(kdfe(z, "SECRET", u, v, 256), sha256(Uint8Array.of(0, 0, 0, 1), z, utf8("SECRET\0"), u, v));
});

test("utf8 and hex helpers", () => {
  assert.deepEqual(Buffer.from(utf8("héllo €𝄞")), Buffer.from("héllo €𝄞", "utf8"));
  assert.equal(toHex(fromHex("00ff10")), "00ff10");
  assert.throws(() => fromHex("abc"), RangeError);
  assert.throws(() => fromHex("zz"), RangeError);
});
