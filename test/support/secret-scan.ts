// What must never lie in the clear on /boot or a USB drive: the TOTP/HOTP secret (its raw 20
// bytes, or the base32 text the QR code carries), a passphrase, and an OpenPGP secret key,
// armoured or as binary packets. GnuPG reads the packets, so an unprotected key is told from
// a passphrase-protected copy (the backup drive may hold one) whatever its encoding.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { base32Encode } from "../../runtime/attest/base32.ts";

export interface KnownSecrets {
  passphrases: string[];
  /** Candidate TOTP secrets: every 20-byte random draw of the run. */
  totp: Uint8Array[];
  /** True for /boot: not even a passphrase-protected secret key belongs there. */
  noSecretKeyAtAll?: boolean;
}

/** "file: what" for each secret found; empty when the files are clean. */
export function secretsFound(files: string[], known: KnownSecrets): string[] {
  const found: string[] = [];
  const home = mkdtempSync(join(tmpdir(), "bootward-scan-"));
  try {
    for (const file of files) {
      const raw = readFileSync(file);
      for (const p of known.passphrases) if (raw.includes(p)) found.push(`${file}: the passphrase`);
      for (const t of known.totp) {
        if (raw.includes(Buffer.from(t))) found.push(`${file}: the raw TOTP secret`);
        if (raw.includes(base32Encode(t))) found.push(`${file}: the TOTP secret in base32`);
      }
      const packets = listPackets(home, file);
      if (/^:secret (sub )?key packet:/m.test(packets)) {
        // A key in the clear lists its secret parameters by size; a protected one says "protected".
        if (/skey\[\d+\]: \[\d+ bits\]/.test(packets)) found.push(`${file}: an unprotected OpenPGP secret key`);
        else if (known.noSecretKeyAtAll) found.push(`${file}: a (protected) OpenPGP secret key`);
      }
      if (known.noSecretKeyAtAll && raw.includes("PRIVATE KEY BLOCK")) found.push(`${file}: an armoured OpenPGP secret key`);
    }
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
  return found;
}

function listPackets(home: string, file: string): string {
  try {
    return execFileSync("gpg", ["--homedir", home, "--batch", "--no-autostart", "--list-packets", file], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  } catch (error) {
    // Not OpenPGP data (a kernel, a config): gpg fails, having printed what it parsed, if anything.
    return String((error as { stdout?: string }).stdout ?? "");
  }
}
