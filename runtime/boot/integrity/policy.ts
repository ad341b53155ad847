// How the board config shapes /boot verification (heads-behaviour.md §8): the same rules for
// the menus and for `bootward boot verify`.
import type { Config } from "../../config/parse.ts";
import type { Sys } from "../../host/sys.ts";
import { ROLLBACK_FILE } from "./hashes.ts";

export interface VerifyPolicy {
  ignoreRollback: boolean;
  requireRollback: boolean;
  requireDefault: boolean;
  /** The rollback check will read the TPM counter. */
  needsTpm: boolean;
}

const yes = (config: Config, name: string) => config[name] === "y";

export function verifyPolicy(sys: Sys, config: Config, bootDir: string): VerifyPolicy {
  const ignoreRollback = yes(config, "CONFIG_IGNORE_ROLLBACK");
  const requireRollback = yes(config, "CONFIG_BOOT_REQ_ROLLBACK");
  return {
    ignoreRollback,
    requireRollback,
    requireDefault: yes(config, "CONFIG_BOOT_REQ_HASH"),
    needsTpm: !ignoreRollback && (requireRollback || sys.stat(`${bootDir}/${ROLLBACK_FILE}`) !== null),
  };
}

/** CONFIG_BOOT_KERNEL_ADD/REMOVE as kexec's command-line rules. */
export function cmdlineRules(config: Config): { add: string; remove: string } {
  return { add: config.CONFIG_BOOT_KERNEL_ADD ?? "", remove: config.CONFIG_BOOT_KERNEL_REMOVE ?? "" };
}
