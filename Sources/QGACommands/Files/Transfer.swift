import ArgumentParser
import Glibc
import QGAClient
import QGALibvirt
import QGAProtocol
import QGASystem
import SystemPackage

/// One side of `qga cp`: a file in the guest (`TARGET:/path`), a host path, or `-`.
enum CopyEndpoint {
    case guest(Target, path: String)
    case host(String)
    /// stdin as a source, stdout as a destination.
    case standard

    /// Reads an argument: `-` is stdin or stdout; anything containing `:/` is
    /// `TARGET:/PATH`, split at the last `:/` (so that a TARGET may itself be a socket path
    /// or `unix:PATH`, and the guest path is absolute); anything else is a host path.
    static func argument(_ text: String) throws -> CopyEndpoint {
        if text == "-" { return .standard }
        let bytes = Array(text.utf8)
        guard let colon = bytes.indices.dropLast().last(where: { bytes[$0] == UInt8(ascii: ":") && bytes[$0 + 1] == UInt8(ascii: "/") }) else {
            return .host(text)
        }
        let target = String(decoding: bytes[..<colon], as: UTF8.self)
        let path = String(decoding: bytes[(colon + 1)...], as: UTF8.self)
        guard !target.isEmpty else { throw ValidationError("'\(text)': the target before ':/' is missing (TARGET:/PATH)") }
        return .guest(try Target.argument(target), path: path)
    }

    static let help = "TARGET:/PATH for a file in the guest (split at the last ':/'), a host path, or - for stdin/stdout."
}

/// How much one `guest-file-read` asks for and one `guest-file-write` carries, and how many
/// of each may be in flight at once.
struct ChunkSizes: Equatable {
    var read: Int
    var write: Int
    var readDepth = 1
    var writeDepth = 1

    /// Through libvirt a reply must fit one 4 MiB RPC string after base64 (just under 3 MiB
    /// read), and a request libvirt's 192 KiB (`LibvirtAgent.maxRequest`: 128 KiB written);
    /// libvirt takes one request at a time, and each round trip is dear, so chunks are as
    /// large as fits. A direct channel pipelines (see `GuestFile`); the sizes and depths
    /// are what measured fastest there (scripts/bench, both agents). A read's reply
    /// must also fit `--max-reply-size`.
    static func forConnection(throughLibvirt: Bool, maxReplySize: Int) -> ChunkSizes {
        var sizes = throughLibvirt
            ? ChunkSizes(read: LibvirtAgent.maxReadCount, write: 128 << 10)
            : ChunkSizes(read: ChunkSizes.direct.read, write: ChunkSizes.direct.write, readDepth: ChunkSizes.direct.readDepth, writeDepth: ChunkSizes.direct.writeDepth)
        // base64 takes 4 bytes per 3, and the reply's JSON around it a few dozen.
        let fitting = max(maxReplySize - 256, 0) / 4 * 3
        sizes.read = max(min(sizes.read, fitting), 512)
        return sizes
    }

    /// A direct channel's chunks and depths (scripts/bench's test bed, both agents).
    ///
    /// Reads: 4 of 512 KiB in flight. Four read requests are a few hundred bytes, well
    /// inside the 4 KiB qemu-ga reads at once, so it never holds part of one when it answers
    /// another (see `AgentPipeline`). Against 4 x 1 MiB they were 1.6x as fast with qgad in
    /// the guest and no slower with qemu-ga: this client parses a reply whole once it has
    /// arrived, and the guest, whose channel buffers only some 200 KiB, waits meanwhile; half
    /// the reply, half the wait.
    ///
    /// Writes: one at a time (without a sync each). With two in flight, qemu-ga 7.2 over
    /// virtio-serial drops a reply now and then (the request is carried out, its reply lost:
    /// see `AgentPipeline`), for any chunk larger than its 4 KiB read; and a write gains
    /// nothing from pipelining anyway, since the agent parses a request as it streams in,
    /// so the transfer already overlaps its work (qgad too: depth 2 or 4, 256 KiB to 1 MiB,
    /// measured no faster than one at a time).
    static let direct = ChunkSizes(read: 512 << 10, write: 1 << 20, readDepth: 4, writeDepth: 1)
}

