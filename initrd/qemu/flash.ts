// The QEMU board's flash: a ROM image file in the board's state directory, attached as a
// virtio disk with a fixed serial so bootward finds it (CONFIG_BOOTWARD_FLASH) whatever the
// disk order. It starts as an empty coreboot image (FMAP + CBFS) made by cbfstool and keeps
// what bootward writes into it across boots, as a real flash chip would.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { ensureTools, toolPath } from "../host-tools.ts";

export const FLASH_SERIAL = "bootward-flash";
export const FLASH_SIZE = 0x100000;

const hex = (n: number) => `0x${n.toString(16)}`;

/** Makes `path` an empty ROM image unless it exists; returns it. */
export function ensureFlashImage(path: string): string {
  if (existsSync(path)) return path;
  ensureTools(["cbfstool", "fmaptool"]);
  const work = mkdtempSync(join(dirname(path), ".flash-"));
  try {
    const fmd = `FLASH@${hex(2 ** 32 - FLASH_SIZE)} ${hex(FLASH_SIZE)} {\n\tBIOS@0x0 ${hex(FLASH_SIZE)} {\n\t\tFMAP@0x0 0x200\n\t\tCOREBOOT(CBFS)@0x200 ${hex(FLASH_SIZE - 0x200)}\n\t}\n}\n`;
    writeFileSync(join(work, "layout.fmd"), fmd);
    execFileSync(toolPath("fmaptool"), [join(work, "layout.fmd"), join(work, "layout.fmap")], { stdio: "ignore" });
    execFileSync(toolPath("cbfstool"), [join(work, "flash.rom"), "create", "-M", join(work, "layout.fmap")], { stdio: "ignore" });
    renameSync(join(work, "flash.rom"), path);
    return path;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** QEMU arguments that attach the image as a virtio disk with the board's flash serial. */
export function flashArgs(path: string): string[] {
  return ["-drive", `file=${path},if=none,id=flash,format=raw`, "-device", `virtio-blk-pci,drive=flash,serial=${FLASH_SERIAL}`];
}
