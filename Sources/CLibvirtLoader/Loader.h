#ifndef QGA_LIBVIRT_LOADER_PRIVATE_H
#define QGA_LIBVIRT_LOADER_PRIVATE_H

#include "CLibvirtLoader.h"
#include <stddef.h>

// Defined by the generated Stubs.c: the libvirt functions qga calls, in slot order.
extern const char *const qga_libvirt_names[];
extern void *qga_libvirt_slots[];
extern const unsigned qga_libvirt_count;

/// The address of libvirt function `index` (loading libvirt first if needed), or NULL when
/// libvirt or the function is missing; the stub then fails as libvirt would.
void *qga_libvirt_resolve(unsigned index);

#endif