/// An open file in the guest, read or written through `guest-file-*` in chunks. On a direct
/// channel, with a `depth`, reads and writes are pipelined: up to `depth` requests in flight,
/// replies taken in order, so at most `depth` chunks are on their way. A pipelined write
/// whose reply takes longer than `stallPatience` is waited for, never resent (a write must
/// not be applied twice), and the rest of the copy goes one request at a time.
final class GuestFile {
    let agent: any AgentConnection
    let options: CallOptions
    let path: String
    private let handle: Int
    private var closed = false
    /// How many requests may be in flight on a direct channel, taking replies by id with one
    /// sync for them all; nil: one call at a time, each with its own sync (and always
    /// through libvirt).
    var depth: Int?
    private var pipeline: AgentPipeline?
    /// The sizes of the writes in flight, oldest first.
    private var writesInFlight: [Int] = []
    /// A read in flight saw the end of the file: later reads return nothing.
    private var readEnded = false
    /// Bytes the agent confirmed writing.
    private(set) var written = 0
    /// Bytes sent in writes whose reply never came (the connection broke, a timeout): the
    /// agent may have written them or not.
    private(set) var unconfirmed = 0

    /// How long a pipelined write's reply may take before the copy stops pipelining.
    static let stallPatience: Duration = .seconds(5)

    /// Opens `path` in the guest with `mode` (`r` or `w`); the agent's refusal (a missing
    /// directory, no permission) is an error naming the path.
    init(agent: any AgentConnection, options: CallOptions, path: String, mode: String) throws {
        self.agent = agent
        self.options = options
        self.path = path
        let value: JSONValue?
        do {
            value = try agent.call("guest-file-open", arguments: ["path": .string(path), "mode": .string(mode)], options: options)
        } catch {
            guard case .agentError(let refusal) = error.code else { throw error }
            throw CommandFailure(code: ExitCodes.agentError, message: "cannot open \(path) in the guest: \(refusal.desc)")
        }
        guard let handle = value?.number?.int else {
            throw ClientError(.protocolViolation, "\(agent.label): guest-file-open returned \(value?.kindName ?? "nothing"), not a handle")
        }
        self.handle = handle
    }

    private func readRequest(_ count: Int) -> Request {
        Request("guest-file-read", arguments: ["handle": .number(JSONNumber(handle)), "count": .number(JSONNumber(count))])
    }

    private func writeRequest(_ bytes: [UInt8]) -> Request {
        Request("guest-file-write", arguments: ["handle": .number(JSONNumber(handle)), "buf-b64": .string(Base64.encode(bytes))])
    }

    /// The open pipeline, or a new one after a sync; nil when requests go one at a time.
    private func openPipeline() throws -> AgentPipeline? {
        if let pipeline { return pipeline }
        guard let depth, let session = agent as? AgentSession else { return nil }
        pipeline = try session.pipeline(options: options, depth: depth, stallPatience: GuestFile.stallPatience)
        return pipeline
    }

    /// Runs `body` on the pipeline; after a failure the pipeline is dropped without waiting
    /// for what is in flight (the next call syncs past it).
    private func piped<T>(_ body: (AgentPipeline) throws -> T) throws -> T? {
        guard let pipeline = try openPipeline() else { return nil }
        do {
            return try body(pipeline)
        } catch {
            self.pipeline = nil
            unconfirmed += writesInFlight.reduce(0, +)
            writesInFlight = []
            throw error
        }
    }

    /// Reads up to `count` bytes; the bytes and whether the agent saw the end of the file.
    /// Pipelined, every request asks for `count`: use one count per file.
    func read(_ count: Int) throws -> (bytes: [UInt8], eof: Bool) {
        if readEnded { return ([], true) }
        let piped = try piped { pipeline in
            while pipeline.inFlight < pipeline.depth { try pipeline.send(readRequest(count)) }
            return try GuestFile.value(pipeline.receive(), of: "guest-file-read")
        }
        let value = try piped ?? agent.call("guest-file-read", arguments: readRequest(count).arguments, options: options)
        guard let text = value?["buf-b64"]?.string, let bytes = Base64.decode(text), bytes.count <= count,
            value?["count"]?.number?.int == bytes.count
        else {
            throw ClientError(.protocolViolation, "\(agent.label): guest-file-read returned a malformed reply")
        }
        let eof = value?["eof"]?.bool ?? bytes.isEmpty
        if pipeline != nil, eof || bytes.isEmpty {
            readEnded = true
            try settle()
        }
        return (bytes, eof)
    }

