// The user's files in the ROM: what Heads' cbfs-init copies from CBFS into the initramfs and
// measures into PCR 7 — every raw file named heads/initrd/…, in listing order, its path being
// the name after "heads/initrd" (heads/initrd/.gnupg/pubring.kbx → /.gnupg/pubring.kbx).

import { CBFS_TYPE_RAW, CbfsError, addFile, entryData, listFiles, readCbfs, removeFile } from "./cbfs.ts";

export const USER_FILES_PREFIX = "heads/initrd";

export interface UserFile {
  /** Where the file belongs in the running system, e.g. /.gnupg/pubring.kbx. */
  path: string;
  cbfsName: string;
  data: Uint8Array;
}

/** A path the boot can write the file to: absolute, no empty, "." or ".." component. */
const plainPath = (path: string) => path.startsWith("/") && !path.slice(1).split("/").some((part) => part === "" || part === "." || part === "..");

/** The CBFS name a user file is stored under. */
export function userFileName(path: string): string {
  if (!plainPath(path)) throw new CbfsError("bad-name", `"${path}" is not a plain absolute path, so it cannot be stored as a user file.`);
  return USER_FILES_PREFIX + path;
}

/**
 * The user files in listing order with their contents; the boot measures each as its path
 * (a string), then its content. A name that would leave the tree (an empty, "." or ".."
 * component) is refused, because the boot writes each file to its path.
 */
export function* userFiles(image: Uint8Array): Generator<UserFile> {
  const cbfs = readCbfs(image);
  for (const entry of cbfs.entries) {
    if (entry.type !== CBFS_TYPE_RAW || !entry.name.startsWith(USER_FILES_PREFIX + "/")) continue;
    const path = entry.name.slice(USER_FILES_PREFIX.length);
    if (!plainPath(path)) {
      throw new CbfsError("bad-name", `The ROM holds a user file named "${entry.name}", which is not a plain path; reflash the user settings.`);
    }
    yield { path, cbfsName: entry.name, data: entryData(image, cbfs, entry) };
  }
}

/**
 * The image with these user files and no other heads/* file, as Heads' OEM reset writes the
 * ROM: every heads/* file is deleted, then each given file is added as raw, in order.
 */
export function withUserFiles(image: Uint8Array, files: readonly { path: string; data: Uint8Array }[]): Uint8Array {
  let out = image;
  for (const entry of listFiles(image)) if (entry.name.startsWith("heads/")) out = removeFile(out, entry.name);
  for (const file of files) out = addFile(out, userFileName(file.path), file.data);
  return out;
}
