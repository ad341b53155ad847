// Where the TOTP/HOTP secret lives and what it is bound to: Heads' choices (tpmr seal in
// seal-totp.sh), so a machine moves between Heads and bootward without resealing.
import { TOTP_HANDLE, TOTP_PCRS } from "../../tpm/index.ts";

/** Heads' index 0x4d47 ("MG"): persistent handle 0x81004d47 on TPM 2.0, NV index 0x4d47 on 1.2. */
export const TOTP_MAIN_HANDLE = TOTP_HANDLE;
/**
 * bootward only (0x81004d48 on TPM 2.0): where a new secret waits, proven unsealable, while the main handle is
 * replaced. Next to Heads' handle so an operator listing persistent handles sees they belong together.
 */
export const TOTP_PENDING_HANDLE = 0x4d48;
/** PCRs 0,1,2,3,7 at their current values and 4 at its value before the boot runtime extends it. */
export const SEALED_PCRS: readonly number[] = TOTP_PCRS;
/** 20 random bytes (tpmtotp reads exactly 20 from stdin). */
export const SECRET_BYTES = 20;


/** Heads' HOTP counter file: the next counter to use, decimal; neither hashed nor signed. */
export const HOTP_COUNTER_FILE = "/boot/kexec_hotp_counter";
/** Heads' dongle branding file, next to the counter. */
export const HOTP_KEY_FILE = "/boot/kexec_hotp_key";

/** Linux's copy of the firmware event log (SeaBIOS/UEFI via ACPI; coreboot's via its own driver). */
export const EVENT_LOG_PATH = "/sys/kernel/security/tpm0/binary_bios_measurements";

/** What each bound PCR holds on a Heads machine, for explanations. */
export const PCR_ROLE: Record<number, string> = {
  0: "firmware code measured by the platform (zero on coreboot boards)",
  1: "firmware configuration (SMBIOS tables, CPU microcode, on SeaBIOS/UEFI boards)",
  2: "firmware code: coreboot stages and payload, option ROMs",
  3: "option ROM configuration",
  4: "boot runtime: recovery shell, USB boot, forced boot",
  7: "files the firmware carries in CBFS: GPG keyring, trustdb, config.user",
};