    /// Writes all of `bytes`; a short write is an error. Pipelined, it returns once the
    /// request is sent: a failure may surface on a later call; `settle` waits for them all.
    func write(_ bytes: [UInt8]) throws {
        let sent: Void? = try piped { pipeline in
            try pipeline.send(writeRequest(bytes), makingRoom: confirmWrite)
            writesInFlight.append(bytes.count)
        }
        if sent != nil { return }
        let value: JSONValue?
        do {
            value = try agent.call("guest-file-write", arguments: writeRequest(bytes).arguments, options: options)
        } catch {
            throw unanswered(error, sent: bytes.count)
        }
        try confirm(value, sent: bytes.count)
    }

    /// Checks the reply to the oldest write in flight.
    private func confirmWrite(_ reply: Reply) throws {
        guard !writesInFlight.isEmpty else { return }
        // Out of the flight first: an error reply is an answer (nothing more is written).
        let sent = writesInFlight.removeFirst()
        let value: JSONValue?
        do {
            value = try GuestFile.value(reply, of: "guest-file-write")
        } catch {
            throw unanswered(error, sent: sent)
        }
        try confirm(value, sent: sent)
    }

    /// Counts a failed write's bytes as maybe written, unless the agent refused it (then
    /// nothing was), and returns the error to throw.
    private func unanswered(_ error: ClientError, sent: Int) -> ClientError {
        if case .agentError = error.code {} else { unconfirmed += sent }
        return error
    }

    private func confirm(_ value: JSONValue?, sent: Int) throws {
        guard let count = value?["count"]?.number?.int else {
            throw ClientError(.protocolViolation, "\(agent.label): guest-file-write returned a malformed reply")
        }
        guard count == sent else {
            throw CommandFailure(code: ExitCodes.operationFailed, message: "\(path): the guest wrote \(count) of \(sent) bytes")
        }
        written += count
    }

    /// Waits for every request in flight (a write's failure is thrown here) and ends the
    /// pipeline; the next request syncs again.
    func settle() throws {
        guard let pipeline else { return }
        defer {
            self.pipeline = nil
            unconfirmed += writesInFlight.reduce(0, +)
            writesInFlight = []
        }
        try pipeline.drain(confirmWrite)
    }

    /// A reply's value; an error reply becomes `ClientError.Code.agentError`.
    private static func value(_ reply: Reply?, of command: String) throws(ClientError) -> JSONValue? {
        switch reply?.incoming {
        case .success(let value, _): return value
        case .failure(let error, _): throw ClientError(.agentError(error), error.description)
        case .event, nil: return nil
        }
    }

    /// Moves the file position (`whence`: set or end); the new position.
    func seek(_ offset: Int, _ whence: String) throws -> Int {
        try settle()
        let value = try agent.call("guest-file-seek", arguments: ["handle": .number(JSONNumber(handle)), "offset": .number(JSONNumber(offset)), "whence": .string(whence)], options: options)
        guard let position = value?["position"]?.number?.int, position >= 0 else {
            throw ClientError(.protocolViolation, "\(agent.label): guest-file-seek returned a malformed reply")
        }
        return position
    }

    /// Closes the handle; a failure here (a write the guest could not flush) is an error.
    func close() throws {
        try close(options: options)
    }

    private func close(options: CallOptions) throws {
        guard !closed else { return }
        try settle()
        closed = true
        _ = try agent.call("guest-file-close", arguments: ["handle": .number(JSONNumber(handle))], options: options)
    }

    /// Closes the handle when a transfer failed, without waiting for what is in flight; the
    /// first error is the one to report.
    func closeQuietly() {
        pipeline = nil
        writesInFlight = []
        try? close(options: options.forCleanup)
    }
}

