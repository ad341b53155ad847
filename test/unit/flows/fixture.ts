// A fixture root for flow tests: a board config, a disk in /sys/block, /proc/meminfo and a
// secret on "tmpfs", so the flows read what they would read on the firmware.
import { after, before } from "node:test";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
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

/** Where the kernel puts a USB stick's disk in the device tree: its path runs through the USB port. */
const usbDiskDir = (name: string) => `sys/devices/pci0000:00/0000:00:1d.0/usb2/2-1/2-1:1.0/host6/target6:0:0/6:0:0:0/block/${name}`;

/** A USB stick's disk appears in /sys/block as the kernel shows it: a link into the device tree, its size, vendor and model. */
export function plugUsbDrive(root: string, name: string, sectors: number, vendor: string, model: string): void {
  const dir = join(root, usbDiskDir(name));
  mkdirSync(join(dir, "device"), { recursive: true });
  writeFileSync(join(dir, "size"), `${sectors}\n`);
  writeFileSync(join(dir, "device/vendor"), `${vendor}\n`);
  writeFileSync(join(dir, "device/model"), `${model}\n`);
  symlinkSync(`../../${usbDiskDir(name)}`, join(root, "sys/block", name));
}

export function unplugUsbDrive(root: string, name: string): void {
  rmSync(join(root, "sys/block", name));
  rmSync(join(root, usbDiskDir(name)), { recursive: true });
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
