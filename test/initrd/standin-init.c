/* Test scaffolding only: a stand-in /init that proves the initramfs and the QEMU board boot
 * before the real bootward binary exists. It reports what the board test checks, one
 * "bootward-standin:" line each, then powers the machine off. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

static int exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

static int run(char *const argv[]) {
  pid_t pid = fork();
  if (pid == 0) {
    execv(argv[0], argv);
    _exit(127);
  }
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) < 0) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void show_file(const char *label, const char *path) {
  char buf[64] = {0};
  int fd = open(path, O_RDONLY);
  if (fd >= 0) {
    ssize_t n = read(fd, buf, sizeof buf - 1);
    if (n > 0 && buf[n - 1] == '\n') buf[n - 1] = 0;
    close(fd);
  }
  printf("bootward-standin: %s=%s\n", label, fd >= 0 ? buf : "absent");
}

int main(void) {
  mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
  int fd = open("/dev/console", O_RDWR);
  if (fd >= 0) {
    dup2(fd, 0);
    dup2(fd, 1);
    dup2(fd, 2);
    if (fd > 2) close(fd);
  }
  setvbuf(stdout, NULL, _IONBF, 0);
  printf("bootward-standin: init started as pid %d\n", (int)getpid());
  mount("proc", "/proc", "proc", 0, NULL);
  mount("sysfs", "/sys", "sysfs", 0, NULL);
  printf("bootward-standin: tpm0=%s tpmrm0=%s\n", exists("/dev/tpm0") ? "yes" : "no", exists("/dev/tpmrm0") ? "yes" : "no");
  show_file("tpm_version_major", "/sys/class/tpm/tpm0/tpm_version_major");
  if (exists("/sys/class/tpm/tpm0/enabled")) {
    char e[8] = "?", a[8] = "?", o[8] = "?";
    const char *paths[] = {"/sys/class/tpm/tpm0/enabled", "/sys/class/tpm/tpm0/active", "/sys/class/tpm/tpm0/owned"};
    char *vals[] = {e, a, o};
    for (int i = 0; i < 3; i++) {
      int f = open(paths[i], O_RDONLY);
      if (f >= 0) {
        ssize_t n = read(f, vals[i], 7);
        if (n > 0) vals[i][n > 0 && vals[i][n - 1] == '\n' ? n - 1 : n] = 0;
        close(f);
      }
    }
    printf("bootward-standin: tpm1: enabled=%s active=%s owned=%s\n", e, a, o);
  }

  /* virtio_blk needs a transport: virtio_pci binds the PCI device, then the disk appears. */
  char *transport[] = {"/bin/modprobe", "virtio_pci", NULL};
  char *modprobe[] = {"/bin/modprobe", "virtio_blk", NULL};
  int rc = run(transport);
  if (rc == 0) rc = run(modprobe);
  for (int i = 0; i < 100 && !exists("/dev/vda"); i++) usleep(100000);
  printf("bootward-standin: modprobe virtio_blk rc=%d vda=%s\n", rc, exists("/dev/vda") ? "yes" : "no");
  char *ext4[] = {"/bin/modprobe", "ext4", NULL};
  printf("bootward-standin: modprobe ext4 rc=%d\n", run(ext4));

  char *kexec[] = {"/sbin/kexec", "--version", NULL};
  printf("bootward-standin: kexec rc=%d\n", run(kexec));
  char *cryptsetup[] = {"/sbin/cryptsetup", "--version", NULL};
  printf("bootward-standin: cryptsetup rc=%d\n", run(cryptsetup));

  /* With "standin_kexec" on the command line: boot the demo disk's kernel, as bootward will. */
  char cmdline[1024] = {0};
  int cfd = open("/proc/cmdline", O_RDONLY);
  if (cfd >= 0) {
    read(cfd, cmdline, sizeof cmdline - 1);
    close(cfd);
  }
  if (strstr(cmdline, "standin_kexec") != NULL) {
    struct utsname u;
    uname(&u);
    char kernel[256], initrd[256];
    snprintf(kernel, sizeof kernel, "/boot/vmlinuz-%s", u.release);
    snprintf(initrd, sizeof initrd, "--initrd=/boot/initrd.img-%s", u.release);
    int mrc = mount("/dev/vda", "/boot", "ext4", MS_RDONLY, NULL);
    printf("bootward-standin: mount /boot rc=%d\n", mrc);
    char *load[] = {"/sbin/kexec", "-l", kernel, initrd, "--append=console=ttyS0,115200 quiet panic=-1 bootward_demo=poweroff", NULL};
    printf("bootward-standin: kexec -l rc=%d\n", run(load));
    umount("/boot");
    char *exec[] = {"/sbin/kexec", "-e", NULL};
    printf("bootward-standin: kexec -e rc=%d\n", run(exec));
  }

  printf("bootward-standin: powering off\n");
  sync();
  reboot(RB_POWER_OFF);
  for (;;) pause();
}