/// Where a copy from the guest lands: stdout, or a temporary file beside the destination
/// that is renamed over it only once every byte arrived (no partial host file).
final class HostSink {
    private let fd: FileDescriptor
    private let temporary: String?
    private let destination: String?
    private var terminal: TerminalFilter?
    /// False once stdout's reader went away.
    private(set) var open = true

    /// stdout (escaped if it is a terminal).
    init() {
        fd = FileDescriptor(rawValue: 1)
        temporary = nil
        destination = nil
        terminal = Console.isTerminal(1) ? TerminalFilter() : nil
    }

    /// A new file at `path`, or inside it if it is a directory (named after `guestPath`).
    init(path: String, guestPath: String) throws {
        var path = path
        if HostSink.isDirectory(path) {
            let name = guestPath.split(separator: "/", omittingEmptySubsequences: true).last.map(String.init) ?? ""
            guard !name.isEmpty, name != ".", name != ".." else {
                throw CommandFailure(code: ExitCodes.usage, message: "\(guestPath): no file name to copy into \(path)")
            }
            path += (path.hasSuffix("/") ? "" : "/") + name
        }
        let slash = path.utf8.lastIndex(of: UInt8(ascii: "/"))
        let directory = slash.map { String(path[..<$0]) } ?? "."
        let base = slash.map { String(path[path.index(after: $0)...]) } ?? path
        guard !base.isEmpty else { throw CommandFailure(code: ExitCodes.usage, message: "\(path): not a file name") }
        var template = Array("\(directory.isEmpty ? "/" : directory)/.\(base).qga-XXXXXX".utf8CString)
        let raw = template.withUnsafeMutableBufferPointer { buffer -> Int32 in
            guard let name = buffer.baseAddress else { return -1 }
            return retryingEINTR { mkstemp(name) }
        }
        guard raw >= 0 else {
            throw CommandFailure(code: ExitCodes.operationFailed, message: "cannot create a file in \(directory.isEmpty ? "/" : directory): \(Errno(rawValue: errno))")
        }
        // mkstemp makes the file 0600; a copy gets the usual 0666 less the umask.
        let mask = umask(0o022)
        umask(mask)
        fchmod(raw, 0o666 & ~mask)
        fd = FileDescriptor(rawValue: raw)
        temporary = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        destination = path
    }

    func write(_ bytes: [UInt8]) throws {
        guard open else { return }
        if temporary == nil {
            open = try Console.out(terminal?.filter(bytes) ?? bytes)
            return
        }
        do {
            try fd.writeFully(bytes)
        } catch {
            throw CommandFailure(code: ExitCodes.operationFailed, message: "cannot write \(destination ?? "the output"): \(error.errno)")
        }
    }

    /// Puts the file in place (after syncing it); for stdout, flushes what the filter holds.
    func commit() throws {
        guard let temporary, let destination else {
            if let rest = terminal?.finish(), open { open = try Console.out(rest) }
            return
        }
        let synced = fsync(fd.rawValue) == 0 ? 0 : errno
        let closed = Glibc.close(fd.rawValue) == 0 ? 0 : errno
        let failure = synced != 0 ? synced : closed
        guard failure == 0, rename(temporary, destination) == 0 else {
            let code = failure != 0 ? failure : errno
            unlink(temporary)
            throw CommandFailure(code: ExitCodes.operationFailed, message: "cannot write \(destination): \(Errno(rawValue: code))")
        }
    }

    /// Removes the temporary file after a failure.
    func discard() {
        guard let temporary else { return }
        _ = Glibc.close(fd.rawValue)
        unlink(temporary)
    }

    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }
}

/// Where a copy into the guest comes from: stdin or a host file, read in whole chunks.
final class HostSource {
    private let fd: FileDescriptor
    private let owned: Bool
    /// The size of a regular file, for the progress line.
    let size: Int?

    init(path: String?) throws {
        guard let path else {
            fd = FileDescriptor(rawValue: 0)
            owned = false
            size = nil
            return
        }
        let raw = retryingEINTR { Glibc.open(path, O_RDONLY | O_CLOEXEC) }
        guard raw >= 0 else {
            throw CommandFailure(code: ExitCodes.operationFailed, message: "cannot open \(path): \(Errno(rawValue: errno))")
        }
        var info = stat()
        fstat(raw, &info)
        if (info.st_mode & S_IFMT) == S_IFDIR {
            _ = Glibc.close(raw)
            throw CommandFailure(code: ExitCodes.usage, message: "\(path) is a directory; copy it with -r")
        }
        fd = FileDescriptor(rawValue: raw)
        owned = true
        size = (info.st_mode & S_IFMT) == S_IFREG ? Int(info.st_size) : nil
    }

