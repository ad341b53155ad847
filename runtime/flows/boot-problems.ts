// The failures around /boot a user can act on (a disk, a file, a key, the TPM), as opposed to
// a bug that belongs on the error screen. Kept free of openpgp so the menus load without it.
import { SysError } from "../host/sys.ts";
import { TpmError } from "../../tpm/errors.ts";
import { SignerError } from "../../gpg/errors.ts";
import { BootConfigError } from "../boot/entries/index.ts";
import { BootDeviceError } from "../platform/boot-device.ts";
import { BootNameError } from "../boot/integrity/names.ts";
import { BootSymlinkError, BootTreeError } from "../boot/integrity/walk.ts";
import { FileHashError } from "../boot/integrity/file-hashes.ts";
import { SignedSetError } from "../boot/integrity/signed-set.ts";
import { ListFormatError } from "../boot/integrity/hashes.ts";
import { BootSignError } from "../boot/integrity/sign.ts";
import { KexecError } from "../boot/kexec/kexec.ts";
import { KeyringMissingError } from "../boot/integrity/keyring.ts";

const BOOT_PROBLEMS = [BootDeviceError, BootNameError, BootTreeError, BootSymlinkError, BootConfigError, FileHashError, SignedSetError, ListFormatError, BootSignError, KexecError, KeyringMissingError, SignerError, TpmError, SysError];

export function isBootProblem(error: unknown): error is Error {
  return BOOT_PROBLEMS.some((kind) => error instanceof kind);
}
