import CLibvirt
import CLibvirtLoader
import Glibc
import Dispatch
import QGAClient
import QGASystem

/// A libvirt error as libvirt reported it (`virGetLastError()`).
public struct LibvirtError: Error, Sendable, CustomStringConvertible {
    /// `virErrorNumber`, e.g. 42 for VIR_ERR_NO_DOMAIN.
    public let code: Int32
    public let message: String
    public var description: String { message }
}

// virErrorNumber values by number: some are newer than the headers of older libvirts.
enum ErrorNumber {
    static let internalError: Int32 = 1
    static let noSupport: Int32 = 3
    static let noConnect: Int32 = 5
    static let systemError: Int32 = 38
    static let rpc: Int32 = 39
    static let noDomain: Int32 = 42
    static let authFailed: Int32 = 45
    static let operationInvalid: Int32 = 55
    static let operationTimeout: Int32 = 68
    static let argumentUnsupported: Int32 = 74
    static let agentUnresponsive: Int32 = 86
    static let authUnavailable: Int32 = 94
    static let agentUnsynced: Int32 = 97
}

/// libvirt is not linked but loaded on first need (CLibvirtLoader), so that socket and vsock
/// targets never map it and qga runs where it is not installed. The result of the one attempt.
private let libvirtLoadFailure: String? = qga_libvirt_load().map { String(cString: $0) }

/// Loads libvirt unless done already; every path to a libvirt function passes here first (the
/// stubs would otherwise fail without a libvirt error).
func requireLibvirt() throws(ClientError) {
    guard let failure = libvirtLoadFailure else { return }
    throw ClientError(
        .unreachable,
        "cannot load libvirt (\(failure)): install libvirt's client library (libvirt0 on Debian and Ubuntu, libvirt-libs on Fedora and RHEL)"
    )
}

/// Reads and clears libvirt's last error for this thread, as the client layer's error.
func lastError(_ what: String) -> ClientError {
    let code: Int32
    let message: String
    if let error = virGetLastError() {
        code = Int32(bitPattern: UInt32(truncatingIfNeeded: error.pointee.code))
        message = error.pointee.message.map { String(cString: $0) } ?? "unknown libvirt error"
    } else {
        code = ErrorNumber.internalError
        message = "\(what) failed without a libvirt error"
    }
    virResetLastError()
    return translate(LibvirtError(code: code, message: message))
}

/// Maps a libvirt error onto the exit codes: unknown domain, agent not configured or not
/// connected → unreachable; unresponsive or timed out → not responding; the agent's own
/// error reply → agent error.
func translate(_ error: LibvirtError) -> ClientError {
    let m = error.message
    let code: ClientError.Code
    if m.contains("unable to execute QEMU agent command") {
        // libvirt keeps the agent's description but not its class; qemu-ga words its
        // CommandNotFound errors recognisably.
        let desc = m.firstRange(of: "': ").map { String(m[$0.upperBound...]) } ?? m
        let notFound = desc.hasSuffix("has not been found") || desc.contains("has been disabled")
        code = .agentError(.init(errorClass: notFound ? "CommandNotFound" : "GenericError", desc: desc))
        return ClientError(code, m, cause: error)
    }
    switch error.code {
    case ErrorNumber.noDomain, ErrorNumber.noConnect, ErrorNumber.systemError, ErrorNumber.rpc,
        ErrorNumber.authFailed, ErrorNumber.authUnavailable, ErrorNumber.argumentUnsupported:
        code = .unreachable
    case ErrorNumber.operationInvalid where m.contains("not running"):
        code = .unreachable
    case ErrorNumber.agentUnresponsive:
        code = m.contains("not connected") || m.contains("not configured") ? .unreachable : .notResponding
    case ErrorNumber.operationTimeout, ErrorNumber.agentUnsynced:
        code = .notResponding
    default:
        code = m.contains("timed out") || m.contains("didn't respond") ? .notResponding : .operationFailed
    }
    return ClientError(code, m, cause: error)
}

