// What Swift cannot import from glibc: functions behind feature macros and ioctl request
// numbers built by macros. Everything here is prefixed qga_.
#pragma once
#include <signal.h>

/// signalfd(2) for `signals` (which the caller has blocked), close-on-exec. -1 and errno on failure.
int qga_signalfd(const sigset_t *signals);

/// Reads one pending signal from a signalfd; returns its number, 0 if none is pending,
/// -1 and errno on failure.
int qga_signalfd_read(int fd);