    deinit { if owned { _ = Glibc.close(fd.rawValue) } }

    /// Up to `count` bytes; fewer only at the end of the input.
    func read(_ count: Int) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let n = try buffer.withUnsafeMutableBytes { (raw) throws(SystemError) -> Int in
                try fd.readAvailable(into: UnsafeMutableRawBufferPointer(rebasing: raw[filled...])) ?? 0
            }
            if n == 0 { break }
            filled += n
        }
        buffer.removeLast(count - filled)
        return buffer
    }
}

/// Guest bytes on their way to a terminal: tabs and line breaks pass, every other control
/// character (and bidirectional control) is shown escaped, so the guest cannot act on the
/// terminal. A UTF-8 sequence split between chunks is held until the next one.
struct TerminalFilter {
    private var carry: [UInt8] = []

    mutating func filter(_ bytes: [UInt8]) -> [UInt8] {
        var input = carry + bytes
        carry = []
        // Hold back a trailing sequence that is not complete yet.
        for back in 1...3 where input.count >= back {
            let byte = input[input.count - back]
            let length = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC0 ? 2 : 0
            if length > back {
                carry = Array(input.suffix(back))
                input.removeLast(back)
                break
            }
            if byte < 0x80 || byte >= 0xC0 { break }
        }
        return TerminalFilter.escape(input)
    }

    mutating func finish() -> [UInt8] {
        defer { carry = [] }
        return TerminalFilter.escape(carry)
    }

    private static func escape(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        for scalar in String(decoding: bytes, as: UTF8.self).unicodeScalars {
            if scalar == "\n" || scalar == "\t" || !JSONPrinter.isUnsafe(scalar) {
                out.append(contentsOf: String(scalar).utf8)
            } else {
                JSONPrinter.writeEscapingUnsafe(String(scalar), into: &out)
            }
        }
        return out
    }
}

/// The progress line on stderr while a copy runs (size, rate, ETA), redrawn at most ten
/// times a second; nothing when stderr is not a terminal.
struct Progress {
    private let enabled: Bool
    private let total: Int?
    private let clock = ContinuousClock()
    private let start: ContinuousClock.Instant
    private var drawn: ContinuousClock.Instant?

    init(total: Int?, enabled: Bool = Console.isTerminal(2)) {
        self.enabled = enabled
        self.total = total
        start = clock.now
    }

    mutating func update(_ done: Int) {
        guard enabled else { return }
        let now = clock.now
        if let drawn, now - drawn < .milliseconds(100) { return }
        drawn = now
        draw(done, now: now)
    }

    /// Draws the final figures and ends the line.
    mutating func finish(_ done: Int) {
        guard enabled, drawn != nil || (clock.now - start) > .milliseconds(100) else { return }
        draw(done, now: clock.now)
        _ = try? FileDescriptor(rawValue: 2).writeFully(Array("\n".utf8))
    }

    private func draw(_ done: Int, now: ContinuousClock.Instant) {
        let seconds = max((now - start).inSeconds, 0.001)
        let rate = Double(done) / seconds
        var line = "\r\u{1B}[K" + Progress.size(done)
        if let total, total > 0 {
            line += " / " + Progress.size(total) + " (\(Int(min(Double(done) / Double(total), 1) * 100))%)"
        }
        line += "  " + Progress.size(Int(rate)) + "/s"
        if let total, total > done, rate > 0 {
            let left = Int((Double(total - done) / rate).rounded(.up))
            line += "  ETA \(left / 60):" + (left % 60 < 10 ? "0" : "") + "\(left % 60)"
        }
        _ = try? FileDescriptor(rawValue: 2).writeFully(Array(line.utf8))
    }

