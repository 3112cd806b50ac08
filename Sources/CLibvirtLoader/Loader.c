// Loads libvirt at run time instead of linking it, so that a socket or vsock target never
// maps it (libvirt's start-up costs more than the rest of qga's) and qga runs without it.
#include "Loader.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static pthread_once_t qga_libvirt_once = PTHREAD_ONCE_INIT;
static void *qga_libvirt_handles[2];
static const char *qga_libvirt_error;

static void qga_libvirt_open(void) {
    const char *base = getenv("QGA_LIBVIRT_SONAME");
    const char *sonames[2] = {base != NULL && base[0] != '\0' ? base : "libvirt.so.0", "libvirt-qemu.so.0"};
    for (int i = 0; i < 2; i++) {
        // RTLD_LOCAL: the stubs look symbols up in these handles, never in the global scope.
        // RTLD_LAZY, as a program linked with libvirt gets: libvirt is linked with -z now, so
        // a missing symbol still fails here, while the dependencies that are not (libstdc++,
        // Kerberos, GMP...) bind their calls on first use instead of all at load, which
        // RTLD_NOW forces: about 5M instructions, a tenth of a `qga exec DOMAIN`.
        qga_libvirt_handles[i] = dlopen(sonames[i], RTLD_LAZY | RTLD_LOCAL);
        if (qga_libvirt_handles[i] == NULL) {
            // dlerror's text lasts only until the next dlerror call: keep a copy.
            const char *message = dlerror();
            char *copy = message != NULL ? strdup(message) : NULL;
            qga_libvirt_error = copy != NULL ? copy : sonames[i];
            return;
        }
    }
}

const char *qga_libvirt_load(void) {
    pthread_once(&qga_libvirt_once, qga_libvirt_open);
    return qga_libvirt_error;
}

void *qga_libvirt_resolve(unsigned index) {
    if (index >= qga_libvirt_count) return NULL;
    void *address = __atomic_load_n(&qga_libvirt_slots[index], __ATOMIC_ACQUIRE);
    if (address != NULL) return address;
    if (qga_libvirt_load() != NULL) return NULL;
    // Two threads may both look a function up; they store the same address.
    for (int i = 0; i < 2 && address == NULL; i++) {
        address = dlsym(qga_libvirt_handles[i], qga_libvirt_names[index]);
    }
    __atomic_store_n(&qga_libvirt_slots[index], address, __ATOMIC_RELEASE);
    return address;
}
