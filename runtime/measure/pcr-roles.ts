// What each PCR a secret is bound to holds on a Heads machine, for the sentences that say
// why a secret stopped unsealing.
export const PCR_ROLE: Record<number, string> = {
  0: "firmware code measured by the platform (zero on coreboot boards)",
  1: "firmware configuration (SMBIOS tables, CPU microcode, on SeaBIOS/UEFI boards)",
  2: "firmware code: coreboot stages and payload, option ROMs",
  3: "option ROM configuration",
  4: "boot runtime: recovery shell, USB boot, forced boot",
  5: "the kernel modules loaded differ",
  6: "the LUKS headers differ: a key slot added or removed, or a header rewritten",
  7: "files the firmware carries in CBFS: GPG keyring, trustdb, config.user",
};

/** Heads' PCR for the LUKS headers: the boot runtime extends it, without logging, before it unseals the disk key. */
export const LUKS_HEADER_PCR = 6;
