import Glibc
import QGAClient
import QGALibvirt
import QGASystem
import SystemPackage

/// `qga cp -r`: a directory tree to or from the guest, as one tar archive that passes
/// through a temporary file in the guest (guest-exec's input is too small for a tree) and is
/// made and unpacked by the guest's tar. On the host, qga writes and reads the archive itself.
enum TreeTransfer {
    static let purpose = "qga cp -r"

    /// A guest path without trailing slashes; its parent directory and last name.
    static func split(_ path: String) -> (path: String, parent: String, name: String) {
        var trimmed = Substring(path)
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        guard let slash = trimmed.lastIndex(of: "/") else { return (String(trimmed), ".", String(trimmed)) }
        let parent = slash == trimmed.startIndex ? "/" : String(trimmed[..<slash])
        return (String(trimmed), parent, String(trimmed[trimmed.index(after: slash)...]))
    }

    /// What the guest's own tar exit 127 means.
    private static func noTar(_ label: String) -> CommandFailure {
        CommandFailure(code: ExitCodes.agentError, message: "\(label): the guest has no tar in its PATH; \(purpose) needs it")
    }

    // MARK: Host to guest

    /// Copies the host directory `host` to the guest's `path`: into `path/NAME` when `path`
    /// is a directory, else as `path` itself (its parent must exist), as cp -r does; an
    /// existing `path/NAME` is merged into.
    static func upload(_ agent: AgentOptions, host: String, _ target: Target, path: String) throws {
        let root = retryingEINTR { open(host, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        guard root >= 0 else {
            let code = errno
            throw CommandFailure(
                code: code == ENOTDIR ? ExitCodes.usage : ExitCodes.operationFailed,
                message: code == ENOTDIR ? "\(host) is not a directory; copy a file without -r" : "cannot open \(host): \(Errno(rawValue: code))")
        }
        defer { _ = close(root) }
        guard let hostName = hostName(host) else {
            throw CommandFailure(code: ExitCodes.usage, message: "\(host): no directory name to copy")
        }
        let destination = split(path)

        let connection = try agent.connect(target)
        let options = agent.callOptions
        let guest = GuestCommand(connection: connection, options: options, purpose: purpose)
        let deadline = agent.timeout.map { Deadline.after(seconds: $0) }
        // Check what can be checked before sending anything, and make the archive's file.
        let prepared = try guest.shell(
            """
            d=$1 p=$2
            command -v tar >/dev/null 2>&1 || exit 127
            if [ -d "$d" ]; then into=into
            elif [ -e "$d" ] || [ -L "$d" ]; then printf '%s: File exists and is not a directory\\n' "$d" >&2; exit 120
            elif [ ! -d "$p" ]; then printf '%s: No such directory\\n' "$p" >&2; exit 120
            else into=as; fi
            t=$(mktemp -t qga-cp.XXXXXXXXXX) || exit 121
            printf '%s\\n%s\\n' "$t" "$into"
            """, [destination.path, destination.parent], deadline: deadline)
        if prepared.code == 127 { throw noTar(connection.label) }
        guard prepared.code == 0 else {
            throw CommandFailure(code: ExitCodes.agentError, message: "cannot copy into \(destination.path) in the guest: \(prepared.said)")
        }
        let lines = prepared.stdout.split(separator: 0x0A).map { String(decoding: $0, as: UTF8.self) }
        guard lines.count == 2, let archive = GuestCommand.firstLine(prepared.stdout), ["into", "as"].contains(lines[1]) else {
            throw ClientError(.protocolViolation, "\(connection.label): the guest's mktemp printed no path")
        }
        let into = lines[1] == "into"
        // The archive holds NAME/...; tar unpacks it in the directory that gets NAME.
        let name = into ? hostName : Array(destination.name.utf8)
        let directory = into ? destination.path : destination.parent
        let final = into ? (destination.path == "/" ? "" : destination.path) + "/" + String(decoding: hostName, as: UTF8.self) : destination.path

        var notes: [String] = []
        do {
            try send(root, as: name, to: archive, connection: connection, options: options)
            let extracted = try guest.shell(
                """
                a=$1 c=$2 t=$3
                [ -e "$t" ] || [ -L "$t" ] || new=1
                tar -x -f "$a" -C "$c" && exit 0
                s=$?
                [ -z "$new" ] || rm -rf -- "$t"
                exit $s
                """, [archive, directory, final], deadline: deadline)
            if extracted.code == 127 { throw noTar(connection.label) }
            guard extracted.code == 0 else {
                throw CommandFailure(code: ExitCodes.agentError, message: "tar in the guest could not unpack into \(final): \(extracted.said)")
            }
        } catch {
            if let note = guest.removeTemporary(archive) { notes.append(note) }
            throw adding(notes, to: error)
        }
        if let note = guest.removeTemporary(archive) { Console.error("qga: " + note) }
    }

    /// The last name of a host path, following `.` and `..` to the real directory's name.
    private static func hostName(_ host: String) -> [UInt8]? {
        guard let resolved = realpath(host, nil) else { return nil }
        defer { free(resolved) }
        let name = Array(String(cString: resolved).utf8).split(separator: UInt8(ascii: "/")).last.map(Array.init)
        return name
    }

    /// Writes the archive of `root` into the guest file `archive` in chunks.
    private static func send(_ root: Int32, as name: [UInt8], to archive: String, connection: any AgentConnection, options: CallOptions) throws {
        let sizes = ChunkSizes.forConnection(throughLibvirt: connection.throughLibvirt, maxReplySize: options.maxReplySize)
        let file = try GuestFile(agent: connection, options: options, path: archive, mode: "w")
        file.depth = sizes.writeDepth
        var pending: [UInt8] = []
        var done = 0
        var progress = Progress(total: nil)
        func flush(all: Bool) throws {
            while pending.count >= sizes.write || (all && !pending.isEmpty) {
                let chunk = Array(pending.prefix(sizes.write))
                try file.write(chunk)
                pending.removeFirst(chunk.count)
                done += chunk.count
                progress.update(done)
            }
        }
        do {
            try HostTree.archive(directory: root, name: name, emit: { bytes in
                pending += bytes
                try flush(all: false)
            }, skipped: { path in
                Console.error("qga: skipped \(path): not a file, directory or symbolic link")
            })
            try flush(all: true)
            progress.finish(done)
            try file.close()
        } catch {
            file.closeQuietly()
            throw error
        }
    }

    // MARK: Guest to host

    /// Copies the guest directory `path` to the host's `host`: into `host/NAME` when `host`
    /// is a directory, else as `host`. The tree is unpacked beside its final place and
    /// renamed there only when complete; a final path that exists already is refused.
    static func download(_ agent: AgentOptions, _ target: Target, path: String, host: String) throws {
        let source = split(path)
        guard !source.name.isEmpty, source.name != ".", source.name != ".." else {
            throw CommandFailure(code: ExitCodes.usage, message: "\(path): name the directory to copy")
        }
        let final = HostSink.isDirectory(host) ? (host.hasSuffix("/") ? host : host + "/") + source.name : host
        let local = split(final)
        var existing = stat()
        if lstat(final, &existing) == 0 {
            throw CommandFailure(code: ExitCodes.operationFailed, message: "\(final) exists; qga cp -r does not copy over or into an existing tree")
        }
        let parent = retryingEINTR { open(local.parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        guard parent >= 0 else {
            throw CommandFailure(code: ExitCodes.operationFailed, message: "cannot create \(final): \(Errno(rawValue: errno))")
        }
        defer { _ = close(parent) }

        let connection = try agent.connect(target)
        let options = agent.callOptions
        let guest = GuestCommand(connection: connection, options: options, purpose: purpose)
        let packed = try guest.shell(
            """
            s=$1
            command -v tar >/dev/null 2>&1 || exit 127
            if [ ! -d "$s" ]; then
              if [ -e "$s" ]; then printf '%s: Not a directory\\n' "$s" >&2; else printf '%s: No such file or directory\\n' "$s" >&2; fi
              exit 120
            fi
            t=$(mktemp -t qga-cp.XXXXXXXXXX) || exit 121
            printf '%s\\n' "$t"
            tar -c -f "$t" -C "$s" .
            """, [source.path], deadline: agent.timeout.map { Deadline.after(seconds: $0) })
        let archive = GuestCommand.firstLine(packed.stdout)
        var notes: [String] = []
        do {
            if packed.code == 127 { throw noTar(connection.label) }
            guard packed.code == 0 else {
                throw CommandFailure(code: ExitCodes.agentError, message: "cannot archive \(source.path) in the guest: \(packed.said)")
            }
            guard let archive else { throw ClientError(.protocolViolation, "\(connection.label): the guest's mktemp printed no path") }
            try receive(archive, into: parent, final: local.name, connection: connection, options: options)
        } catch {
            if let archive, let note = guest.removeTemporary(archive) { notes.append(note) }
            throw adding(notes, to: error)
        }
        if let archive, let note = guest.removeTemporary(archive) { Console.error("qga: " + note) }
    }

    /// Reads the guest's `archive` and unpacks it into a new directory in `parent`, renamed
    /// to `final` once complete; removed on any failure.
    private static func receive(_ archive: String, into parent: Int32, final: String, connection: any AgentConnection, options: CallOptions) throws {
        var template = Array(".\(final).qga-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer -> Bool in
            guard let base = buffer.baseAddress else { return false }
            // mkdtemp takes a path; the parent's descriptor is reached through /proc.
            return mkdirTemporary(parent, base)
        }
        guard made else { throw CommandFailure(code: ExitCodes.operationFailed, message: "cannot create a directory beside \(final): \(Errno(rawValue: errno))") }
        let temporary = Array(template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) })
        do {
            let root = HostTree.withCName(temporary) { n in retryingEINTR { openat(parent, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) } }
            guard root >= 0 else { throw HostTree.hostError("cannot open", temporary) }
            defer { _ = close(root) }

            let sizes = ChunkSizes.forConnection(throughLibvirt: connection.throughLibvirt, maxReplySize: options.maxReplySize)
            let file = try GuestFile(agent: connection, options: options, path: archive, mode: "r")
            do {
                let size = try file.seek(0, "end")
                _ = try file.seek(0, "set")
                file.depth = sizes.readDepth
                var progress = Progress(total: size)
                var done = 0
                var eof = false
                let reader = Tar.Reader {
                    guard !eof else { return [] }
                    let (bytes, atEnd) = try file.read(sizes.read)
                    done += bytes.count
                    guard done <= size else {
                        throw CommandFailure(code: ExitCodes.protocolViolation, message: "the guest's archive grew during the copy")
                    }
                    progress.update(done)
                    eof = atEnd || bytes.isEmpty
                    return bytes
                }
                let extractor = HostTree.Extractor(root: root)
                do {
                    try extractor.extract(reader)
                } catch let failure as Tar.Failure {
                    throw CommandFailure(code: ExitCodes.protocolViolation, message: "the guest's archive is not usable: \(failure.message); nothing was copied")
                }
                progress.finish(done)
                try file.close()
                try extractor.finish()
            } catch {
                file.closeQuietly()
                throw error
            }
            let renamed = HostTree.withCName(temporary) { old in HostTree.withCName(Array(final.utf8)) { renameat(parent, old, parent, $0) } }
            guard renamed == 0 else { throw HostTree.hostError("cannot rename the copy to", Array(final.utf8)) }
        } catch {
            HostTree.remove(temporary, in: parent)
            throw error
        }
    }

    /// mkdtemp relative to a directory descriptor: the template's XXXXXX filled in place.
    private static func mkdirTemporary(_ parent: Int32, _ template: UnsafeMutablePointer<CChar>) -> Bool {
        let length = strlen(template)
        guard length >= 6 else { return false }
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".utf8)
        for _ in 0..<100 {
            for index in (length - 6)..<length {
                template[index] = CChar(bitPattern: alphabet[Int.random(in: 0..<alphabet.count)])
            }
            if mkdirat(parent, template, 0o700) == 0 { return true }
            if errno != EEXIST { return false }
        }
        return false
    }

    /// `error` with further notes after its own lines.
    private static func adding(_ notes: [String], to error: any Error) -> any Error {
        guard !notes.isEmpty else { return error }
        let status = ExitStatus(error)
        let strip = { (line: String) in line.hasPrefix("qga: ") ? String(line.dropFirst(5)) : line }
        return CommandFailure(code: status.code, message: status.message.map(strip), notes: status.notes.map(strip) + notes)
    }
}
