// A fixture root for flow tests: a board config, a disk in /sys/block, /proc/meminfo and a
// secret on "tmpfs", so the flows read what they would read on the firmware.
import { after, before } from "node:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startSwtpm, type Swtpm } from "../../support/swtpm.ts";
import { makeGpgHome, type GpgHome } from "../../boot/support.ts";

export function makeRoot(extraConfig = ""): string {
  const root = mkdtempSync(join(tmpdir(), "bootward-flows-"));
  mkdirSync(join(root, "etc"));
  writeFileSync(
    join(root, "etc/config"),
    `export CONFIG_BOARD="qemu-tpm2"\nexport CONFIG_BOARD_NAME="Test Board"\nexport CONFIG_BRAND_NAME="Acme"\n${extraConfig}`,
  );
  mkdirSync(join(root, "sys/block/vda"), { recursive: true });
  writeFileSync(join(root, "sys/block/vda/size"), "131072\n"); // 64 MiB in 512-byte sectors
  mkdirSync(join(root, "sys/block/loop0"), { recursive: true });
  writeFileSync(join(root, "sys/block/loop0/size"), "2048\n");
  mkdirSync(join(root, "proc"));
  writeFileSync(join(root, "proc/meminfo"), "MemTotal:        1014360 kB\nMemFree:          900000 kB\n");
  mkdirSync(join(root, "tmp/secret/nested"), { recursive: true });
  writeFileSync(join(root, "tmp/secret/totp.key"), "SECRET");
  writeFileSync(join(root, "tmp/secret/nested/disk.key"), "KEY");
  return root;
}

export interface Rig {
  sw: Swtpm;
  gpg: GpgHome;
  /** Temporary directories removed after the file's tests. */
  dirs: string[];
}

/** A swtpm and a GnuPG home (owner and stranger keys) for one test file, started before its tests and removed after. */
export function useRig(): Rig {
  const rig = { dirs: [] as string[] } as Rig;
  before(async () => {
    rig.sw = await startSwtpm("2.0");
    rig.gpg = makeGpgHome();
  });
  after(async () => {
    await rig.sw.stop();
    rig.gpg.cleanup();
    for (const d of rig.dirs) rmSync(d, { recursive: true, force: true });
  });
  return rig;
}
