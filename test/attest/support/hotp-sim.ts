// The SIMULATED dongle as a program of its own, so the driver runs it through exec exactly
// as it runs hotp_verification.
import { createNodeSys } from "../../../runtime/host/node/sys.ts";
import { simulateHotpVerification, SIM_DEFAULT_STATE, SIM_STATE_ENV } from "./hotp-simulator.ts";

const r = simulateHotpVerification(process.argv.slice(2), createNodeSys(), process.env[SIM_STATE_ENV] ?? SIM_DEFAULT_STATE);
(r.status === 0 ? process.stdout : process.stderr).write(r.out + "\n");
process.exitCode = r.status;
