// Open the machine's TPM through the Sys door: /dev/tpmrm0 (the kernel's resource
// manager flushes what a process leaves behind) before /dev/tpm0 (we flush it ourselves).
import type { Sys } from "../host/sys.ts";
import { openTpm, TpmError, type Tpm } from "../../tpm/index.ts";
import { DeviceTransport } from "../../tpm/transport/device.ts";

export const DEFAULT_TPM_PATHS = ["/dev/tpmrm0", "/dev/tpm0"];

export class TpmDeviceError extends TpmError {
  constructor(message: string) {
    super(message);
    this.name = "TpmDeviceError";
  }
}

export async function openTpmDevice(sys: Sys, path?: string): Promise<Tpm> {
  const candidates = path ? [path] : DEFAULT_TPM_PATHS;
  const failures: string[] = [];
  for (const p of candidates) {
    let device;
    try {
      device = sys.openDevice(p, "rw");
    } catch (e) {
      failures.push(`${p}: ${(e as Error).message}`);
      continue;
    }
    const transport = new DeviceTransport(device, p.endsWith("tpmrm0"), p);
    try {
      return await openTpm(transport, { random: (n) => sys.randomBytes(n) });
    } catch (e) {
      transport.close();
      throw e;
    }
  }
  throw new TpmDeviceError(`no TPM could be opened (tried ${failures.join("; ")}); pass --tpm DEVICE if it lives elsewhere`);
}
