import Glibc
import SystemPackage

/// Runs `body` on a new detached thread of its own.
///
/// For work that may block for good (a libvirt call to a wedged daemon, an agent call a
/// signal interrupts) and is then abandoned: Dispatch's global queue keeps about one thread
/// per CPU and adds one more per second at most while those block, so a few abandoned calls
/// would delay every later one by seconds, past short deadlines.
public func startDetachedThread(_ body: @escaping @Sendable () -> Void) throws(SystemError) {
    let context = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
    var attributes = pthread_attr_t()
    pthread_attr_init(&attributes)
    defer { pthread_attr_destroy(&attributes) }
    pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
    var thread = pthread_t()
    let rc = pthread_create(&thread, &attributes, { context in
        guard let context else { return nil }
        Unmanaged<ThreadBody>.fromOpaque(context).takeRetainedValue().body()
        return nil
    }, context)
    guard rc == 0 else {
        Unmanaged<ThreadBody>.fromOpaque(context).release()
        throw SystemError("pthread_create", Errno(rawValue: rc))
    }
}

private final class ThreadBody: Sendable {
    let body: @Sendable () -> Void
    init(_ body: @escaping @Sendable () -> Void) { self.body = body }
}
