// Where the ROM image lives and how it is read and written. CONFIG_BOOTWARD_FLASH names it:
// a file or block device holding the whole image ("/dev/vdb", a fixture file), or
// "serial:NAME", the virtio disk with that serial (the QEMU board's file-backed flash).
// Without it, Heads' CONFIG_FLASH_OPTIONS names the flasher of a real board (flashrom.ts).
import type { Sys } from "../host/sys.ts";
import type { Config } from "../config/parse.ts";
import { describeError } from "../errors.ts";
import { flashromDevice } from "./flashrom.ts";
import { FlashError, type FlashDevice } from "./face.ts";

export { FlashError, type FlashDevice };

function bySerial(sys: Sys, serial: string): string | null {
  const dir = "/sys/block";
  if (!sys.stat(dir)) return null;
  for (const name of sys.readdir(dir).sort()) {
    const file = `${dir}/${name}/serial`;
    if (sys.stat(file) && sys.readText(file).trim() === serial) return `/dev/${name}`;
  }
  return null;
}

/** The board's flash, or null when the board declares none. */
export function flashDevice(sys: Sys, config: Config): FlashDevice | null {
  const setting = config.CONFIG_BOOTWARD_FLASH;
  if (!setting) {
    const flasher = config.CONFIG_FLASH_OPTIONS;
    return flasher && flasher.trim() !== "" ? flashromDevice(sys, flasher) : null;
  }
  let path = setting;
  if (setting.startsWith("serial:")) {
    const found = bySerial(sys, setting.slice("serial:".length));
    if (!found) throw new FlashError(`no disk has the serial "${setting.slice(7)}" that CONFIG_BOOTWARD_FLASH names; is the flash device attached?`);
    path = found;
  }
  return {
    name: path,
    async read() {
      try {
        return sys.readFile(path);
      } catch (error) {
        throw new FlashError(`the ROM image could not be read from ${path}: ${describeError(error)}`);
      }
    },
    async write(image) {
      // A block device cannot change size (and stat calls it 0 bytes): its size is what reads back.
      const before = sys.readFile(path).length;
      if (before !== image.length) throw new FlashError(`the new ROM image is ${image.length} bytes but ${path} holds ${before}; nothing was written`);
      try {
        sys.writeFile(path, image);
        await sys.exec(["sync"]);
      } catch (error) {
        throw new FlashError(`writing the ROM image to ${path} failed: ${describeError(error)}; run the OEM factory reset again`);
      }
    },
  };
}