/// Runs a libvirt call that may block on the guest agent (libvirt's own per-domain agent
/// timeout defaults to "block forever") on a thread of its own, and gives up at the
/// deadline. The call is abandoned, not cancelled; qga exits soon after in that case.
func withDeadline<T: Sendable>(
    seconds: Double, _ what: String, _ body: @escaping @Sendable () -> Result<T, ClientError>
) throws(ClientError) -> T {
    let box = ResultBox<T>()
    let done = DispatchSemaphore(value: 0)
    do {
        try CallThreads.shared.run({ box.set(body()) }, then: done)
    } catch {
        throw ClientError(.operationFailed, "\(what): \(error)", cause: error)
    }
    guard done.wait(timeout: .now() + seconds) == .success, let result = box.get() else {
        throw ClientError(
            .notResponding, "\(what) did not complete within \(Int(seconds.rounded(.up))) s", cause: DeadlineExceeded())
    }
    return try result.get()
}

/// The cause of a `withDeadline` failure: the call was abandoned, not answered.
struct DeadlineExceeded: Error, Sendable {}

/// The threads `withDeadline` runs calls on. A thread whose call has returned waits for the
/// next call instead of exiting: a domain command makes four calls (open, lookup, the agent
/// command, close), a fan-out four per target, and a thread created and torn down for each
/// made `qga exec DOMAIN` and `qga ping` of 64 domains measurably slower on a busy host. A
/// call abandoned at its deadline keeps its thread, and calls at once get a thread each.
private final class CallThreads: @unchecked Sendable {
    static let shared = CallThreads()
    private let lock = DispatchSemaphoreLock()
    /// Threads waiting for a call.
    private var idle: [Worker] = []

    private typealias Call = (run: @Sendable () -> Void, done: DispatchSemaphore)

    private final class Worker: @unchecked Sendable {
        let wake = DispatchSemaphore(value: 0)
        /// Set before `wake` is signalled, read after: the semaphore orders the two.
        var call: Call?
    }

    /// Runs `call` on an idle thread, or on a new one when none is idle, and signals `done`
    /// once it has returned and its thread is idle again (so that a call right after it can
    /// have the same thread).
    func run(_ call: @escaping @Sendable () -> Void, then done: DispatchSemaphore) throws(SystemError) {
        if let worker = lock.withLock({ idle.popLast() }) {
            worker.call = (call, done)
            worker.wake.signal()
            return
        }
        try startDetachedThread { [self] in serve((call, done)) }
    }

    private func serve(_ first: Call) -> Never {
        let this = Worker()
        var call: Call? = first
        while true {
            if let current = call {
                current.run()
                lock.withLock { idle.append(this) }
                current.done.signal()
            }
            // `run` takes this thread off the list and sets its call before it signals.
            this.wake.wait()
            call = this.call
            this.call = nil
        }
    }
}

/// Hands a result from the worker thread to the waiting one; the semaphore orders the two.
private final class ResultBox<T: Sendable>: @unchecked Sendable {
    private var value: Result<T, ClientError>?
    private let lock = DispatchSemaphore(value: 1)
    func set(_ v: Result<T, ClientError>) {
        lock.wait()
        value = v
        lock.signal()
    }
    func get() -> Result<T, ClientError>? {
        lock.wait()
        defer { lock.signal() }
        return value
    }
}

/// Takes ownership of a string libvirt allocated, and frees it.
func takeString(_ pointer: UnsafeMutablePointer<CChar>?) -> String? {
    guard let pointer else { return nil }
    defer { free(pointer) }
    return String(cString: pointer)
}

/// Carries a libvirt pointer across threads.
struct PointerBox: @unchecked Sendable {
    let pointer: OpaquePointer
    init(_ pointer: OpaquePointer) { self.pointer = pointer }
}

/// Whether a call on a connection was abandoned at its deadline: libvirt's RPC client may
/// then never answer anything on that connection again, closing it included.
private final class StallFlag: @unchecked Sendable {
    private var stalled = false
    private let lock = DispatchSemaphore(value: 1)
    func set() {
        lock.wait()
        stalled = true
        lock.signal()
    }
    var isSet: Bool {
        lock.wait()
        defer { lock.signal() }
        return stalled
    }
}

/// A connection to a libvirt daemon; closed when released. Every call on it, from the
/// opening to the closing, waits at most `callSeconds` (or its own longer deadline): a
/// libvirtd that stops answering (qga has no keepalive: it runs libvirt's event loop only
/// while waiting for events) cannot hang qga.
public final class LibvirtConnection: @unchecked Sendable {
    let pointer: virConnectPtr
    public let uri: String
    /// How long a call that does not involve the guest (lookups, XML, state) may take.
    public let callSeconds: Double
    private let stall = StallFlag()

