#ifndef QGA_CLIBVIRT_LOADER_H
#define QGA_CLIBVIRT_LOADER_H

/// Loads libvirt (libvirt.so.0, then libvirt-qemu.so.0) on first call; later calls return the
/// first call's result. NULL once loaded, otherwise the dynamic loader's message. QGALibvirt
/// calls this before any libvirt function, so the stubs never run without libvirt.
/// QGA_LIBVIRT_SONAME, for tests only, names another file to load instead of libvirt.so.0.
const char *qga_libvirt_load(void);

#endif
