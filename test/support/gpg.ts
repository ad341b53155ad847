// GnuPG-made signature vectors for the engine tests: real keys and signatures from
// GnuPG 2.2 (the interop oracle), made fresh in a throwaway GNUPGHOME at test time.
//
// Layout written to `dir`, one vector per <name>:
//   <name>.pub.asc  the armoured public key(s) to verify against
//   <name>.data     the signed bytes
//   <name>.sig      the detached signature (binary for RSA, armoured for Ed25519)
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

function gpgRun(home: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile("gpg", ["--homedir", home, "--batch", "--no-tty", ...args], { encoding: "utf8" }, (error, stdout, stderr) => {
      if (error) reject(new Error(`gpg ${args.join(" ")} failed: ${stderr.trim()}`));
      else resolve(stdout);
    });
  });
}

async function generate(home: string, uid: string, algo: string): Promise<string> {
  await gpgRun(home, ["--pinentry-mode", "loopback", "--passphrase", "", "--quick-gen-key", uid, algo, "sign", "never"]);
  const listing = await gpgRun(home, ["--with-colons", "--list-keys", uid]);
  const fpr = listing.split("\n").find((l) => l.startsWith("fpr:"))?.split(":")[9];
  if (!fpr) throw new Error(`gpg did not list a fingerprint for ${uid}`);
  return fpr;
}

export interface GpgVectors {
  /** The vector directory with the good vectors (pass it to `selftest --vectors`). */
  dir: string;
  fingerprints: { rsa3072: string; ed25519: string };
  /**
   * A sibling directory with copies of the good vectors plus one bad vector named `kind`:
   * "tampered" (Ed25519 data with one byte changed after signing) or "foreign" (signed by
   * the RSA key, but only the Ed25519 public key given).
   */
  withBadVector(kind: "tampered" | "foreign"): Promise<string>;
  /** Both public keys as one binary keyring (`gpg --export`, no armour). */
  binaryKeyring(): Promise<Uint8Array>;
  cleanup(): Promise<void>;
}

const GOOD = ["rsa3072", "ed25519"] as const;

export async function makeGpgVectors(): Promise<GpgVectors> {
  const root = await mkdtemp(join(tmpdir(), "bootward-gpg-"));
  const home = join(root, "home");
  const dir = join(root, "vectors");
  await mkdir(home, { mode: 0o700 });
  await chmod(home, 0o700);
  await mkdir(dir);

  const fingerprints = {
    rsa3072: await generate(home, "bootward test RSA <rsa@bootward.test>", "rsa3072"),
    ed25519: await generate(home, "bootward test Ed25519 <ed25519@bootward.test>", "ed25519"),
  };

  const sign = async (fpr: string, dataFile: string, sigFile: string, armor: boolean) => {
    await gpgRun(home, [
      "--pinentry-mode", "loopback", "--passphrase", "", "--local-user", fpr, "--digest-algo", "SHA256",
      ...(armor ? ["--armor"] : []), "--output", sigFile, "--detach-sign", dataFile,
    ]);
  };
  const exportKey = async (fpr: string, file: string) => {
    await gpgRun(home, ["--armor", "--output", file, "--export", fpr]);
  };

  for (const name of GOOD) {
    const data = Buffer.concat([Buffer.from(`bootward vector ${name}\n`), randomBytes(4096)]);
    await writeFile(join(dir, `${name}.data`), data);
    await sign(fingerprints[name], join(dir, `${name}.data`), join(dir, `${name}.sig`), name === "ed25519");
    await exportKey(fingerprints[name], join(dir, `${name}.pub.asc`));
  }

  return {
    dir,
    fingerprints,
    async withBadVector(kind) {
      const target = join(root, `vectors-${kind}`);
      await rm(target, { recursive: true, force: true });
      await mkdir(target);
      for (const name of GOOD) {
        for (const ext of [".data", ".sig", ".pub.asc"]) await copyFile(join(dir, name + ext), join(target, name + ext));
      }
      if (kind === "tampered") {
        const data = await readFile(join(dir, "ed25519.data"));
        data[0] = data[0]! ^ 0x01;
        await writeFile(join(target, "tampered.data"), data);
        await copyFile(join(dir, "ed25519.sig"), join(target, "tampered.sig"));
        await copyFile(join(dir, "ed25519.pub.asc"), join(target, "tampered.pub.asc"));
      } else {
        await writeFile(join(target, "foreign.data"), Buffer.from("signed by a key the keyring does not hold\n"));
        await sign(fingerprints.rsa3072, join(target, "foreign.data"), join(target, "foreign.sig"), false);
        await exportKey(fingerprints.ed25519, join(target, "foreign.pub.asc"));
      }
      return target;
    },
    async binaryKeyring() {
      const file = join(root, "keyring.gpg");
      await gpgRun(home, ["--yes", "--output", file, "--export", fingerprints.rsa3072, fingerprints.ed25519]);
      return new Uint8Array(await readFile(file));
    },
    async cleanup() {
      await new Promise<void>((resolve) => {
        execFile("gpgconf", ["--homedir", home, "--kill", "gpg-agent"], () => resolve());
      });
      await rm(root, { recursive: true, force: true });
    },
  };
}