    /// The URI qga uses when none is given: `LIBVIRT_DEFAULT_URI`, then `qemu:///system`.
    public static func defaultURI(environment: (String) -> String?) -> String {
        if let uri = environment("LIBVIRT_DEFAULT_URI"), !uri.isEmpty { return uri }
        return "qemu:///system"
    }

    /// How long opening a connection, and each call that does not involve the guest, may
    /// take unless the caller says otherwise.
    public static let defaultCallSeconds = 30.0

    /// Whether this connection delivers domain events (see `init(uri:callSeconds:events:readOnly:)`).
    public let deliversEvents: Bool

    /// Opens a connection. With `events`, libvirt's default event loop is registered first
    /// (libvirt wires a connection to the loop only if it exists when the connection opens),
    /// so that `AgentEvents` can wait on it; other commands leave it out. `readOnly` for
    /// listings that must not prompt for authorisation (shell completion).
    public init(
        uri: String, callSeconds: Double = LibvirtConnection.defaultCallSeconds, events: Bool = false, readOnly: Bool = false
    ) throws(ClientError) {
        try requireLibvirt()
        LibvirtConnection.silenceDefaultErrorPrinter
        if events && !LibvirtConnection.eventLoopRegistered {
            throw lastError("virEventRegisterDefaultImpl")
        }
        // A remote URI (qemu+ssh://) can stall on the network: bounded like everything else.
        let opened = try withDeadline(seconds: callSeconds, "connecting to \(uri)") {
            () -> Result<PointerBox, ClientError> in
            guard let pointer = readOnly ? virConnectOpenReadOnly(uri) : virConnectOpen(uri) else {
                let error = lastError("virConnectOpen")
                return .failure(ClientError(.unreachable, "cannot connect to libvirt at \(uri): \(error.message)", cause: error.cause))
            }
            return .success(PointerBox(pointer))
        }
        self.pointer = opened.pointer
        self.uri = uri
        self.callSeconds = callSeconds
        deliversEvents = events
    }

    /// libvirt's default event loop, registered once per process, on first need.
    private static let eventLoopRegistered: Bool = virEventRegisterDefaultImpl() == 0

    deinit {
        // Closing talks to the daemon too. After a stall it may never return, so the
        // connection is left to the process's exit; otherwise it gets the usual deadline.
        guard !stall.isSet else { return }
        let box = PointerBox(pointer)
        _ = try? withDeadline(seconds: callSeconds, "closing the connection to \(uri)") { () -> Result<Void, ClientError> in
            virConnectClose(box.pointer)
            return .success(())
        }
    }

    /// libvirt prints every error to stderr by default; qga reports errors itself, once.
    private static let silenceDefaultErrorPrinter: Void = {
        virSetErrorFunc(nil) { _, _ in }
    }()

    /// Runs `body`, a libvirt call on this connection, on a thread of its own, and gives up
    /// after `seconds` (default `callSeconds`), marking the connection stalled.
    func call<T: Sendable>(
        _ what: String, seconds: Double? = nil, _ body: @escaping @Sendable () -> Result<T, ClientError>
    ) throws(ClientError) -> T {
        do {
            return try withDeadline(seconds: seconds ?? callSeconds, what, body)
        } catch where error.code == .notResponding && error.cause is DeadlineExceeded {
            stall.set()
            throw ClientError(.notResponding, "libvirt at \(uri): \(error.message)", cause: error.cause)
        }
    }

    /// Looks a domain up as virsh does: by id when numeric, then by UUID, then by name.
    public func domain(_ name: String) throws(ClientError) -> LibvirtDomain {
        let connection = PointerBox(pointer)
        let found = try call("looking up domain '\(name)'") { () -> Result<PointerBox?, ClientError> in
            var found: virDomainPtr?
            if let id = Int32(name), id >= 0 { found = virDomainLookupByID(connection.pointer, id) }
            if found == nil, name.utf8.count == 36 { found = virDomainLookupByUUIDString(connection.pointer, name) }
            if found == nil { found = virDomainLookupByName(connection.pointer, name) }
            virResetLastError()
            return .success(found.map(PointerBox.init))
        }
        guard let found else {
            throw ClientError(.unreachable, "domain '\(name)' not found on \(uri)")
        }
        return LibvirtDomain(found.pointer, connection: self)
    }
}
