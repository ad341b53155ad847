// What every flow gets: the machine (Sys), the user (a Prompt that can hand the console to
// an interactive program and take it back), the board config and the TPM opened at boot.
import type { Sys } from "../host/sys.ts";
import type { Config } from "../config/parse.ts";
import type { Tpm } from "../../tpm/index.ts";
import type { Integrity, Prompt, TotpStatus } from "../../ui/prompt.ts";
import type { TotpFailure } from "../attest/unseal.ts";

/**
 * The TOTP/HOTP side (runtime/attest/provider.ts over the TPM); without a provider the
 * header and the main menu say "not configured".
 */
export interface AttestationProvider {
  status(): Promise<TotpStatus | null>;
  /** HOTP result in Heads' words ("Success", "Invalid code" …), or null without a dongle. */
  hotp?(): Promise<string | null>;
  /** What the last status() found: the header's integrity colour and its reason. */
  integrity?(): { integrity: Integrity; reason: string };
  /** Why the last status() had no code although a secret is sealed; null otherwise. */
  failure?(): TotpFailure["failure"] | null;
}

export interface FlowUi {
  /** The current screen session; it may be rebuilt (after a shell, after an error), so read it each time. */
  readonly prompt: Prompt;
  /** Gives the console to `run` (the UI closed, the terminal back in cooked mode), then takes it back. */
  suspend<T>(run: () => Promise<T>): Promise<T>;
  /** Throws the session away and starts a fresh one (after an error that may have broken it). */
  reset(): void;
  close(): void;
}

export interface FlowContext {
  sys: Sys;
  ui: FlowUi;
  config: Config;
  /** Null when no TPM could be opened; tpmError then says why. */
  tpm: Tpm | null;
  tpmError?: string;
  /** Why the owner's files in the ROM (keyring, config.user) could not be used at startup. */
  romProblem?: string;
  /** PID 1 on the firmware: power off and reboot act on the machine. */
  firmware: boolean;
  attestation?: AttestationProvider;
  /** The recovery shell's argv. */
  shell: string[];
}

/** A FlowUi over a Prompt that owns no terminal (scripted tests, a headless run). */
export function plainUi(prompt: Prompt): FlowUi {
  return {
    prompt,
    suspend: (run) => run(),
    reset() {},
    close() {},
  };
}

export function boardName(config: Config): string {
  return config.CONFIG_BOARD_NAME || config.CONFIG_BOARD || "unknown board";
}