    /// 1.5 MiB, 20.0 KiB, 512 B.
    static func size(_ bytes: Int) -> String {
        for (shift, unit) in [(30, "GiB"), (20, "MiB"), (10, "KiB")] where bytes >= 1 << shift {
            let tenths = Int((Double(bytes) / Double(1 << shift) * 10).rounded())
            return "\(tenths / 10).\(tenths % 10) \(unit)"
        }
        return "\(bytes) B"
    }
}

/// The two directions of a copy, shared by `qga cp` and `qga cat`.
enum FileTransfer {
    /// Copies the guest's `path` into `sink`; the sink is committed only when every byte
    /// arrived and the count matches the file's size, and discarded otherwise.
    static func download(_ agent: AgentOptions, _ target: Target, path: String, into sink: HostSink, progress showProgress: Bool) throws {
        do {
            let connection = try agent.connect(target)
            let options = agent.callOptions
            let sizes = ChunkSizes.forConnection(throughLibvirt: connection.throughLibvirt, maxReplySize: options.maxReplySize)
            let file = try GuestFile(agent: connection, options: options, path: path, mode: "r")
            do {
                // A pipe or device cannot seek: then there is no size to show or check. Only
                // a file with a size reads ahead (a read past the end of a pipe could block).
                let size = try? file.seek(0, "end")
                if let size {
                    _ = try file.seek(0, "set")
                    if size > 0 { file.depth = sizes.readDepth }
                }
                var progress = Progress(total: size, enabled: showProgress && Console.isTerminal(2))
                var done = 0
                while sink.open {
                    let (bytes, eof) = try file.read(sizes.read)
                    try sink.write(bytes)
                    done += bytes.count
                    progress.update(done)
                    if eof || bytes.isEmpty { break }
                }
                progress.finish(done)
                // Files in /proc and /sys report 0 bytes and have content.
                if sink.open, let size, size > 0, size != done {
                    throw CommandFailure(code: ExitCodes.operationFailed, message: "\(path) changed during the copy: \(done) bytes read, the guest reported \(size)")
                }
                try file.close()
            } catch {
                file.closeQuietly()
                throw error
            }
            try sink.commit()
        } catch {
            sink.discard()
            throw error
        }
    }

    /// Copies `source` into the guest's `path` (created or truncated). On failure the guest
    /// file is closed and, if it was opened, removed through guest-exec; reported as left
    /// partial when that cannot be done. The open created or emptied the file, so removing it
    /// loses nothing of an earlier file that the failed copy had not already lost; what is
    /// not a regular file by then (a link, a device) is left alone and reported.
    static func upload(from source: HostSource, _ agent: AgentOptions, _ target: Target, path: String) throws {
        let connection = try agent.connect(target)
        let options = agent.callOptions
        let sizes = ChunkSizes.forConnection(throughLibvirt: connection.throughLibvirt, maxReplySize: options.maxReplySize)
        let file = try GuestFile(agent: connection, options: options, path: path, mode: "w")
        file.depth = sizes.writeDepth
        var done = 0
        do {
            var progress = Progress(total: source.size)
            while true {
                let bytes = try source.read(sizes.write)
                if bytes.isEmpty { break }
                try file.write(bytes)
                done += bytes.count
                progress.update(done)
            }
            try file.settle()
            progress.finish(done)
            let size = try file.seek(0, "end")
            guard size == done else {
                throw CommandFailure(code: ExitCodes.operationFailed, message: "\(path) in the guest has \(size) bytes after the copy, \(done) were sent")
            }
            try file.close()
        } catch {
            file.closeQuietly()
            var status = ExitStatus(error)
            if !GuestCommand(connection: connection, options: options.forCleanup, purpose: "qga cp").removeFile(path) {
                let written = file.unconfirmed == 0 ? "\(file.written)" : "between \(file.written) and \(file.written + file.unconfirmed)"
                status.notes.append("qga: \(path) in the guest is left partial (\(written) bytes written); remove it")
            }
            throw CommandFailure(code: status.code, message: status.message.map(withoutPrefix), notes: status.notes.map(withoutPrefix))
        }
    }

    private static func withoutPrefix(_ line: String) -> String {
        line.hasPrefix("qga: ") ? String(line.dropFirst(5)) : line
    }
}
