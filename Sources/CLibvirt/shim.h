// libvirt's public API, for the one Swift target that wraps it (QGALibvirt).
#include <libvirt/libvirt.h>
#include <libvirt/libvirt-qemu.h>
#include <libvirt/virterror.h>
