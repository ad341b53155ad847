/* /init of a throwaway initramfs that captures the firmware's TPM event log on the QEMU
 * board (SeaBIOS + swtpm): it prints the log and the live PCRs as hex on the serial line
 * and powers off. Used only by capture-eventlog.ts to refresh test fixtures. */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <unistd.h>

static void dump_file(FILE *out, const char *path, const char *tag) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(out, "%s-MISSING %s\n", tag, path);
    return;
  }
  fprintf(out, "%s-BEGIN\n", tag);
  unsigned char buf[32];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
    for (size_t i = 0; i < n; i++) fprintf(out, "%02x", buf[i]);
    fputc('\n', out);
  }
  fprintf(out, "%s-END\n", tag);
  fclose(f);
}

int main(void) {
  mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
  mount("sysfs", "/sys", "sysfs", 0, NULL);
  mount("securityfs", "/sys/kernel/security", "securityfs", 0, NULL);
  FILE *out = fopen("/dev/ttyS0", "w");
  if (!out) out = stdout;
  dump_file(out, "/sys/kernel/security/tpm0/binary_bios_measurements", "EVENTLOG");
  char path[128];
  for (int i = 0; i < 24; i++) {
    snprintf(path, sizeof path, "/sys/class/tpm/tpm0/pcr-sha256/%d", i);
    FILE *f = fopen(path, "r");
    if (!f) break;
    char line[160] = {0};
    if (fgets(line, sizeof line, f)) fprintf(out, "PCR-SHA256 %d %s", i, line);
    fclose(f);
  }
  /* TPM 1.2: the kernel shows PCRs in one text file */
  FILE *p = fopen("/sys/class/tpm/tpm0/pcrs", "r");
  if (!p) p = fopen("/sys/class/tpm/tpm0/device/pcrs", "r");
  if (p) {
    char line[200];
    while (fgets(line, sizeof line, p)) fprintf(out, "PCR-SHA1 %s", line);
    fclose(p);
  }
  fprintf(out, "CAPTURE-DONE\n");
  fflush(out);
  sync();
  reboot(RB_POWER_OFF);
  return 0;
}
