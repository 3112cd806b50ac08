import CLibvirt
import Glibc
import QGAClient
import QGASystem

/// A libvirt domain handle, freed when released; it keeps its connection alive.
public final class LibvirtDomain: @unchecked Sendable {
    let pointer: virDomainPtr
    public let connection: LibvirtConnection

    init(_ pointer: virDomainPtr, connection: LibvirtConnection) {
        self.pointer = pointer
        self.connection = connection
    }

    deinit { virDomainFree(pointer) }

    /// libvirt's last error, prefixed with the domain's name.
    func failure(_ what: String) -> ClientError {
        let error = lastError(what)
        return ClientError(error.code, "\(name): \(error.message)", cause: error.cause)
    }

    public var name: String {
        virDomainGetName(pointer).map { String(cString: $0) } ?? "?"
    }

    /// The domain's live XML description.
    public func xml() throws(ClientError) -> String {
        try connection.call("reading the XML of \(name)") { [self] in
            guard let xml = takeString(virDomainGetXMLDesc(pointer, 0)) else { return .failure(failure("virDomainGetXMLDesc")) }
            return .success(xml)
        }
    }

    /// What a domain is doing, as far as waiting for it is concerned.
    public enum State: Sendable, Equatable {
        case running
        case shutOff
        /// Paused, shutting down, crashed, suspended: still there, not shut off.
        case other(Int32)
    }

    public func state() throws(ClientError) -> State {
        try connection.call("reading the state of \(name)") { [self] () -> Result<State, ClientError> in
            var state: Int32 = 0
            var reason: Int32 = 0
            guard virDomainGetState(pointer, &state, &reason, 0) == 0 else { return .failure(failure("virDomainGetState")) }
            switch UInt32(bitPattern: state) {
            case VIR_DOMAIN_RUNNING.rawValue: return .success(.running)
            case VIR_DOMAIN_SHUTOFF.rawValue: return .success(.shutOff)
            default: return .success(.other(state))
            }
        }
    }

    /// `virDomainQemuAgentCommand`: libvirt syncs with the agent itself, and waits at most
    /// `timeoutSeconds` (never libvirt's "block" value) for the reply; qga waits for libvirt
    /// that long plus `callSeconds` (libvirtd may first wait for the domain's job lock).
    func agentCommand(_ json: String, timeoutSeconds: Int32) throws(ClientError) -> String {
        let timeout = max(1, timeoutSeconds)
        return try connection.call("the agent command on \(name)", seconds: Double(timeout) + connection.callSeconds) {
            [self] in
            guard let reply = takeString(virDomainQemuAgentCommand(pointer, json, timeout, 0)) else {
                return .failure(failure("virDomainQemuAgentCommand"))
            }
            return .success(reply)
        }
    }

    /// Asks the guest agent to power the guest off (`virDomainShutdownFlags`, agent mode).
    public func shutdown(acpi: Bool, deadlineSeconds: Double) throws(ClientError) {
        let flags = UInt32(acpi ? VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN.rawValue : VIR_DOMAIN_SHUTDOWN_GUEST_AGENT.rawValue)
        do {
            try connection.call("shutdown of \(name)", seconds: deadlineSeconds) { [self] in
                virDomainShutdownFlags(pointer, flags) == 0 ? .success(()) : .failure(failure("virDomainShutdownFlags"))
            }
        } catch where LibvirtDomain.isAgentEOF(error) {
            // A guest that powers off fast closes QEMU's end of the channel before libvirt
            // sees QEMU's SHUTDOWN event, and libvirt then reports the end of file as an
            // error: the shutdown worked if the domain is no longer running.
            let deadline = Deadline.after(seconds: 5)
            while !deadline.hasPassed {
                if let state = try? state(), state != .running { return }
                usleep(100_000)
            }
            throw error
        }
    }

    /// libvirt's error for the agent's channel closing under a command. It has no code of its
    /// own (it is an internal error), so its English text is matched, as `translate` does; a
    /// libvirtd running in another language words it otherwise, and the error then stands.
    static func isAgentEOF(_ error: ClientError) -> Bool {
        error.message.contains("End of file from agent socket")
    }

    /// Asks the guest agent to reboot the guest (`virDomainReboot`, agent mode).
    public func reboot(acpi: Bool, deadlineSeconds: Double) throws(ClientError) {
        let flags = UInt32(acpi ? VIR_DOMAIN_REBOOT_ACPI_POWER_BTN.rawValue : VIR_DOMAIN_REBOOT_GUEST_AGENT.rawValue)
        try connection.call("reboot of \(name)", seconds: deadlineSeconds) { [self] in
            virDomainReboot(pointer, flags) == 0 ? .success(()) : .failure(failure("virDomainReboot"))
        }
    }

    /// `virDomainFSFreeze`: freezes the given mount points (all when empty); returns how many.
    func fsFreeze(mountpoints: [String], deadlineSeconds: Double) throws(ClientError) -> Int {
        try connection.call("freeze of \(name)", seconds: deadlineSeconds) { [self] in
            let strings = mountpoints.map { strdup($0) }
            defer { strings.forEach { free($0) } }
            var pointers = strings.map { UnsafePointer($0) }
            let n = pointers.withUnsafeMutableBufferPointer { buffer in
                virDomainFSFreeze(pointer, buffer.isEmpty ? nil : buffer.baseAddress, UInt32(buffer.count), 0)
            }
            return n >= 0 ? .success(Int(n)) : .failure(failure("virDomainFSFreeze"))
        }
    }

    /// `virDomainFSThaw`: thaws every frozen filesystem; returns how many.
    func fsThaw(deadlineSeconds: Double) throws(ClientError) -> Int {
        try connection.call("thaw of \(name)", seconds: deadlineSeconds) { [self] in
            let n = virDomainFSThaw(pointer, nil, 0, 0)
            return n >= 0 ? .success(Int(n)) : .failure(failure("virDomainFSThaw"))
        }
    }

    /// Snapshot flags qga uses.
    public struct SnapshotOptions: Sendable {
        public var quiesce = true
        public var diskOnly = false
        public var atomic = false
        public init() {}
    }

    /// Creates a snapshot named `name`; returns the name libvirt recorded.
    public func createSnapshot(name: String, options: SnapshotOptions, deadlineSeconds: Double) throws(ClientError) -> String {
        var flags: UInt32 = 0
        if options.quiesce { flags |= VIR_DOMAIN_SNAPSHOT_CREATE_QUIESCE.rawValue }
        if options.diskOnly { flags |= VIR_DOMAIN_SNAPSHOT_CREATE_DISK_ONLY.rawValue }
        if options.atomic { flags |= VIR_DOMAIN_SNAPSHOT_CREATE_ATOMIC.rawValue }
        let xml = "<domainsnapshot><name>\(escapeXML(name))</name></domainsnapshot>"
        return try connection.call("snapshot of \(name)", seconds: deadlineSeconds) { [self, flags] in
            guard let snapshot = virDomainSnapshotCreateXML(pointer, xml, flags) else {
                return .failure(failure("virDomainSnapshotCreateXML"))
            }
            defer { virDomainSnapshotFree(snapshot) }
            return .success(virDomainSnapshotGetName(snapshot).map { String(cString: $0) } ?? name)
        }
    }
}

/// Text safe inside an XML element or attribute.
func escapeXML(_ text: String) -> String {
    var out = ""
    for c in text {
        switch c {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&apos;"
        default: out.append(c)
        }
    }
    return out
}
