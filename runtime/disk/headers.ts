// The LUKS headers, measured as Heads' qubes-measure-luks.sh does, so a rewritten header (a
// new key slot, a downgraded KDF) moves PCR 6 and the disk key stays sealed: each device's
// header is backed up to /tmp/lukshdr-<device with / as _>, and the `sha256sum` lines of those
// files, in glob order, are the text ("luksDump.txt") extended into PCR 6 and signed in /boot
// as kexec_lukshdr_hash.txt. The text names /tmp paths whatever directory holds the backups,
// so it is byte for byte what Heads writes for the same headers.
import type { Sys } from "../host/sys.ts";
import type { Tpm } from "../../tpm/index.ts";
import { sha256Files } from "../boot/integrity/file-hashes.ts";
import { byteOrder } from "../boot/integrity/names.ts";
import { luksHeaderBackup } from "../platform/luks.ts";

import { LUKS_HEADER_PCR } from "../measure/pcr-roles.ts";

/** The backup's name: /tmp/lukshdr-_dev_sda2 for /dev/sda2. */
export function headerBackupName(device: string): string {
  return `lukshdr-${device.replace(/\//g, "_")}`;
}

/** The luksDump.txt text of the given headers, the backups made in `workDir` and removed after. */
export async function luksHeaderText(sys: Sys, devices: string[], workDir: string): Promise<string> {
  const names = [...new Set(devices)].map(headerBackupName).sort(byteOrder);
  const byName = new Map([...new Set(devices)].map((d) => [headerBackupName(d), d]));
  for (const name of names) if (sys.stat(`${workDir}/${name}`)) sys.remove(`${workDir}/${name}`);
  try {
    for (const name of names) await luksHeaderBackup(sys, byName.get(name)!, `${workDir}/${name}`);
    const digests = sha256Files(sys, workDir, names);
    return names.map((n) => `${digests.get(n)}  /tmp/${n}\n`).join("");
  } finally {
    for (const name of names) if (sys.stat(`${workDir}/${name}`)) sys.remove(`${workDir}/${name}`);
  }
}

/** Extends PCR 6 with the headers' text; returns the text (to compare with the signed copy). */
export async function measureLuksHeaders(sys: Sys, tpm: Tpm, devices: string[], workDir: string): Promise<string> {
  const text = await luksHeaderText(sys, devices, workDir);
  await tpm.extend(LUKS_HEADER_PCR, text);
  return text;
}
