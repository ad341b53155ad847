// The line at the top of every screen: board, date and time, the TOTP code (and seconds
// left) or HOTP result, and the integrity state. The words carry the meaning; colour only
// repeats it.
import { Box, Text } from "ink";
import { useUi } from "../context.ts";
import type { Integrity, Status } from "../prompt.ts";

const INTEGRITY_TEXT: Record<Integrity, string> = {
  ok: "INTEGRITY: OK",
  unknown: "INTEGRITY: UNKNOWN",
  tampered: "INTEGRITY: TAMPERED",
  forced: "INTEGRITY: FORCED BOOT",
};
const INTEGRITY_COLOR: Record<Integrity, string> = { ok: "green", unknown: "yellow", tampered: "red", forced: "red" };

const two = (n: number) => String(n).padStart(2, "0");

/** YYYY-MM-DD HH:MM:SS of the system clock, which Heads sets from the RTC as local time. */
export function formatDateTime(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
}

export function otpText(status: Status, now: number): string | null {
  const parts: string[] = [];
  const totp = status.totp;
  if (totp) {
    if ("error" in totp) parts.push(`TOTP: ${totp.error}`);
    else {
      const left = Math.ceil((totp.expiresAt - now) / 1000);
      parts.push(left > 0 ? `TOTP: ${totp.code} (${left}s)` : `TOTP: ${totp.code} (expired)`);
    }
  }
  if (status.hotp) parts.push(`HOTP: ${status.hotp}`);
  return parts.length > 0 ? parts.join(" | ") : null;
}

export interface StatusHeaderProps {
  status: Status;
  /** ms since the epoch. */
  now: number;
}

export function StatusHeader({ status, now }: StatusHeaderProps) {
  const { color } = useUi();
  const otp = otpText(status, now);
  const tone = INTEGRITY_COLOR[status.integrity];
  const bad = status.integrity === "tampered" || status.integrity === "forced";
  const integrity = `${INTEGRITY_TEXT[status.integrity]}${status.reason ? ` (${status.reason})` : ""}`;
  return (
    <Box flexWrap="wrap" columnGap={3} borderStyle="single" borderTop={false} borderLeft={false} borderRight={false} borderColor={color ? tone : undefined}>
      <Text bold>{status.board}</Text>
      <Text>{formatDateTime(now)}</Text>
      {otp ? <Text>{otp}</Text> : null}
      {/* Without colour, a bad state is set apart by inverse video as well as by its words. */}
      <Text bold color={color ? tone : undefined} inverse={!color && bad}>
        {integrity}
      </Text>
    </Box>
  );
}
