// A small /boot on the host with two GRUB entries, a GnuPG home holding two signing keys
// (the owner's and a stranger's), and helpers to run the oracles (coreutils, GnuPG).
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const GRUB_CFG = `set default=0
menuentry 'Debian GNU/Linux' {
	linux	/vmlinuz-6.1 root=/dev/vda1 ro quiet
	initrd	/initrd.img-6.1
}
menuentry 'Debian GNU/Linux (recovery)' {
	linux	/vmlinuz-6.1 root=/dev/vda1 ro single
	initrd	/initrd.img-6.1
}
`;

export function makeBoot(): string {
  const root = mkdtempSync(join(tmpdir(), "bootward-boot-"));
  const boot = join(root, "boot");
  mkdirSync(join(boot, "grub", "fonts"), { recursive: true });
  writeFileSync(join(boot, "vmlinuz-6.1"), Buffer.alloc(300_000, 7));
  writeFileSync(join(boot, "initrd.img-6.1"), Buffer.alloc(200_000, 9));
  writeFileSync(join(boot, "config-6.1"), "CONFIG_X=y\n");
  writeFileSync(join(boot, "grub", "grub.cfg"), GRUB_CFG);
  writeFileSync(join(boot, "grub", "fonts", "unicode.pf2"), "font");
  writeFileSync(join(boot, "grub", "a.b"), "sorts before grub/a/ in byte order");
  mkdirSync(join(boot, "grub", "a"));
  writeFileSync(join(boot, "grub", "a", "x"), "x");
  mkdirSync(join(boot, "empty"));
  return boot;
}

export interface GpgHome {
  home: string;
  owner: string;
  stranger: string;
  gpg(args: string[], input?: Buffer | string): Buffer;
  /** Armoured public key of the owner only. */
  ownerPublic(): Buffer;
  ownerSecret(): Buffer;
  strangerSecret(): Buffer;
  cleanup(): void;
}

export function makeGpgHome(): GpgHome {
  const home = mkdtempSync(join(tmpdir(), "bootward-gnupg-"));
  chmodSync(home, 0o700);
  const gpg = (args: string[], input?: Buffer | string) =>
    execFileSync("gpg", ["--homedir", home, "--batch", "--no-tty", "--pinentry-mode", "loopback", "--passphrase", "", ...args], { input, stdio: ["pipe", "pipe", "pipe"] });
  const gen = (uid: string) => {
    gpg(["--quick-gen-key", uid, "ed25519", "sign", "never"]);
    const fpr = gpg(["--with-colons", "--list-keys", uid]).toString().split("\n").find((l) => l.startsWith("fpr:"))!.split(":")[9]!;
    return fpr;
  };
  const owner = gen("Owner <owner@bootward.test>");
  const stranger = gen("Stranger <stranger@bootward.test>");
  return {
    home,
    owner,
    stranger,
    gpg,
    ownerPublic: () => gpg(["--armor", "--export", owner]),
    ownerSecret: () => gpg(["--armor", "--export-secret-keys", owner]),
    strangerSecret: () => gpg(["--armor", "--export-secret-keys", stranger]),
    cleanup: () => rmSync(home, { recursive: true, force: true }),
  };
}

/** Heads' signed stream made by coreutils: `(cd dir; sha256sum kexec*.txt)` with bash's C-locale glob. */
export function coreutilsSignedStream(boot: string): Buffer {
  const names = execFileSync("find", [".", "-maxdepth", "1", "-name", "kexec*.txt", "-printf", "%f\\0"], { cwd: boot }).toString().split("\0").filter(Boolean);
  names.sort((a, b) => (Buffer.from(a) < Buffer.from(b) ? -1 : 1));
  return execFileSync("sha256sum", names, { cwd: boot });
}
