// The boot-time TOTP unseal on swtpm: TPM commands issued and wall time, with 0 and 30 ms
// of injected latency per command (real TPMs answer in 5-50 ms; swtpm in microseconds).
import { createNodeSys } from "../runtime/host/node/sys.ts";
import { Board, OWNER, STOCK } from "../test/attest/support/board.ts";
import { sealNewTotpSecret } from "../runtime/attest/seal.ts";
import { unsealTotp } from "../runtime/attest/unseal.ts";
import { rootedSys } from "../runtime/host/rooted.ts";

const board = await Board.start();
const sys = rootedSys(createNodeSys(), board.root);
try {
  await board.boot(STOCK);
  await board.with((tpm) => tpm.reset({ ownerPassphrase: OWNER, primaryKeyType: "ecc" }));
  await board.with((tpm) => sealNewTotpSecret(tpm, sys, { ownerPassphrase: OWNER }));
  for (const latency of [0, 30]) {
    await board.boot(STOCK);
    const t0 = performance.now();
    const { tpm, rec } = await board.open(latency);
    const opened = performance.now();
    const openCommands = rec.names();
    rec.reset();
    const r = await unsealTotp(tpm, sys);
    const t1 = performance.now();
    tpm.close();
    if ("failure" in r) throw new Error(r.failure.explanation.join(" "));
    console.log(`latency ${latency} ms: open ${openCommands.length} command(s) ${(opened - t0).toFixed(1)} ms [${openCommands.join(", ")}]; ` +
      `unseal ${rec.log.length} commands ${(t1 - opened).toFixed(1)} ms [${rec.names().join(", ")}]; CreatePrimary: ${rec.counts()["TPM2_CreatePrimary"] ?? 0}`);
  }
} finally {
  await board.stop();
}
