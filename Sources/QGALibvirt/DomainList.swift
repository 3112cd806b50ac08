import CLibvirt
import Dispatch
import Glibc
import QGAClient

/// libvirt connections opened once per URI and shared: by every target of a fan-out (a
/// `virConnectPtr` is safe to use from several threads), by lookups and by listings.
public final class LibvirtConnections: @unchecked Sendable {
    /// Keyed by URI, and by whether the connection delivers events (a connection opened
    /// before libvirt's event loop was registered never will).
    private var opened: [Key: Result<LibvirtConnection, ClientError>] = [:]
    private struct Key: Hashable {
        var uri: String
        var events: Bool
    }
    private let lock = DispatchSemaphoreLock()

    public init() {}

    /// The connection to `uri`, opened on first use. A failure is kept too, so that many
    /// targets of an unreachable URI wait for it once, not once each.
    public func connection(_ uri: String, callSeconds: Double, events: Bool = false) throws(ClientError) -> LibvirtConnection {
        let key = Key(uri: uri, events: events)
        // Held while opening: a second target of the same URI waits for the first's
        // connection rather than opening its own.
        let result = lock.withLock { () -> Result<LibvirtConnection, ClientError> in
            if let known = opened[key] { return known }
            let result: Result<LibvirtConnection, ClientError>
            do throws(ClientError) {
                result = .success(try LibvirtConnection(uri: uri, callSeconds: callSeconds, events: events))
            } catch {
                result = .failure(error)
            }
            opened[key] = result
            return result
        }
        return try result.get()
    }
}

extension LibvirtConnection {
    /// The names of the connection's domains, sorted: the running ones only, or every
    /// defined one.
    public func domainNames(runningOnly: Bool) throws(ClientError) -> [String] {
        let connection = PointerBox(pointer)
        let flags = runningOnly ? UInt32(VIR_CONNECT_LIST_DOMAINS_ACTIVE.rawValue) : 0
        return try call("listing the domains of \(uri)") { () -> Result<[String], ClientError> in
            var list: UnsafeMutablePointer<virDomainPtr?>?
            let count = virConnectListAllDomains(connection.pointer, &list, flags)
            guard count >= 0 else { return .failure(lastError("virConnectListAllDomains")) }
            defer { free(list) }
            var names: [String] = []
            for index in 0..<Int(count) {
                guard let domain = list?[index] else { continue }
                if let name = virDomainGetName(domain) { names.append(String(cString: name)) }
                virDomainFree(domain)
            }
            return .success(names.sorted())
        }
    }

    /// Domain names for shell completion: every defined domain of `uri` whose name starts
    /// with `prefix`, through a read-only connection; nothing at all when libvirt cannot be
    /// reached within `seconds` (a completion must never hang the shell).
    public static func completionNames(uri: String, prefix: String, seconds: Double = 2) -> [String] {
        guard let connection = try? LibvirtConnection(uri: uri, callSeconds: seconds, readOnly: true),
            let names = try? connection.domainNames(runningOnly: false)
        else { return [] }
        return names.filter { $0.hasPrefix(prefix) }
    }
}

/// A mutual-exclusion lock over a semaphore, as the rest of this target uses.
struct DispatchSemaphoreLock: @unchecked Sendable {
    private let semaphore = DispatchSemaphore(value: 1)
    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        semaphore.wait()
        defer { semaphore.signal() }
        return try body()
    }
}
