import CQGAShims
import Glibc
import QGAProtocol
import QGASystem

extension GuestAgent {
    /// The freeze family: each handler with its catalogue entry.
    static let freezeHandlers: [Handler] = [
        Handler(Catalogue.Commands.guestFsfreezeStatus, guestFsfreezeStatus),
        Handler(Catalogue.Commands.guestFsfreezeFreeze, guestFsfreezeFreeze),
        Handler(Catalogue.Commands.guestFsfreezeFreezeList, guestFsfreezeFreezeList),
        Handler(Catalogue.Commands.guestFsfreezeThaw, guestFsfreezeThaw),
        Handler(Catalogue.Commands.guestFstrim, guestFstrim),
    ]

    /// Freezes every real filesystem (or those in `only`) in reverse mount order, so that a
    /// filesystem on a loop device is frozen before the one holding its image. On a failure,
    /// everything frozen so far is thawed.
    func freeze(only: [String]?) throws -> Int {
        if isFrozen { throw AgentError.generic("the agent is already in frozen state") }
        try runFreezeHook("freeze")
        // The state is recorded first: a crash mid-freeze must leave a restarted agent
        // knowing that something may be frozen.
        setFrozen(true)
        var count = 0
        for mount in realMounts().reversed() {
            if let only, !only.contains(mount.mountpoint) { continue }
            let fd = openMountpoint(mount.mountpoint)
            guard fd >= 0 else {
                let code = errno
                _ = try? thaw()
                throw AgentError.generic("failed to open \(mount.mountpoint): \(FileSystem.strerror(code))")
            }
            let rc = qga_fifreeze(fd)
            let code = errno
            close(fd)
            if rc != 0 {
                // Not supported, or frozen already by someone else: skipped, as qemu-ga does.
                if code == EOPNOTSUPP || code == EBUSY || code == ENOTTY { continue }
                _ = try? thaw()
                throw AgentError.generic("failed to freeze \(mount.mountpoint): \(FileSystem.strerror(code))")
            }
            count += 1
        }
        log.info("froze \(count) filesystem(s)")
        return count
    }

    /// Thaws every frozen filesystem; returns how many were thawed.
    func thaw() throws -> Int {
        var count = 0
        for mount in realMounts() {
            let fd = openMountpoint(mount.mountpoint)
            guard fd >= 0 else { continue }
            // A filesystem frozen more than once needs as many thaws.
            var thawed = false
            while qga_fithaw(fd) == 0 { thawed = true }
            close(fd)
            if thawed { count += 1 }
        }
        setFrozen(false)
        log.info("thawed \(count) filesystem(s)")
        try runFreezeHook("thaw")
        return count
    }

    private func setFrozen(_ frozen: Bool) {
        if frozen {
            frozenSince = .now
            FileSystem.write(frozenMarker, [])
            log.suspend()  // as qemu-ga: no log writes to a filesystem about to freeze
        } else {
            frozenSince = nil
            unlink(frozenMarker)
            log.resume()
        }
    }

    private func runFreezeHook(_ argument: String) throws {
        guard let hook = config.fsfreezeHook else { return }
        guard FileSystem.exists(hook) else { return }
        let status = try runProgram([hook, argument])
        guard case .exited(0) = status else {
            let code: Int32
            switch status {
            case .exited(let c): code = c
            case .signaled(let s): code = 128 + s
            }
            throw AgentError.generic("fsfreeze hook has failed with status \(code)")
        }
    }
}

private func guestFsfreezeStatus(_ agent: GuestAgent, _ args: Arguments) throws -> JSONValue {
    return .string(agent.isFrozen ? "frozen" : "thawed")
}

private func guestFsfreezeFreeze(_ agent: GuestAgent, _ args: Arguments) throws -> JSONValue {
    return .int(try agent.freeze(only: nil))
}

private func guestFsfreezeFreezeList(_ agent: GuestAgent, _ args: Arguments) throws -> JSONValue {
    return .int(try agent.freeze(only: try args.optionalStrings("mountpoints")))
}

private func guestFsfreezeThaw(_ agent: GuestAgent, _ args: Arguments) throws -> JSONValue {
    return .int(try agent.thaw())
}

private func guestFstrim(_ agent: GuestAgent, _ args: Arguments) throws -> JSONValue {
    let minimum = try args.optionalInt("minimum") ?? 0
    var paths: [JSONValue] = []
    for mount in realMounts() {
        var entry: JSONObject = ["path": .string(mount.mountpoint)]
        let fd = openMountpoint(mount.mountpoint)
        var trimmed: UInt64 = 0
        if fd < 0 || qga_fitrim(fd, UInt64(max(0, minimum)), &trimmed) != 0 {
            let code = errno
            // Filesystems that cannot trim are left out, as in qemu-ga.
            if fd >= 0 { close(fd) }
            if code == EOPNOTSUPP || code == ENOTTY || code == EROFS { continue }
            entry.append(key: "error", value: .string(FileSystem.strerror(code)))
        } else {
            close(fd)
            entry.append(key: "trimmed", value: .uint(trimmed))
            entry.append(key: "minimum", value: .int(minimum))
        }
        paths.append(.object(entry))
    }
    return ["paths": .array(paths)]
}

/// A mount point opened for the freeze, thaw and trim ioctls. Its name comes from
/// mountinfo and may since lead elsewhere (a mount over its parent, a renamed
/// directory), even to a FIFO or a terminal: opened without blocking and never as a
/// controlling terminal, whatever is there fails the ioctl instead of hanging qgad.
private func openMountpoint(_ path: String) -> Int32 {
    retryingEINTR { open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY) }
}
