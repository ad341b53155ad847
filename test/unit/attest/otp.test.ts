// TOTP/HOTP against Debian's oathtool (the oracle), base32 against coreutils' base32, and
// the enrolment URL Heads builds.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { base32Decode, base32Encode, Base32Error } from "../../../runtime/attest/base32.ts";
import { hotpCode, OtpError, totpCode } from "../../../runtime/attest/otp.ts";
import { encodeLabel, enrolment, enrolmentScreen } from "../../../runtime/attest/enrol.ts";

const oath = (...args: string[]) => execFileSync("oathtool", args, { encoding: "utf8" }).trim().split("\n");

test("TOTP equals oathtool --totp at many times, for several secrets", () => {
  for (const secret of [Buffer.from("12345678901234567890"), randomBytes(20), randomBytes(20)]) {
    const b32 = base32Encode(secret);
    const times = [0, 29, 30, 59, 1111111109, 1234567890, 2000000000, 1700000000 + Math.floor(Math.random() * 1e8)];
    for (let i = 0; i < 24; i++) times.push(Math.floor(Math.random() * 4e9));
    for (const t of times) {
      const [want] = oath("--totp", "-b", `--now=@${t}`, b32);
      const got = totpCode(secret, t * 1000 + 999);
      assert.equal(got.code, want, `t=${t}`);
      assert.equal(got.expiresAt, (Math.floor(t / 30) + 1) * 30000);
      assert.ok(got.secondsLeft >= 1 && got.secondsLeft <= 30);
    }
  }
});

test("HOTP equals oathtool --hotp for counters 0..100", () => {
  const secret = randomBytes(20);
  const want = oath("--hotp", "-b", "-c", "0", "-w", "100", base32Encode(secret));
  assert.equal(want.length, 101);
  for (let c = 0; c <= 100; c++) assert.equal(hotpCode(secret, c), want[c], `counter ${c}`);
  // and the wrong secret gives other codes
  const other = Buffer.from(secret);
  other[0] ^= 1;
  assert.notDeepEqual(Array.from({ length: 101 }, (_, c) => hotpCode(other, c)), want);
});

test("bad inputs are refused", () => {
  assert.throws(() => hotpCode(new Uint8Array(0), 1), OtpError);
  assert.throws(() => hotpCode(randomBytes(20), -1), OtpError);
  assert.throws(() => hotpCode(randomBytes(20), 1.5), OtpError);
  assert.throws(() => totpCode(randomBytes(20), Number.NaN), OtpError);
  assert.throws(() => base32Decode("ABC1"), Base32Error);
  assert.throws(() => base32Decode("A"), Base32Error);
});

test("base32 matches coreutils base32 both ways", () => {
  for (const n of [0, 1, 2, 3, 4, 5, 19, 20, 21, 33]) {
    const b = randomBytes(n);
    const want = execFileSync("base32", ["-w0"], { input: b, encoding: "utf8" }).trim();
    assert.equal(base32Encode(b), want, `${n} bytes`);
    assert.deepEqual(Buffer.from(base32Decode(want)), b);
    assert.deepEqual(Buffer.from(base32Decode(want.toLowerCase().replace(/=/g, ""))), b);
  }
});

test("the enrolment URL is Heads' otpauth://totp/<BOARD_NAME>?secret=<base32>", () => {
  const secret = Buffer.from("12345678901234567890");
  const e = enrolment(secret, "qemu-coreboot-fbwhiptail-tpm2");
  assert.equal(e.url, "otpauth://totp/qemu-coreboot-fbwhiptail-tpm2?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
  assert.equal(e.grouped, "GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ");
  assert.equal(enrolment(secret).url, "otpauth://totp/TPMTOTP?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
  assert.equal(encodeLabel("ThinkPad X230/ü?"), "ThinkPad%20X230%2F%C3%BC%3F");
  // the base32 in the URL is what oathtool computes codes from
  const b32 = new URL(e.url).searchParams.get("secret")!;
  assert.equal(oath("--totp", "-b", "--now=@1234567890", b32)[0], totpCode(secret, 1234567890000).code);
  const screen = enrolmentScreen(e, Date.UTC(2026, 0, 2, 3, 4, 5));
  assert.equal(screen.payload, e.url);
  assert.match(screen.text, /2026-01-02 03:04:05 UTC/);
  assert.match(screen.text, /GEZD GNBV/);
});
