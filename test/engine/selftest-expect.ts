// What a selftest run must print, shared by the WebAssembly and the native engine tests.
import assert from "node:assert/strict";

export function selftestLines(stdout: string, stderr: string): string[] {
  return `${stdout}\n${stderr}`.split("\n").filter((l) => l.startsWith("ok ") || l.startsWith("FAIL "));
}

/** Every check passed, and the GnuPG vectors were verified by the keys GnuPG made. */
export function assertAllOk(lines: string[], fingerprints: { rsa3072: string; ed25519: string }): void {
  const failed = lines.filter((l) => !l.startsWith("ok "));
  assert.deepEqual(failed, [], `failed checks:\n${failed.join("\n")}`);
  for (const want of [/^ok BigInt/, /^ok openpgp: Ed25519/, /^ok openpgp: tampered message rejected/, /^ok otplib: RFC 6238/, /^ok ink: /]) {
    assert.ok(lines.some((l) => want.test(l)), `no line matches ${want}: ${lines.join(" | ")}`);
  }
  for (const [name, fpr] of Object.entries(fingerprints)) {
    assert.ok(
      lines.includes(`ok gpg vector ${name}: good signature by ${fpr}, changed byte rejected`),
      `vector ${name} not verified as signed by ${fpr}:\n${lines.join("\n")}`,
    );
  }
}

/** Exactly one FAIL, for the bad vector, with the expected reason; the good vectors still pass. */
export function assertOnlyVectorFails(lines: string[], name: string, reason: RegExp): void {
  const failed = lines.filter((l) => l.startsWith("FAIL "));
  assert.equal(failed.length, 1, `expected one FAIL line, got:\n${lines.join("\n")}`);
  assert.match(failed[0]!, new RegExp(`^FAIL gpg vector ${name}: `));
  assert.match(failed[0]!, reason);
  assert.ok(lines.some((l) => l.startsWith("ok gpg vector rsa3072:")), "the good RSA vector no longer passes");
  assert.ok(lines.some((l) => l.startsWith("ok gpg vector ed25519:")), "the good Ed25519 vector no longer passes");
}
