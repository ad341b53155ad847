// A SIMULATED HOTP dongle, for tests only: no real dongle can be plugged into these
// machines, so this mock stands in for one. It lives outside the firmware binary. It honours hotp_verification's command line (info, id, version,
// check <code>, set <base32> <adminPIN> [counter]) and exit codes, and keeps its state
// (secret, expected counter, Admin PIN and its retry counter) in a JSON file. It protects
// nothing: anyone who can read the file has the secret.
import type { Sys } from "../../../runtime/host/sys.ts";
import { base32Decode, base32Encode, Base32Error } from "../../../runtime/attest/base32.ts";
import { hotpCode } from "../../../runtime/attest/otp.ts";
import { EXIT } from "../../../runtime/attest/hotp/dongle.ts";

export const SIM_STATE_ENV = "BOOTWARD_HOTP_SIM_STATE";
export const SIM_DEFAULT_STATE = "/tmp/hotp-sim.json";
/** Nitrokey's README: codes up to this many counts ahead are accepted, and the dongle resyncs. */
export const LOOK_AHEAD = 9;
export const FACTORY_ADMIN_PIN = "12345678";

export interface SimState {
  /** base32; null until `set`. */
  secret: string | null;
  /** The counter the dongle expects next. */
  counter: number;
  adminPin: string;
  adminRetries: number;
}

export function freshSimState(): SimState {
  return { secret: null, counter: 0, adminPin: FACTORY_ADMIN_PIN, adminRetries: 3 };
}

export interface SimOutcome {
  status: number;
  out: string;
}

function load(sys: Sys, path: string): SimState | null {
  if (!sys.stat(path)) return null;
  return JSON.parse(sys.readText(path)) as SimState;
}

function save(sys: Sys, path: string, state: SimState): void {
  sys.writeFile(`${path}.new`, JSON.stringify(state) + "\n");
  sys.rename(`${path}.new`, path);
}

/** One invocation of the simulated tool: "plugged in" means the state file exists. */
export function simulateHotpVerification(argv: string[], sys: Sys, statePath: string): SimOutcome {
  const [cmd, ...args] = argv;
  const state = load(sys, statePath);
  if (!cmd) return { status: EXIT.PARAMS, out: "usage: hotp_verification info|id|version|check <code>|set <base32> <adminPIN> [counter]" };
  if (!state) return { status: EXIT.CONNECT, out: "No HOTP dongle connected (simulated dongle: state file missing)" };
  switch (cmd) {
    case "info":
      return { status: EXIT.OK, out: `SIMULATED HOTP dongle (bootward test double, not a device)\nHOTP slot: ${state.secret ? "programmed" : "empty"}\nAdmin PIN retries: ${state.adminRetries}` };
    case "id":
      return { status: EXIT.OK, out: "0xb00710a5 (simulated)" };
    case "version":
      return { status: EXIT.OK, out: "firmware 0.0 (simulated)" };
    case "check": {
      if (args.length !== 1) return { status: EXIT.PARAMS, out: "check needs one code" };
      if (!/^\d{6}$/.test(args[0]!)) return { status: EXIT.BAD_FORMAT, out: "the code must have 6 digits" };
      if (!state.secret) return { status: EXIT.SLOT_EMPTY, out: "HOTP slot not programmed" };
      const secret = base32Decode(state.secret);
      try {
        for (let c = state.counter; c <= state.counter + LOOK_AHEAD; c++) {
          if (hotpCode(secret, c) === args[0]) {
            save(sys, statePath, { ...state, counter: c + 1 });
            return { status: EXIT.OK, out: "VALID code" };
          }
        }
      } finally {
        secret.fill(0);
      }
      return { status: EXIT.INVALID_CODE, out: "INVALID code" };
    }
    case "set": {
      if (args.length < 2 || args.length > 3) return { status: EXIT.PARAMS, out: "set needs <base32 secret> <admin PIN> [counter]" };
      if (state.adminRetries <= 0) return { status: EXIT.WRONG_PIN, out: "Admin PIN locked" };
      if (args[1] !== state.adminPin) {
        save(sys, statePath, { ...state, adminRetries: state.adminRetries - 1 });
        return { status: EXIT.WRONG_PIN, out: `wrong Admin PIN (${state.adminRetries - 1} tries left)` };
      }
      const counter = args[2] === undefined ? 0 : Number(args[2]);
      if (!Number.isSafeInteger(counter) || counter < 0) return { status: EXIT.PARAMS, out: "the counter must be a whole number" };
      let secret: Uint8Array;
      try {
        secret = base32Decode(args[0]!);
      } catch (e) {
        if (e instanceof Base32Error) return { status: EXIT.BAD_FORMAT, out: e.message };
        throw e;
      }
      if (secret.length === 0 || secret.length > 20) return { status: EXIT.BAD_FORMAT, out: "the secret must have 1 to 20 bytes" };
      save(sys, statePath, { ...state, secret: base32Encode(secret), counter, adminRetries: 3 });
      secret.fill(0);
      return { status: EXIT.OK, out: "HOTP secret set" };
    }
    default:
      return { status: EXIT.UNSUPPORTED, out: `unsupported command "${cmd}"` };
  }
}
